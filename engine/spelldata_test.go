package engine

import (
	"testing"

	hd "wowlab/engine/hunterdata"
)

// The spell-data tests: every damaging line's hit, without critical
// strikes, at a fixed attack power (agility 10 000: 10 500 attack power, a
// pet's 60% of it) and target armor (30 000), with no versatility, mastery
// or raid buffs, is the coefficient of its spell times the attack power
// times the multipliers the data lists for it times the armor's reduction
// (physical hits that are not bleeds) — within 1e-9. The builds take only
// the talents that teach the spells, so that no other multiplier applies.

const (
	testAgility     = 10_000
	testArmor       = 30_000.0
	testWeaponSpeed = 3.0
)

// dataConfig is the fixed-stat config of example ex with only talents.
func dataConfig(t *testing.T, ex string, talents ...string) *Config {
	c := exampleConfig(t, ex).quiet()
	zero := 0.0
	c.Player.Stats = Stats{Agility: testAgility, CritPct: &zero, HastePct: &zero, MasteryPct: &zero, VersatilityPct: &zero}
	c.Player.Talents = talents
	c.Player.TierSet = 0
	c.Player.WeaponDmg = [2]float64{4000, 4000}
	c.Player.WeaponSpeed = testWeaponSpeed
	armor := testArmor
	c.Target.Armor = &armor
	return c
}

// apOf is the hunter's attack power of dataConfig's stats, from the data.
func apOf() float64 { return testAgility * (1 + pct(86538, 1)) }

// coef is the attack power coefficient of effect n of spell id.
func coef(id, n int) float64 { return hd.Get(id).AP(n) }

// plus is 1 plus effect n of spell id, a listed multiplier.
func plus(id, n int) float64 { return 1 + pct(id, n) }

// armored is the share of a physical hit the test's armor lets through.
func armored() float64 {
	k := hd.LevelArmor(hd.PlayerLevel).Constant
	return 1 - testArmor/(testArmor+k)
}

// hitCase is one line's check: what to do to make it hit, and its hit
// from the data.
type hitCase struct {
	line    abilityID
	ex      string
	talents []string
	do      func(r *rig)
	want    float64 // one hit's damage
}

