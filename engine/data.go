// This file names what the engine simulates: the spells a rotation casts,
// the auras it reads, the lines of the damage breakdown and the talents
// that change damage. The numbers live in package hunterdata; here is only
// which game spell each name stands for.

package engine

import hd "wowlab/engine/hunterdata"

type specMask = hd.SpecMask

const (
	bm = hd.BM
	mm = hd.MM
)

// spellID names a spell the rotation can cast.
type spellID uint8

const (
	spKillCommand spellID = iota
	spBarbedShot
	spCobraShot
	spMultiShot
	spKillShot
	spBlackArrow
	spBestialWrath
	spCallOfTheWild
	spBloodshed
	spExplosiveShot
	spAimedShot
	spRapidFire
	spArcaneShot
	spSteadyShot
	spTrueshot
	spVolley
	numSpells
)

// castable is one castable spell: its config name, the game spell it is,
// the specs that have it and the talent that teaches it (noTalent: known
// without one).
type castable struct {
	name    string
	gameID  int
	specs   specMask
	talent  talentID
	hasted  bool // haste shortens the cooldown (137014, 137016 #7)
	offGCD  bool
	ability abilityID // the breakdown line its casts are counted on
}

var castables = [numSpells]castable{
	spKillCommand:   {"kill_command", 34026, bm, noTalent, true, false, abKillCommand},
	spBarbedShot:    {"barbed_shot", 217200, bm, tBarbedShot, true, false, abBarbedShot},
	spCobraShot:     {"cobra_shot", 193455, bm, tCobraShot, false, false, abCobraShot},
	spMultiShot:     {"multi_shot", 2643, bm | mm, noTalent, false, false, abMultiShot},
	spKillShot:      {"kill_shot", 53351, bm | mm, noTalent, false, false, abKillShot},
	spBlackArrow:    {"black_arrow", 466930, bm | mm, tBlackArrow, false, false, abBlackArrow},
	spBestialWrath:  {"bestial_wrath", 19574, bm, tBestialWrath, false, false, abBestialWrath},
	spCallOfTheWild: {"call_of_the_wild", 359844, bm, tCallOfTheWild, false, false, abCallOfTheWild},
	spBloodshed:     {"bloodshed", 321530, bm, tBloodshed, true, false, abBloodshed},
	spExplosiveShot: {"explosive_shot", 212431, bm | mm, tExplosiveShot, false, false, abExplosiveShot},
	spAimedShot:     {"aimed_shot", 19434, mm, noTalent, true, false, abAimedShot},
	spRapidFire:     {"rapid_fire", 257044, mm, tRapidFire, false, false, abRapidFire},
	spArcaneShot:    {"arcane_shot", 185358, mm, noTalent, false, false, abArcaneShot},
	spSteadyShot:    {"steady_shot", 56641, mm, noTalent, false, false, abSteadyShot},
	spTrueshot:      {"trueshot", 288613, mm, tTrueshot, false, true, abTrueshot},
	spVolley:        {"volley", 260243, mm, tVolley, false, false, abVolley},
}

// actor is who deals a breakdown line's damage.
type actor uint8

const (
	actPlayer   actor = iota
	actPet            // the main pet, the Animal Companion, Call of the Wild's pets
	actGuardian       // Dire Beasts, Hati, Fenryr, the Bear, Dark Hounds
)

func (a actor) String() string {
	switch a {
	case actPet:
		return "pet"
	case actGuardian:
		return "guardian"
	}
	return "player"
}

// abilityID names a line of the damage and cast breakdown.
type abilityID uint8

const (
	abAutoShot abilityID = iota
	abKillCommand
	abBarbedShot
	abCobraShot
	abMultiShot
	abKillShot
	abBlackArrow
	abBlackArrowDot
	abWitheringFire
	abBestialWrath
	abCallOfTheWild
	abBloodshed
	abExplosiveShot
	abAimedShot
	abRapidFire
	abArcaneShot
	abSteadyShot
	abTrueshot
	abVolley
	abPetMelee
	abPetClaw
	abPetKillCommand
	abPetBestialWrath
	abPetStomp
	abBloodshedBleed
	abBeastCleave
	abKillCleave
	abLaceration
	abPoisonedBarbs
	abCompanionMelee
	abCompanionKillCommand
	abCallOfTheWildMelee
	abDireBeastMelee
	abDireBeastKillCommand
	abHatiMelee
	abFenryrMelee
	abRavenousLeap
	abBearMelee
	abRendFlesh
	abBoarCharge
	abStampede
	abBleakPowder
	abMurderOfCrows
	abPhantomPain
	abDarkHoundMelee
	abMasterMarksman
	abRazorFragments
	abSentinel
	abSymphonicArsenal
	abLunarStorm
	numAbilities
)

// idSpace is the length of the tables indexed by an id: every id type is a
// uint8, so indexing a table this long needs no bounds check.
const idSpace = 256

