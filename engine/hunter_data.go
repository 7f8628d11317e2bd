package engine

// Game numbers of the Beast Mastery and Marksmanship hunters.
//
// Sources, cited per row by key:
//   WL-*   the original WoWLab engine, repository legacy3/wowlab,
//          crates/engine/src/specs/hunter/{bm,mm}/{constants,spells,auras,talents}.rs,
//          crates/engine/src/class/hunter/{shared,pet,focus}.rs,
//          crates/engine/src/combat/damage/{pipeline,multipliers}.rs
//          and its docs/hunter/beast-mastery/*.md (which quote SimulationCraft's sc_hunter.cpp).
//   HK-BM, HK-MM  Hekili's The War Within (11.0) hunter spec files
//          (repository Hekili/hekili, TheWarWithin/HunterBeastMastery.lua and
//          TheWarWithin/HunterMarksmanship.lua): costs, cooldowns, charges and
//          talent tooltip values.
//   SIMC   SimulationCraft (simulationcraft/simc), SpellDataDump/hunter.txt.
//   HH     level-80 secondary stat rating table, harrekheals.me/blog/comparing-secondary-stats.
// Where the sources disagree the War Within tooltip value (HK) is used and
// the other noted. Numbers only; every formula here is this engine's own.

// Shared class constants.
const (
	gcdBase         = 1.5   // seconds, ranged GCD (WL gcd_duration; WL-doc "Base GCD 1.5s")
	gcdMin          = 0.75  // seconds, hasted floor (WL gcd_duration)
	critMultiplier  = 2.0   // crit damage (WL-mult)
	armorConstant   = 7390  // K in armor/(armor+K) (WL-pipe ARMOR_CONSTANT)
	armorCap        = 0.85  // largest armor reduction (WL-pipe)
	apPerWeaponDps  = 6.0   // attack power per point of weapon DPS for auto attacks (game rule since 7.0)
	petApShare      = 0.6   // pet attack power = 60% of the hunter's (WL-pet PET_STAT_INHERITANCE; simc ap_from_ap)
	petSwing        = 2.0   // seconds, pet melee base swing (WL-pet pet_attack_speed)
	petMeleeCoef    = 0.5   // pet melee, of pet AP (WL-pet)
	petBasicCoef    = 0.333 // Claw/Bite, of pet AP (WL-BMs pet_basic_attack)
	petBasicCd      = 3.0   // seconds (WL-BMc)
	executeHealth   = 0.20  // Kill Shot usable below 20% health (WL-sh, HK kill_shot)
	pandemicShare   = 0.30  // a refresh keeps up to 30% of the duration (game rule; ENGINE.md "refreshable")
	critRatingPer1  = 700   // rating per 1% at level 80 (HH)
	hasteRatingPer1 = 660   // (HH)
	mastRatingPer1  = 700   // (HH)
	versRatingPer1  = 780   // (HH)
	baseCritPct     = 5     // (WL-cstat BASE_CRIT)
)