func TestSpellDataHits(t *testing.T) {
	ap := apOf()
	pet := ap * 0.6 // a pet's share of the hunter's attack power (sc_hunter.cpp)
	bmPet, bmGuard := plus(137015, 3), plus(137015, 4)
	bmDirect, bmPeriodic := plus(137015, 1), plus(137015, 2)
	mmDirect, mmPeriodic := plus(137016, 1), plus(137016, 2)
	arm := armored()
	bmSpells := []string{"cobra_shot", "barbed_shot", "bestial_wrath", "multi_shot", "explosive_shot", "bloodshed", "call_of_the_wild"}
	bm := "bm_hunter.json"
	mm := "mm_hunter.json"
	cases := []hitCase{
		{abCobraShot, bm, bmSpells, func(r *rig) { r.cast(spCobraShot) }, coef(193455, 1) * ap * bmDirect * arm},
		{abBarbedShot, bm, bmSpells, func(r *rig) { r.st.barbedTick() }, coef(217200, 1) * ap * bmPeriodic},
		{abKillShot, bm, bmSpells, func(r *rig) { r.cast(spKillShot) }, coef(53351, 1) * ap * bmDirect * plus(137015, 7) * plus(137015, 8) * arm},
		{abMultiShot, bm, bmSpells, func(r *rig) { r.cast(spMultiShot) }, coef(2643, 2) * ap * bmDirect * arm},
		{abExplosiveShot, bm, bmSpells, func(r *rig) { r.cast(spExplosiveShot); r.at(10_000) }, coef(212680, 1) * ap * bmDirect},
		{abAutoShot, bm, bmSpells, func(r *rig) { r.st.autoShot() }, (4000 + ap/6*testWeaponSpeed) * bmDirect * arm},
		{abPetKillCommand, bm, bmSpells, func(r *rig) { r.cast(spKillCommand) }, coef(83381, 1) * pet * bmPet * arm},
		{abPetBestialWrath, bm, bmSpells, func(r *rig) { r.cast(spBestialWrath) }, coef(344572, 1) * pet * bmPet * plus(186254, 1) * arm},
		{abPetClaw, bm, bmSpells, func(r *rig) { r.st.basicAttack(0, false) }, coef(16827, 1) * pet * bmPet * plus(62762, 1) * arm},
		{abPetMelee, bm, bmSpells, func(r *rig) { r.at(1) }, pet * 2 / 6 * bmPet * arm},
		{abBloodshedBleed, bm, bmSpells, func(r *rig) { r.cast(spBloodshed); r.at(1000) }, coef(321538, 1) * pet * bmPet},
		{abCallOfTheWildMelee, bm, bmSpells, func(r *rig) { r.quietPets(); r.cast(spCallOfTheWild); r.at(1) }, pet * 2 / 6 * bmPet * arm},
		{abDireBeastMelee, bm, bmSpells, func(r *rig) { r.st.summonDireBeast(0); r.at(1) }, ap * 2 / 6 * bmGuard * arm},
		{abPetStomp, bm, append([]string{"stomp"}, bmSpells...), func(r *rig) { r.st.stomp(slotMain, 1) }, coef(1217528, 1) * pet * bmPet * arm},
		{abDireBeastKillCommand, bm, append([]string{"wildspeaker"}, bmSpells...), func(r *rig) { r.st.summonDireBeast(0); r.cast(spKillCommand) }, coef(1232922, 1) * ap * bmGuard * arm},
		{abPoisonedBarbs, bm, append([]string{"poisoned_barbs"}, bmSpells...), func(r *rig) {
			for r.st.ab[abPoisonedBarbs].hits == 0 {
				r.cast(spBarbedShot)
			}
		}, coef(1217549, 1) * ap * bmDirect},
		{abHatiMelee, bm, append([]string{"huntmasters_call"}, bmSpells...), func(r *rig) {
			for r.st.ab[abHatiMelee].hits == 0 {
				r.clearSummons()
				r.st.summonDireBeast(r.st.now)
				r.at(r.st.now + 1)
			}
		}, ap * 2 * 2 / 6 * bmGuard * arm},
		{abFenryrMelee, bm, append([]string{"huntmasters_call"}, bmSpells...), func(r *rig) {
			for r.st.ab[abFenryrMelee].hits == 0 {
				r.clearSummons()
				r.st.summonDireBeast(r.st.now)
				r.at(r.st.now + 1)
			}
		}, ap * 2 * 2 / 6 * bmGuard * arm},
		{abRavenousLeap, bm, append([]string{"huntmasters_call"}, bmSpells...), func(r *rig) {
			for r.st.ab[abRavenousLeap].hits == 0 {
				r.clearSummons()
				r.st.summonDireBeast(r.st.now)
				r.at(r.st.now + 1000)
			}
		}, coef(459753, 1) / (hd.Get(459753).Duration / hd.Get(459753).Period) * ap * 2 * bmGuard},
		// Pack Leader's beasts and the 4-piece's Stampede.
		{abBoarCharge, bm, append([]string{"howl_of_the_pack_leader"}, bmSpells...), func(r *rig) { r.st.boarLeft = 1; r.st.boarCharge() },
			(coef(471936, 1) + coef(471938, 1)) / 2 * ap * bmDirect * arm},
		{abBearMelee, bm, append([]string{"howl_of_the_pack_leader"}, bmSpells...), func(r *rig) { r.st.summonPet(petBear, 0, 10_000); r.at(1) },
			ap * 1.5 / 6 * 7 * bmGuard * arm},
		{abRendFlesh, bm, append([]string{"howl_of_the_pack_leader"}, bmSpells...), func(r *rig) { r.st.dotTick(dotRendFlesh, 0) },
			coef(471999, 1) * ap * bmGuard},
		{abStampede, bm, append([]string{"howl_of_the_pack_leader"}, bmSpells...), func(r *rig) { r.st.stampede() },
			coef(201594, 1) * ap * bmDirect * plus(137015, 12) * arm},
		// Dark Ranger.
		{abBlackArrow, bm, append([]string{"black_arrow"}, bmSpells...), func(r *rig) { r.cast(spBlackArrow) },
			coef(466930, 1) * ap * bmDirect * plus(137015, 7) * plus(137015, 8) * plus(137015, 10)},
		{abBlackArrowDot, bm, append([]string{"black_arrow"}, bmSpells...), func(r *rig) { r.cast(spBlackArrow); r.at(1000) },
			coef(468572, 1) * ap * bmPeriodic * plus(137015, 11)},
		{abWitheringFire, bm, append([]string{"black_arrow", "withering_fire"}, bmSpells...), func(r *rig) { r.cast(spCallOfTheWild); r.cast(spBlackArrow) },
			coef(468037, 1) * ap * bmDirect * plus(137015, 10)},
		{abBleakPowder, bm, append([]string{"black_arrow", "bleak_powder"}, bmSpells...), func(r *rig) {
			r.s.targets = 2
			r.cast(spBlackArrow)
		}, coef(472084, 1) * ap * bmDirect},
		{abDarkHoundMelee, bm, append([]string{"black_arrow"}, bmSpells...), func(r *rig) { r.st.summonPet(petDarkHound, 0, 10_000); r.at(1) },
			ap * 3 * 2 / 6 * bmGuard},
		{abMurderOfCrows, bm, append([]string{"black_arrow"}, bmSpells...), func(r *rig) {
			r.st.startDot(dotCrows, r.s.dotDur[dotCrows], r.s.dotPeriod[dotCrows], 1)
			r.at(r.s.dotPeriod[dotCrows])
		}, coef(131900, 1) * ap * bmPeriodic * arm},
		// Marksmanship.
		{abAimedShot, mm, []string{"trueshot"}, func(r *rig) { r.cast(spAimedShot) }, coef(19434, 1) * ap * mmDirect * arm},
		{abRapidFire, mm, []string{"rapid_fire"}, func(r *rig) { r.st.rapidFireShot() }, coef(257045, 1) * ap * mmDirect * arm},
		{abArcaneShot, mm, nil, func(r *rig) { r.cast(spArcaneShot) }, coef(185358, 1) * ap * mmDirect * plus(137016, 11)},
		{abSteadyShot, mm, nil, func(r *rig) { r.cast(spSteadyShot) }, coef(56641, 1) * ap * mmDirect * arm},
		{abMultiShot, mm, nil, func(r *rig) { r.cast(spMultiShot) }, coef(257620, 1) * ap * mmDirect * arm},
		{abKillShot, mm, nil, func(r *rig) { r.cast(spKillShot) }, coef(53351, 1) * ap * mmDirect * plus(137016, 9) * arm},
		{abExplosiveShot, mm, []string{"explosive_shot"}, func(r *rig) { r.cast(spExplosiveShot); r.at(10_000) },
			coef(212680, 1) * ap * mmDirect * plus(137016, 10)},
		{abVolley, mm, []string{"volley"}, func(r *rig) { r.cast(spVolley); r.at(r.s.p.volleyPeriodMs) }, coef(260247, 1) * ap * mmDirect * arm},
		{abAutoShot, mm, nil, func(r *rig) { r.st.autoShot() }, (4000 + ap/6*testWeaponSpeed) * mmDirect * arm},
		{abBlackArrow, mm, []string{"black_arrow"}, func(r *rig) { r.cast(spBlackArrow) },
			coef(466930, 1) * ap * mmDirect * plus(137016, 9) * plus(137016, 13)},
		{abBlackArrowDot, mm, []string{"black_arrow"}, func(r *rig) { r.cast(spBlackArrow); r.at(1000) },
			coef(468572, 1) * ap * mmPeriodic * plus(137016, 14)},
		{abSentinel, mm, []string{"sentinel"}, func(r *rig) { r.st.sentinelStacks = 1; r.st.sentinelImplodeTick() },
			coef(450412, 1) * ap * mmDirect},
		{abSymphonicArsenal, mm, []string{"sentinel", "symphonic_arsenal"}, func(r *rig) { r.st.sentinelStacks = 1; r.cast(spMultiShot) },
			coef(451194, 1) * ap * mmDirect * plus(137016, 12)},
		{abLunarStorm, mm, []string{"sentinel", "lunar_storm", "rapid_fire"}, func(r *rig) { r.st.lunarStorm() },
			coef(1217459, 1) * ap * mmDirect},
		{abLunarStorm, mm, []string{"sentinel", "lunar_storm", "rapid_fire"}, func(r *rig) {
			r.st.sentinelStacks = 1
			r.st.lunarLeft = 2
			r.st.lunarStormTick()
		}, coef(450883, 1) * ap * mmDirect},
	}
	for _, c := range cases {
		t.Run(abilities[c.line].name+"/"+c.ex, func(t *testing.T) {
			r := newRig(t, dataConfig(t, c.ex, c.talents...)).noCrits()
			if r.s.ap != ap {
				t.Fatalf("attack power %v, want %v", r.s.ap, ap)
			}
			c.do(r)
			tot := r.st.ab[c.line]
			if tot.hits == 0 {
				t.Fatal("no hit")
			}
			near(t, "average hit", tot.dmg/float64(tot.hits), c.want, exact)
		})
	}
}

