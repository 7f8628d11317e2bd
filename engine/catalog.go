// This file is what `engine specs` shows of the engine's content: the
// patch, the sources, and per spec the spells, damage lines, auras,
// talents and set bonuses with their spell ids.

package engine

import (
	"slices"

	hd "wowlab/engine/hunterdata"
)

// Patch is the game version the engine's data describes.
func Patch() string { return hd.Patch }

// SourceInfo is one public source the data cites.
type SourceInfo struct {
	Key         string
	Description string
}

// Sources lists the sources the data's numbers come from.
func Sources() []SourceInfo {
	var out []SourceInfo
	for _, k := range hd.SourceKeys() {
		out = append(out, SourceInfo{k, hd.Source(k)})
	}
	return out
}

// sourceOf is the source key of spell id's numbers.
func sourceOf(id int) string {
	if sp := hd.Lookup(id); sp != nil {
		return sp.Src
	}
	return ""
}

// LineInfo describes a line of the damage breakdown.
type LineInfo struct {
	Name    string
	Actor   string // player, pet or guardian
	SpellID int    // 0 for auto attacks
	School  string
	Source  string // the source key of the spell's numbers
}

// Lines lists the breakdown lines of the spec's damage.
func (s Spec) Lines() []LineInfo {
	var out []LineInfo
	for ab := range numAbilities {
		a := abilities[ab]
		if !lineOf(ab, s.mask) {
			continue
		}
		out = append(out, LineInfo{a.name, a.actor.String(), a.gameID, a.school.String(), sourceOf(a.gameID)})
	}
	return out
}

// lineOf reports whether breakdown line ab can appear for spec.
func lineOf(ab abilityID, spec specMask) bool {
	bmOnly := []abilityID{abKillCommand, abBarbedShot, abCobraShot, abBestialWrath, abCallOfTheWild, abBloodshed,
		abPetClaw, abPetKillCommand, abPetBestialWrath, abPetStomp, abBloodshedBleed, abBeastCleave, abKillCleave,
		abLaceration, abPoisonedBarbs, abCompanionMelee, abCompanionKillCommand, abCallOfTheWildMelee, abDireBeastMelee,
		abDireBeastKillCommand, abHatiMelee, abFenryrMelee, abRavenousLeap, abBearMelee, abRendFlesh, abBoarCharge, abStampede}
	mmOnly := []abilityID{abAimedShot, abRapidFire, abArcaneShot, abSteadyShot, abTrueshot, abVolley, abMasterMarksman,
		abRazorFragments, abSentinel, abSymphonicArsenal, abLunarStorm}
	switch {
	case slices.Contains(bmOnly, ab):
		return spec&bm != 0
	case slices.Contains(mmOnly, ab):
		return spec&mm != 0
	}
	return true
}

// AuraInfo describes an aura a rotation can look at.
type AuraInfo struct {
	Name    string
	SpellID int
	On      string // player, pet or target
	Source  string
}

// Auras lists the auras of the engine (every spec's; a spec without the
// talent never has it).
func Auras() []AuraInfo {
	var out []AuraInfo
	for _, a := range auras[:numAuras] {
		on := "player"
		if a.pet {
			on = "pet"
		} else if a.debuff {
			on = "target"
		}
		out = append(out, AuraInfo{a.name, a.gameID, on, sourceOf(a.gameID)})
	}
	return out
}

// SetBonus is a bonus of The War Within Season 3 set (player.tier_set),
// which belongs to the hero tree of the talents.
type SetBonus struct {
	Hero    string // the hero tree
	Pieces  int
	SpellID int
	Effect  string
	Source  string
}

// setBonuses are the Season 3 hunter set bonuses the engine simulates.
var setBonuses = []struct {
	hero   hd.Tree
	pieces int
	id     int
	specs  specMask
}{
	{hd.HeroPackLeader, 2, 1236372, bm}, {hd.HeroPackLeader, 4, 1236373, bm},
	{hd.HeroDarkRanger, 2, 1236370, bm | mm}, {hd.HeroDarkRanger, 4, 1236371, bm | mm},
	{hd.HeroSentinel, 2, 1236374, mm}, {hd.HeroSentinel, 4, 1236375, mm},
}

// SetBonuses lists the spec's set bonuses.
func (s Spec) SetBonuses() []SetBonus {
	var out []SetBonus
	for _, b := range setBonuses {
		if b.specs&s.mask == 0 {
			continue
		}
		sp := hd.Get(b.id)
		out = append(out, SetBonus{b.hero.String(), b.pieces, b.id, sp.Note, sp.Src})
	}
	return out
}