// Beast Mastery.
const (
	bwDuration        = 15.0 // Bestial Wrath (WL-BMc, HK-BM)
	bwDamage          = 0.25 // +25% damage for hunter and pets (WL-doc-core effectN(1))
	frenzyDuration    = 8.0  // pet Frenzy from Barbed Shot (WL-BMa, HK-BM)
	frenzyMaxStacks   = 3
	frenzyHaste       = 0.30 // pet attack speed per stack (HK-BM tooltip; WL-BMa says 0.10)
	barbedDotDuration = 8.0  // (WL-BMs, HK-BM)
	barbedTick        = 2.0
	barbedDotCoef     = 0.15 // of AP per tick (WL-BMs)
	barbedFocusTick   = 5.0  // focus every 2 s for 8 s (HK-BM, WL-doc-focus)
	barbedFocusTicks  = 4
	cobraKcReduction  = 1.0 // seconds off Kill Command (HK-BM)
	kcCoef            = 1.035
	cotwDuration      = 20.0 // Call of the Wild (WL-BMc, HK-BM)
	cotwSummonEvery   = 4.0
	cotwPetDuration   = 6.0
	cotwCdCut         = 0.5 // each summon cuts Kill Command and Barbed Shot recharge by 50% (HK-BM)
	beastCleaveDur    = 6.0 // (HK-BM talent text; WL-BMc says 4)
	beastCleaveShare  = 0.8 // pet melee cleave (HK-BM)
	direBeastDuration = 8.0 // (HK-BM)
	direBeastHaste    = 0.05
	direBeastApShare  = 1.0 // Dire Beast has 100% of the owner's AP (WL-doc-pet)
	companionPenalty  = 0.35
	killerInstinctPct = 0.35 // health threshold
	killerInstinctDmg = 0.50
	alphaPredatorDmg  = 0.15
	warOrdersDmg      = 0.10
	warOrdersReset    = 0.50
	wildCallChance    = 0.20
	barbedWrathCut    = 12.0
	trainingExpert    = 0.10 // two ranks of 5% pet damage (HK-BM)
	thrillCrit        = 0.02 // per stack (HK-BM)
	thrillDuration    = 8.0
	thrillMaxStacks   = 3
	direCommandChance = 0.30
	savageryKcDmg     = 0.10
	savageryBarbedExt = 2.0
)

// Marksmanship.
const (
	trueshotDuration   = 15.0 // (HK-MM)
	trueshotRecharge   = 1.7  // Aimed Shot and Rapid Fire recharge 70% faster (HK-MM tooltip)
	trueshotAimedCast  = 0.5  // Aimed Shot casts 50% faster (HK-MM)
	trueshotFocusGain  = 1.5  // +50% focus generation (HK-MM)
	preciseDmg         = 0.70 // next Arcane/Multi-Shot (HK-MM; WL-MMc 0.75)
	preciseCostCut     = 0.50
	preciseStacks      = 2 // per Aimed Shot (WL-MMc)
	preciseDuration    = 15.0
	rapidFireShots     = 7 // (WL-MMc, HK-MM "7 shots")
	rapidFireFocus     = 1 // per shot (HK-MM energize 263585)
	steadyShotFocus    = 10.0
	loneWolfDmg        = 0.05 // (HK-MM; WL-MMc 0.10)
	lockAndLoadChance  = 0.08 // on auto shot (HK-MM, WL-MMc)
	lockAndLoadDur     = 15.0
	steadyFocusHaste   = 0.08 // (HK-MM; WL 0.07)
	steadyFocusDur     = 15.0
	streamlineDmg      = 0.15 // Rapid Fire damage (HK-MM)
	streamlineCast     = 0.30 // next Aimed Shot casts 30% faster
	streamlineDur      = 15.0
	carefulAimDmg      = 0.50 // Aimed Shot above 70% health (HK-MM)
	carefulAimHealth   = 0.70
	focusedAimDmg      = 0.10 // two ranks of 5% (HK-MM)
	crackShotCostCut   = 20.0 // (HK-MM)
	surgingShotsDmg    = 0.35 // Rapid Fire (HK-MM)
	surgingShotsReset  = 0.15
	killerAccuracyCrit = 0.20
)

// spellID names a spell the rotation can cast.
type spellID uint8

const (
	spKillCommand spellID = iota
	spBarbedShot
	spCobraShot
	spBestialWrath
	spCallOfTheWild
	spDireBeast
	spMultiShot
	spKillShot
	spAimedShot
	spRapidFire
	spArcaneShot
	spSteadyShot
	spTrueshot
	numSpells
)

type school uint8

const (
	physical school = iota
	magic
)

type specMask uint8

const (
	bm specMask = 1 << iota
	mm
)