// TestSpellDataNumbers checks that the cooldowns, costs, charges and the
// durations and periods of the auras and periodic effects are the data's,
// in builds whose talents change none of them.
func TestSpellDataNumbers(t *testing.T) {
	for _, ex := range []string{"bm_hunter.json", "mm_hunter.json"} {
		c := dataConfig(t, ex)
		s := compileConfig(t, c)
		for sp := range numSpells {
			d := hd.Get(castables[sp].gameID)
			if s.baseCd[sp] != d.Cooldown {
				t.Errorf("%s: %s cooldown %v, the data's %v", ex, castables[sp].name, s.baseCd[sp], d.Cooldown)
			}
			charges := d.Charges
			if d.Cooldown > 0 && charges == 0 {
				charges = 1
			}
			if sp != spBlackArrow && int(s.charges[sp]) != charges {
				t.Errorf("%s: %s charges %d, the data's %d", ex, castables[sp].name, s.charges[sp], charges)
			}
			if sp != spMultiShot && s.cost[sp] != d.Cost {
				t.Errorf("%s: %s cost %v, the data's %v", ex, castables[sp].name, s.cost[sp], d.Cost)
			}
		}
		for a := range numAuras {
			d := auraSpell(a)
			if d.Duration == 0 || durationFromElsewhere[a] {
				continue
			}
			if s.auraDur[a] != ms(d.Duration) {
				t.Errorf("%s: aura %s lasts %d ms, the data's %v s", ex, auras[a].name, s.auraDur[a], d.Duration)
			}
		}
		for dt, id := range dotSpell {
			d := hd.Get(id)
			if s.dotDur[dt] != ms(d.Duration) || s.dotPeriod[dt] != ms(d.Period) {
				t.Errorf("%s: dot %d (%d) lasts %d ms every %d ms, the data's %v s every %v s", ex, dt, id, s.dotDur[dt], s.dotPeriod[dt], d.Duration, d.Period)
			}
		}
	}
	// Multi-Shot's marksmanship cost is that of its marksmanship spell.
	s := compileConfig(t, dataConfig(t, "mm_hunter.json"))
	if s.cost[spMultiShot] != hd.Get(257620).Cost {
		t.Errorf("marksmanship multi-shot cost %v", s.cost[spMultiShot])
	}
}

// durationFromElsewhere marks the auras whose duration the data gives on
// another spell (deriveAuras says which).
var durationFromElsewhere = map[auraID]bool{
	auBeastCleave: true, auDeathblow: true, auRazorFragments: true, auVolley: true, auKillZone: true,
	auLunarStormCooldown: true, auSentinel: true, auBullseye: true, auSummonFenryr: true, auSummonHati: true,
}

// dotSpell is the spell whose duration and period each periodic effect has.
var dotSpell = map[dotID]int{
	dotBarbed: 217200, dotBloodshed: 321538, dotBlackArrow: 468572, dotLaceration: 459560, dotRendFlesh: 471999,
	dotCrows: 131894, dotRazor: 385638, dotMasterMarksman: 269576, dotRavenousLeap: 459753,
}
