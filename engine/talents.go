package engine

import (
	"fmt"
	"strconv"
	"strings"

	hd "wowlab/engine/hunterdata"
	"wowlab/engine/rotation"
)

// talentID names a talent whose effect the engine simulates. Every other
// talent of the trees (utility, defensives) is accepted in a config and
// changes nothing.
type talentID uint8

const (
	noTalent talentID = iota
	// class tree
	tDeathblow
	tSpecializedArsenal
	tKeenEyesight
	tSerratedTips
	tUnnaturalCauses
	tTriggerFinger
	tExplosiveShot
	tBlackrockMunitions
	// beast mastery
	tCobraShot
	tBarbedShot
	tAnimalCompanion
	tSolitaryCompanion
	tPackTactics
	tAspectOfTheBeast
	tWarOrders
	tThrillOfTheHunt
	tGoForTheThroat
	tMultiShotBM
	tLaceration
	tSnakeskinQuiver
	tCobraSenses
	tAlphaPredator
	tBeastCleave
	tTrainingExpert
	tHuntersPrey
	tStomp
	tMasterHandler
	tKillCleave
	tWildCall
	tDireBeast
	tSavagery
	tBloodshed
	tBarbedScales
	tBestialWrath
	tPoisonedBarbs
	tDireCommand
	tDireCleave
	tKillerInstinct
	tSerpentineRhythm
	tBarbedWrath
	tThunderingHooves
	tDireFrenzy
	tCallOfTheWild
	tKillerCobra
	tScentOfBlood
	tBrutalCompanion
	tHuntmastersCall
	tBloodyFrenzy
	tWildInstincts
	tPiercingFangs
	tWildspeaker
	// marksmanship
	tRapidFire
	tPreciseShots
	tStreamline
	tLockAndLoad
	tAmmoConservation
	tPenetratingShots
	tAvianSpecialization
	tUnbreakableBond
	tTrickShots
	tAspectOfTheHydra
	tInTheRhythm
	tSurgingShots
	tMasterMarksman
	tLightAmmo
	tImprovedDeathblow
	tObsidianArrowhead
	tOnTarget
	tTrueshot
	tMovingTarget
	tPrecisionDetonation
	tRazorFragments
	tHeadshot
	tDeadeye
	tNoScope
	tFeatheredFrenzy
	tTargetAcquisition
	tShrapnelShot
	tMagneticGunpowder
	tUnmatchedPrecision
	tBullseye
	tCallingTheShots
	tUnerringVision
	tSmallGameHunter
	tEaglesAccuracy
	tImprovedStreamline
	tFocusedAim
	tBulletstorm
	tTensileBowstring
	tVolley
	tOhnahranWinds
	tWindrunnerQuiver
	tIncendiaryAmmunition
	tDoubleTap
	tKillZone
	tSalvo
	tBulletHell
	// Pack Leader
	tHowlOfThePackLeader
	tPackMentality
	tDireSummons
	tBetterTogether
	tUrsineFury
	tFuryOfTheWyvern
	tHogstrider
	tNoMercy
	tLeadFromTheFront
	// Dark Ranger
	tBlackArrow
	tBleakArrows
	tTheBellTolls
	tBleakPowder
	tPhantomPain
	tEbonBowstring
	tShadowHounds
	tSoulDrinker
	tBansheesMark
	tUmbralReach
	tWitheringFire
	// Sentinel
	tSentinel
	tExtrapolatedShots
	tSentinelPrecision
	tReleaseAndReload
	tInvigoratingPulse
	tSentinelWatch
	tEyesClosed
	tSymphonicArsenal
	tOverwatch
	tCrescentSteel
	tLunarStorm
	numTalents
)