// spellData is one castable spell's static data.
type spellData struct {
	name     string
	gameID   int
	specs    specMask
	cost     float64 // focus; a negative cost is a gain
	cooldown float64 // seconds; 0 for none
	charges  int
	hasted   bool    // cooldown shortened by haste
	cast     float64 // cast time in seconds, hasted
	channel  float64 // channel time in seconds, hasted
	offGCD   bool
	coef     float64 // of the hunter's attack power, for the direct hit
	school   school
	ability  abilityID // damage line it is counted under
}

// spells is indexed by spellID.
var spells = [numSpells]spellData{
	spKillCommand:   {name: "kill_command", gameID: 34026, specs: bm, cost: 30, cooldown: 7.5, charges: 1, hasted: true, coef: kcCoef, ability: abKillCommand},    // WL-BMs, HK-BM; coef of pet AP (WL-doc-core, simc 1.035)
	spBarbedShot:    {name: "barbed_shot", gameID: 217200, specs: bm, cooldown: 12, charges: 2, hasted: true, coef: 0.3, ability: abBarbedShot},                   // WL-BMs, HK-BM
	spCobraShot:     {name: "cobra_shot", gameID: 193455, specs: bm, cost: 35, coef: 0.4, ability: abCobraShot},                                                   // WL-BMs, HK-BM (Physical)
	spBestialWrath:  {name: "bestial_wrath", gameID: 19574, specs: bm, cooldown: 90, charges: 1, ability: abBestialWrath},                                         // WL-BMc, HK-BM
	spCallOfTheWild: {name: "call_of_the_wild", gameID: 359844, specs: bm, cooldown: 120, charges: 1, ability: abCallOfTheWild},                                   // WL-BMc, HK-BM
	spDireBeast:     {name: "dire_beast", gameID: 120679, specs: bm, cost: -20, cooldown: 20, charges: 1, ability: abDireBeast},                                   // HK-BM (WL-BMc says 10 s)
	spMultiShot:     {name: "multi_shot", gameID: 2643, specs: bm | mm, cost: 40, coef: 0.5, ability: abMultiShot},                                                // WL-BMs, HK-BM; MM costs 30 (HK-MM) and 0.4 AP (WL-MMc)
	spKillShot:      {name: "kill_shot", gameID: 53351, specs: bm | mm, cost: 10, cooldown: 10, charges: 1, coef: 4.0, ability: abKillShot},                       // WL-BMs/WL-MMs 4.0 (WL-sh says 3.0), HK
	spAimedShot:     {name: "aimed_shot", gameID: 19434, specs: mm, cost: 35, cooldown: 12, charges: 2, hasted: true, cast: 2.5, coef: 2.8, ability: abAimedShot}, // WL-MMc, HK-MM
	spRapidFire:     {name: "rapid_fire", gameID: 257044, specs: mm, cooldown: 20, charges: 1, hasted: true, channel: 2.0, coef: 0.35, ability: abRapidFire},      // WL-MMc (per shot), HK-MM
	spArcaneShot:    {name: "arcane_shot", gameID: 185358, specs: mm, cost: 40, coef: 0.45, school: magic, ability: abArcaneShot},                                 // HK-MM cost, WL-MMc coef
	spSteadyShot:    {name: "steady_shot", gameID: 56641, specs: mm, cast: 1.7, coef: 0.25, ability: abSteadyShot},                                                // HK-MM cast, WL-MMc coef
	spTrueshot:      {name: "trueshot", gameID: 288613, specs: mm, cooldown: 120, charges: 1, offGCD: true, ability: abTrueshot},                                  // HK-MM
}

// abilityID names a line of the damage and cast breakdown.
type abilityID uint8

const (
	abAutoShot abilityID = iota
	abKillCommand
	abBarbedShot
	abBarbedShotDot
	abCobraShot
	abBestialWrath
	abCallOfTheWild
	abDireBeast
	abMultiShot
	abKillShot
	abAimedShot
	abRapidFire
	abArcaneShot
	abSteadyShot
	abTrueshot
	abPetMelee
	abPetBasic
	abBeastCleave
	abCompanionMelee
	abCompanionKillCommand
	abDireBeastMelee
	abCallOfTheWildMelee
	numAbilities
)