// abTotals is what one breakdown line did in one iteration.
type abTotals struct {
	dmg                float64
	casts, hits, crits int32
}

type abilityInfo struct {
	name   string
	actor  actor
	gameID int
	school hd.School
}

var abilities = [numAbilities]abilityInfo{
	abAutoShot:             {"auto_shot", actPlayer, 75, hd.Physical},
	abKillCommand:          {"kill_command", actPlayer, 34026, hd.Physical},
	abBarbedShot:           {"barbed_shot", actPlayer, 217200, hd.Physical},
	abCobraShot:            {"cobra_shot", actPlayer, 193455, hd.Physical},
	abMultiShot:            {"multi_shot", actPlayer, 2643, hd.Physical},
	abKillShot:             {"kill_shot", actPlayer, 53351, hd.Physical},
	abBlackArrow:           {"black_arrow", actPlayer, 466930, hd.Shadow},
	abBlackArrowDot:        {"black_arrow_dot", actPlayer, 468572, hd.Shadow},
	abWitheringFire:        {"black_arrow_withering_fire", actPlayer, 468037, hd.Shadow},
	abBestialWrath:         {"bestial_wrath", actPlayer, 19574, hd.Physical},
	abCallOfTheWild:        {"call_of_the_wild", actPlayer, 359844, hd.Physical},
	abBloodshed:            {"bloodshed", actPlayer, 321530, hd.Physical},
	abExplosiveShot:        {"explosive_shot", actPlayer, 212680, hd.Fire},
	abAimedShot:            {"aimed_shot", actPlayer, 19434, hd.Physical},
	abRapidFire:            {"rapid_fire", actPlayer, 257045, hd.Physical},
	abArcaneShot:           {"arcane_shot", actPlayer, 185358, hd.Arcane},
	abSteadyShot:           {"steady_shot", actPlayer, 56641, hd.Physical},
	abTrueshot:             {"trueshot", actPlayer, 288613, hd.Physical},
	abVolley:               {"volley", actPlayer, 260247, hd.Physical},
	abPetMelee:             {"pet_melee", actPet, 0, hd.Physical},
	abPetClaw:              {"pet_claw", actPet, 16827, hd.Physical},
	abPetKillCommand:       {"pet_kill_command", actPet, 83381, hd.Physical},
	abPetBestialWrath:      {"pet_bestial_wrath", actPet, 344572, hd.Physical},
	abPetStomp:             {"stomp", actPet, 1217528, hd.Physical},
	abBloodshedBleed:       {"bloodshed_bleed", actPet, 321538, hd.Physical},
	abBeastCleave:          {"beast_cleave", actPet, 118459, hd.Physical},
	abKillCleave:           {"kill_cleave", actPet, 389448, hd.Physical},
	abLaceration:           {"laceration", actPlayer, 459560, hd.Physical},
	abPoisonedBarbs:        {"poisoned_barbs", actPlayer, 1217549, hd.Nature},
	abCompanionMelee:       {"companion_melee", actPet, 0, hd.Physical},
	abCompanionKillCommand: {"companion_kill_command", actPet, 83381, hd.Physical},
	abCallOfTheWildMelee:   {"call_of_the_wild_melee", actPet, 0, hd.Physical},
	abDireBeastMelee:       {"dire_beast_melee", actGuardian, 0, hd.Physical},
	abDireBeastKillCommand: {"dire_beast_kill_command", actGuardian, 1232922, hd.Physical},
	abHatiMelee:            {"hati_melee", actGuardian, 459738, hd.Physical},
	abFenryrMelee:          {"fenryr_melee", actGuardian, 459735, hd.Physical},
	abRavenousLeap:         {"ravenous_leap", actGuardian, 459753, hd.Physical},
	abBearMelee:            {"bear_melee", actGuardian, 471993, hd.Physical},
	abRendFlesh:            {"rend_flesh", actGuardian, 471999, hd.Physical},
	abBoarCharge:           {"boar_charge", actPlayer, 471936, hd.Physical},
	abStampede:             {"stampede", actPlayer, 201594, hd.Physical},
	abBleakPowder:          {"bleak_powder", actPlayer, 472084, hd.Shadow},
	abMurderOfCrows:        {"a_murder_of_crows", actPlayer, 131900, hd.Physical},
	abPhantomPain:          {"phantom_pain", actPlayer, 468019, hd.Shadow},
	abDarkHoundMelee:       {"dark_hound_melee", actGuardian, 442419, hd.Shadow},
	abMasterMarksman:       {"master_marksman", actPlayer, 269576, hd.Physical},
	abRazorFragments:       {"razor_fragments", actPlayer, 385638, hd.Physical},
	abSentinel:             {"sentinel", actPlayer, 450412, hd.Arcane},
	abSymphonicArsenal:     {"symphonic_arsenal", actPlayer, 451194, hd.Arcane},
	abLunarStorm:           {"lunar_storm", actPlayer, 450883, hd.Arcane},
}