// talentNames maps each simulated talent to its config name, which is the
// name of a talent entry of package hunterdata (a test checks every one).
var talentNames = [numTalents]string{
	tDeathblow: "deathblow", tSpecializedArsenal: "specialized_arsenal", tKeenEyesight: "keen_eyesight",
	tSerratedTips: "serrated_tips", tUnnaturalCauses: "unnatural_causes", tTriggerFinger: "trigger_finger",
	tExplosiveShot: "explosive_shot", tBlackrockMunitions: "blackrock_munitions",
	tCobraShot: "cobra_shot", tBarbedShot: "barbed_shot", tAnimalCompanion: "animal_companion",
	tSolitaryCompanion: "solitary_companion", tPackTactics: "pack_tactics", tAspectOfTheBeast: "aspect_of_the_beast",
	tWarOrders: "war_orders", tThrillOfTheHunt: "thrill_of_the_hunt", tGoForTheThroat: "go_for_the_throat",
	tMultiShotBM: "multi_shot", tLaceration: "laceration", tSnakeskinQuiver: "snakeskin_quiver",
	tCobraSenses: "cobra_senses", tAlphaPredator: "alpha_predator", tBeastCleave: "beast_cleave",
	tTrainingExpert: "training_expert", tHuntersPrey: "hunters_prey", tStomp: "stomp",
	tMasterHandler: "master_handler", tKillCleave: "kill_cleave", tWildCall: "wild_call", tDireBeast: "dire_beast",
	tSavagery: "savagery", tBloodshed: "bloodshed", tBarbedScales: "barbed_scales", tBestialWrath: "bestial_wrath",
	tPoisonedBarbs: "poisoned_barbs", tDireCommand: "dire_command", tDireCleave: "dire_cleave",
	tKillerInstinct: "killer_instinct", tSerpentineRhythm: "serpentine_rhythm", tBarbedWrath: "barbed_wrath",
	tThunderingHooves: "thundering_hooves", tDireFrenzy: "dire_frenzy", tCallOfTheWild: "call_of_the_wild",
	tKillerCobra: "killer_cobra", tScentOfBlood: "scent_of_blood", tBrutalCompanion: "brutal_companion",
	tHuntmastersCall: "huntmasters_call", tBloodyFrenzy: "bloody_frenzy", tWildInstincts: "wild_instincts",
	tPiercingFangs: "piercing_fangs", tWildspeaker: "wildspeaker",
	tRapidFire: "rapid_fire", tPreciseShots: "precise_shots", tStreamline: "streamline", tLockAndLoad: "lock_and_load",
	tAmmoConservation: "ammo_conservation", tPenetratingShots: "penetrating_shots",
	tAvianSpecialization: "avian_specialization", tUnbreakableBond: "unbreakable_bond", tTrickShots: "trick_shots",
	tAspectOfTheHydra: "aspect_of_the_hydra", tInTheRhythm: "in_the_rhythm", tSurgingShots: "surging_shots",
	tMasterMarksman: "master_marksman", tLightAmmo: "light_ammo", tImprovedDeathblow: "improved_deathblow",
	tObsidianArrowhead: "obsidian_arrowhead", tOnTarget: "on_target", tTrueshot: "trueshot",
	tMovingTarget: "moving_target", tPrecisionDetonation: "precision_detonation", tRazorFragments: "razor_fragments",
	tHeadshot: "headshot", tDeadeye: "deadeye", tNoScope: "no_scope", tFeatheredFrenzy: "feathered_frenzy",
	tTargetAcquisition: "target_acquisition", tShrapnelShot: "shrapnel_shot", tMagneticGunpowder: "magnetic_gunpowder",
	tUnmatchedPrecision: "unmatched_precision", tBullseye: "bullseye", tCallingTheShots: "calling_the_shots",
	tUnerringVision: "unerring_vision", tSmallGameHunter: "small_game_hunter", tEaglesAccuracy: "eagles_accuracy",
	tImprovedStreamline: "improved_streamline", tFocusedAim: "focused_aim", tBulletstorm: "bulletstorm",
	tTensileBowstring: "tensile_bowstring", tVolley: "volley", tOhnahranWinds: "ohnahran_winds",
	tWindrunnerQuiver: "windrunner_quiver", tIncendiaryAmmunition: "incendiary_ammunition", tDoubleTap: "double_tap",
	tKillZone: "kill_zone", tSalvo: "salvo", tBulletHell: "bullet_hell",
	tHowlOfThePackLeader: "howl_of_the_pack_leader", tPackMentality: "pack_mentality", tDireSummons: "dire_summons",
	tBetterTogether: "better_together", tUrsineFury: "ursine_fury", tFuryOfTheWyvern: "fury_of_the_wyvern",
	tHogstrider: "hogstrider", tNoMercy: "no_mercy", tLeadFromTheFront: "lead_from_the_front",
	tBlackArrow: "black_arrow", tBleakArrows: "bleak_arrows", tTheBellTolls: "the_bell_tolls",
	tBleakPowder: "bleak_powder", tPhantomPain: "phantom_pain", tEbonBowstring: "ebon_bowstring",
	tShadowHounds: "shadow_hounds", tSoulDrinker: "soul_drinker", tBansheesMark: "banshees_mark",
	tUmbralReach: "umbral_reach", tWitheringFire: "withering_fire",
	tSentinel: "sentinel", tExtrapolatedShots: "extrapolated_shots", tSentinelPrecision: "sentinel_precision",
	tReleaseAndReload: "release_and_reload", tInvigoratingPulse: "invigorating_pulse",
	tSentinelWatch: "sentinel_watch", tEyesClosed: "eyes_closed", tSymphonicArsenal: "symphonic_arsenal",
	tOverwatch: "overwatch", tCrescentSteel: "crescent_steel", tLunarStorm: "lunar_storm",
}