type abilityInfo struct {
	name  string
	actor string
}

var abilities = [numAbilities]abilityInfo{
	abAutoShot:             {"auto_shot", "player"},
	abKillCommand:          {"kill_command", "pet"},
	abBarbedShot:           {"barbed_shot", "player"},
	abBarbedShotDot:        {"barbed_shot_bleed", "player"},
	abCobraShot:            {"cobra_shot", "player"},
	abBestialWrath:         {"bestial_wrath", "player"},
	abCallOfTheWild:        {"call_of_the_wild", "player"},
	abDireBeast:            {"dire_beast", "player"},
	abMultiShot:            {"multi_shot", "player"},
	abKillShot:             {"kill_shot", "player"},
	abAimedShot:            {"aimed_shot", "player"},
	abRapidFire:            {"rapid_fire", "player"},
	abArcaneShot:           {"arcane_shot", "player"},
	abSteadyShot:           {"steady_shot", "player"},
	abTrueshot:             {"trueshot", "player"},
	abPetMelee:             {"pet_melee", "pet"},
	abPetBasic:             {"pet_claw", "pet"},
	abBeastCleave:          {"beast_cleave", "pet"},
	abCompanionMelee:       {"companion_melee", "pet"},
	abCompanionKillCommand: {"companion_kill_command", "pet"},
	abDireBeastMelee:       {"dire_beast_melee", "pet"},
	abCallOfTheWildMelee:   {"call_of_the_wild_melee", "pet"},
}

// talentID names a selectable talent.
type talentID uint8

const (
	tAnimalCompanion talentID = iota
	tKillerInstinct
	tAlphaPredator
	tWarOrders
	tWildCall
	tBarbedWrath
	tKillerCobra
	tScentOfBlood
	tTrainingExpert
	tThrillOfTheHunt
	tDireCommand
	tSavagery
	tLoneWolf
	tLockAndLoad
	tSteadyFocus
	tStreamline
	tCarefulAim
	tFocusedAim
	tCrackShot
	tImprovedSteadyShot
	tSurgingShots
	tKillerAccuracy
	numTalents
)

type talentData struct {
	name   string
	gameID int
	specs  specMask
	desc   string
}

var talents = [numTalents]talentData{
	tAnimalCompanion:    {"animal_companion", 267116, bm, "a second pet that joins Kill Command; both pets deal 35% less damage (HK-BM)"},
	tKillerInstinct:     {"killer_instinct", 273887, bm, "Kill Command deals 50% more damage to targets below 35% health (HK-BM)"},
	tAlphaPredator:      {"alpha_predator", 269737, bm, "Kill Command has 2 charges and deals 15% more damage (HK-BM)"},
	tWarOrders:          {"war_orders", 393933, bm, "Barbed Shot deals 10% more damage and has a 50% chance to reset Kill Command (HK-BM)"},
	tWildCall:           {"wild_call", 185789, bm, "Auto Shot critical strikes have a 20% chance to reset Barbed Shot (HK-BM)"},
	tBarbedWrath:        {"barbed_wrath", 231548, bm, "Barbed Shot reduces Bestial Wrath's cooldown by 12 s (HK-BM)"},
	tKillerCobra:        {"killer_cobra", 199532, bm, "Cobra Shot resets Kill Command during Bestial Wrath (HK-BM)"},
	tScentOfBlood:       {"scent_of_blood", 193532, bm, "Bestial Wrath restores 2 charges of Barbed Shot (HK-BM, 2 ranks)"},
	tTrainingExpert:     {"training_expert", 378209, bm, "pets deal 10% more damage (HK-BM, 2 ranks)"},
	tThrillOfTheHunt:    {"thrill_of_the_hunt", 257944, bm, "Barbed Shot grants 2% critical strike chance for 8 s, stacking 3 times (HK-BM)"},
	tDireCommand:        {"dire_command", 378743, bm, "Kill Command has a 30% chance to summon a Dire Beast (HK-BM)"},
	tSavagery:           {"savagery", 424557, bm, "Kill Command deals 10% more damage; Barbed Shot lasts 2 s longer (HK-BM)"},
	tLoneWolf:           {"lone_wolf", 155228, mm, "5% more damage while no pet is out (HK-MM)"},
	tLockAndLoad:        {"lock_and_load", 194595, mm, "Auto Shot has an 8% chance to make the next Aimed Shot free and instant (HK-MM)"},
	tSteadyFocus:        {"steady_focus", 193533, mm, "two Steady Shots in a row grant 8% haste for 15 s (HK-MM)"},
	tStreamline:         {"streamline", 260367, mm, "Rapid Fire deals 15% more damage and makes the next Aimed Shot cast 30% faster (HK-MM)"},
	tCarefulAim:         {"careful_aim", 260228, mm, "Aimed Shot deals 50% more damage to targets above 70% health (HK-MM)"},
	tFocusedAim:         {"focused_aim", 378767, mm, "Aimed Shot and Rapid Fire deal 10% more damage (HK-MM, 2 ranks)"},
	tCrackShot:          {"crack_shot", 321293, mm, "Arcane Shot costs 20 less focus (HK-MM)"},
	tImprovedSteadyShot: {"improved_steady_shot", 321018, mm, "Steady Shot generates 10 focus (HK-MM)"},
	tSurgingShots:       {"surging_shots", 391559, mm, "Rapid Fire deals 35% more damage; Aimed Shot has a 15% chance to reset Rapid Fire (HK-MM)"},
	tKillerAccuracy:     {"killer_accuracy", 378765, mm, "Kill Shot has 20% more critical strike chance and critical damage (HK-MM)"},
}

// auraID names a buff or debuff a rotation can ask about.
type auraID uint8

const (
	auBestialWrath auraID = iota
	auFrenzy
	auBeastCleave
	auCallOfTheWild
	auDireBeast
	auThrillOfTheHunt
	auBarbedShot // the bleed on the target
	auTrueshot
	auPreciseShots
	auLockAndLoad
	auSteadyFocus
	auStreamline
	numAuras
)

type auraData struct {
	name     string
	gameID   int
	duration float64
	stacks   int
	pet      bool // lives on the pet (pet.buff.<name>)
	debuff   bool // lives on the target (debuff./dot.<name>)
}

var auras = [numAuras]auraData{
	auBestialWrath:    {"bestial_wrath", 19574, bwDuration, 1, false, false},
	auFrenzy:          {"frenzy", 272790, frenzyDuration, frenzyMaxStacks, true, false},
	auBeastCleave:     {"beast_cleave", 118455, beastCleaveDur, 1, true, false},
	auCallOfTheWild:   {"call_of_the_wild", 359844, cotwDuration, 1, false, false},
	auDireBeast:       {"dire_beast", 120679, direBeastDuration, 1, false, false},
	auThrillOfTheHunt: {"thrill_of_the_hunt", 257946, thrillDuration, thrillMaxStacks, false, false},
	auBarbedShot:      {"barbed_shot", 217200, barbedDotDuration, 1, false, true},
	auTrueshot:        {"trueshot", 288613, trueshotDuration, 1, false, false},
	auPreciseShots:    {"precise_shots", 260242, preciseDuration, preciseStacks, false, false},
	auLockAndLoad:     {"lock_and_load", 194594, lockAndLoadDur, 1, false, false},
	auSteadyFocus:     {"steady_focus", 193534, steadyFocusDur, 1, false, false},
	auStreamline:      {"streamline", 342076, streamlineDur, 1, false, false},
}