// heroEntryOf is the free first talent of a hero tree.
func heroEntryOf(t hd.Tree) talentID {
	switch t {
	case hd.HeroPackLeader:
		return tHowlOfThePackLeader
	case hd.HeroDarkRanger:
		return tBlackArrow
	case hd.HeroSentinel:
		return tSentinel
	}
	return noTalent
}

// talentEntries returns the talent entries of package hunterdata a spec can
// take, and the engine talent each one is (noTalent: no simulated effect).
func talentEntries(spec specMask) ([]hd.Talent, []talentID) {
	var ts []hd.Talent
	var ids []talentID
	for _, t := range hd.Talents() {
		if t.Specs&spec == 0 {
			continue
		}
		ts = append(ts, t)
		id := noTalent
		for i, n := range talentNames {
			if n != "" && n == t.Name {
				id = talentID(i)
			}
		}
		ids = append(ids, id)
	}
	return ts, ids
}

// setTalents reads player.talents: each entry is a talent name, optionally
// with ":rank". A hero talent selects its hero tree and grants the tree's
// first talent; talents of two hero trees are an error.
func (s *Sim) setTalents() error {
	entries, ids := talentEntries(s.spec)
	names := make([]string, len(entries))
	for i, t := range entries {
		names[i] = t.Name
	}
	for i, raw := range s.cfg.Player.Talents {
		path := fmt.Sprintf("player.talents[%d]", i)
		name, rankText, hasRank := strings.Cut(strings.ToLower(strings.TrimSpace(raw)), ":")
		name = strings.TrimSpace(name)
		found := -1
		for j, t := range entries {
			if t.Name == name {
				found = j
				break
			}
		}
		if found < 0 {
			for _, t := range hd.Talents() {
				if t.Name == name {
					return &ConfigError{Path: path, Msg: fmt.Sprintf("talent %q is not a %s talent", name, s.specName)}
				}
			}
			return &ConfigError{Path: path, Msg: (&rotation.UnknownNameError{Kind: "talent", Name: raw, Candidates: names}).Error()}
		}
		t := entries[found]
		rank := t.MaxRank
		if hasRank {
			n, err := strconv.Atoi(strings.TrimSpace(rankText))
			if err != nil || n < 0 || n > t.MaxRank {
				return &ConfigError{Path: path, Msg: fmt.Sprintf("talent %s has ranks 0 to %d, got %q", name, t.MaxRank, rankText)}
			}
			rank = n
		}
		if rank == 0 {
			continue
		}
		s.pickedNames = append(s.pickedNames, t.Name)
		if t.Tree.Hero() {
			if s.hero != 0 && s.hero != t.Tree {
				return &ConfigError{Path: path, Msg: fmt.Sprintf("talent %s is a %s hero talent, but the config already has %s hero talents: choose one hero tree", name, t.Tree, s.hero)}
			}
			s.hero = t.Tree
		}
		if id := ids[found]; id != noTalent {
			s.rank[id] = int8(rank)
		}
	}
	if s.hero != 0 {
		entry := heroEntryOf(s.hero)
		s.rank[entry] = 1
		s.pickedNames = append(s.pickedNames, talentNames[entry])
	}
	return nil
}

// picked reports whether a talent entry of this name is selected.
func (s *Sim) picked(name string) bool {
	for _, n := range s.pickedNames {
		if n == name {
			return true
		}
	}
	return false
}

// has reports whether talent t is selected.
func (s *Sim) has(t talentID) bool { return s.rank[t] > 0 }

// ranks returns the selected ranks of t as a fraction of its maximum (the
// data's values are those of the last rank).
func (s *Sim) rankShare(t talentID, max int8) float64 { return float64(s.rank[t]) / float64(max) }
