package engine

import (
	"math"
	"strings"
	"testing"
)

// fightState compiles the example of spec (with talents replaced when
// given) and returns a fresh fight state at time 0 with an empty queue, so
// a test can drive mechanics one call at a time.
func fightState(t *testing.T, example string, talentList ...string) *state {
	t.Helper()
	doc := string(loadExample(t, example))
	if talentList != nil {
		start := strings.Index(doc, `"talents": [`)
		end := strings.Index(doc[start:], "]") + start + 1
		doc = doc[:start] + `"talents": ["` + strings.Join(talentList, `","`) + `"]` + doc[end:]
	}
	s, err := Compile([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	st, err := newState(s)
	if err != nil {
		t.Fatal(err)
	}
	st.reset(42)
	st.q.reset()
	st.timer = [numTimers]int64{never, never}
	return st
}

func TestChargesAndHastedRecharge(t *testing.T) {
	st := fightState(t, "bm_hunter.json")
	// Barbed Shot: 2 charges, 12 s recharge shortened by 20% haste -> 10 s.
	if got := st.rechargeMs(spBarbedShot); got != 10_000 {
		t.Fatalf("hasted recharge %d ms, want 10000", got)
	}
	st.useCharge(spBarbedShot)
	st.useCharge(spBarbedShot)
	if c := st.syncCd(spBarbedShot); c.charges != 0 || c.end != 10_000 {
		t.Fatalf("after two casts: %+v", *c)
	}
	if (env{st}).CanCast(int(spBarbedShot)) {
		t.Fatal("castable without charges")
	}
	if st.wake != 10_000 {
		t.Fatalf("wake hint %d, want 10000", st.wake)
	}
	st.now = 9_999
	if st.syncCd(spBarbedShot).charges != 0 {
		t.Fatal("charge back early")
	}
	st.now = 10_000
	if c := st.syncCd(spBarbedShot); c.charges != 1 || c.end != 20_000 {
		t.Fatalf("after one recharge: %+v", *c)
	}
	st.now = 25_000
	if c := st.syncCd(spBarbedShot); c.charges != 2 {
		t.Fatalf("after two recharges: %+v", *c)
	}
}

func TestCooldownReduction(t *testing.T) {
	st := fightState(t, "bm_hunter.json", "animal_companion")
	// Kill Command: 7.5 s hasted by 20% -> 6.25 s; Cobra Shot takes 1 s off.
	st.useCharge(spKillCommand)
	if c := st.cds[spKillCommand]; c.end != 6_250 {
		t.Fatalf("kill command recharge ends %d", c.end)
	}
	st.focus = 100
	st.execute(spCobraShot)
	if c := st.cds[spKillCommand]; c.end != 5_250 {
		t.Fatalf("after cobra shot: ends %d, want 5250", c.end)
	}
	st.now = 5_000
	st.reduceCd(spKillCommand, 1_000)
	if c := st.syncCd(spKillCommand); c.charges != 1 {
		t.Fatalf("reduction past zero should complete the charge: %+v", *c)
	}
}

func TestAuraRefreshPandemicAndStacks(t *testing.T) {
	st := fightState(t, "bm_hunter.json")
	st.applyDot(auBarbedShot, 8_000)
	st.now = 6_000 // 2 s left, under the 2.4 s pandemic cap
	st.applyDot(auBarbedShot, 8_000)
	if got := st.auras[auBarbedShot].end; got != 16_000 {
		t.Fatalf("pandemic refresh ends %d, want 16000", got)
	}
	st.now = 7_000 // 9 s left: only 2.4 s carry over
	st.applyDot(auBarbedShot, 8_000)
	if got := st.auras[auBarbedShot].end; got != 17_400 {
		t.Fatalf("capped pandemic refresh ends %d, want 17400", got)
	}
	for i := range 5 {
		st.applyAura(auFrenzy, 1, 8_000)
		if want := min(i+1, 3); st.auraStacks(auFrenzy) != want {
			t.Fatalf("frenzy stacks %d after %d applications", st.auraStacks(auFrenzy), i+1)
		}
	}
	st.now += 8_000
	if st.auraStacks(auFrenzy) != 0 || st.auraActive(auFrenzy) {
		t.Fatal("frenzy outlived its duration")
	}
	st.applyAura(auFrenzy, 1, 8_000)
	if st.auraStacks(auFrenzy) != 1 {
		t.Fatal("a new application after expiry starts at one stack")
	}
}

func TestFocusRegenerationWithHaste(t *testing.T) {
	st := fightState(t, "bm_hunter.json")
	st.focus = 0
	st.now = 1_000
	// 10 focus/s scaled by 20% haste.
	if got := st.currentFocus(); math.Abs(got-12) > 1e-9 {
		t.Fatalf("focus after 1 s: %v, want 12", got)
	}
	st.applyTimedAura(auDireBeast, 8_000) // +5% haste from now on
	st.now = 2_000
	if got := st.currentFocus(); math.Abs(got-(12+12.6)) > 1e-9 {
		t.Fatalf("focus after 1 s more with Dire Beast: %v, want 24.6", got)
	}
	st.now = 100_000
	if got := st.currentFocus(); got != 100 {
		t.Fatalf("focus is capped at the maximum, got %v", got)
	}
}

func TestGCDAndCasts(t *testing.T) {
	st := fightState(t, "bm_hunter.json")
	st.startCast(spCobraShot)
	if st.busyUntil != 1_250 || st.gcdEnd != 1_250 {
		t.Fatalf("GCD after an instant: busy until %d", st.busyUntil)
	}
	mm := fightState(t, "mm_hunter.json", "improved_steady_shot")
	mm.startCast(spAimedShot) // 2.5 s / 1.2
	if mm.castEnd != 2_083 || mm.busyUntil != 2_083 {
		t.Fatalf("aimed shot cast ends %d", mm.castEnd)
	}
	if mm.dmg[abAimedShot] != 0 || len(mm.q.items) != 1 {
		t.Fatal("a cast deals its damage when it finishes, not when it starts")
	}
	e := mm.q.pop()
	mm.now = int64(e.key >> 32)
	mm.handle(&e)
	if mm.dmg[abAimedShot] <= 0 {
		t.Fatal("aimed shot did no damage when its cast finished")
	}
	// Rapid Fire: 7 shots spread over a 2 s / 1.2 channel.
	mm.now = 10_000
	mm.busyUntil, mm.gcdEnd = 0, 0
	mm.startCast(spRapidFire)
	if mm.castEnd != 11_667 {
		t.Fatalf("rapid fire channel ends %d", mm.castEnd)
	}
	shots := int32(0)
	last := int64(0)
	for len(mm.q.items) > 0 {
		e := mm.q.pop()
		mm.now = int64(e.key >> 32)
		if e.kind == evChannelTick {
			last = mm.now
		}
		mm.handle(&e)
	}
	if shots = mm.casts[abRapidFire]; shots != 1 {
		t.Fatalf("rapid fire counted %d casts", shots)
	}
	if last > mm.castEnd || last < mm.castEnd-300 {
		t.Fatalf("last shot at %d, channel ends %d", last, mm.castEnd)
	}
}

func TestExecuteBelowTwentyPercent(t *testing.T) {
	st := fightState(t, "bm_hunter.json")
	st.focus = 100
	st.now = st.end / 2
	if (env{st}).CanCast(int(spKillShot)) {
		t.Fatal("kill shot usable at 50% health")
	}
	if st.wake != st.end*8/10+1 {
		t.Fatalf("wake hint %d, want the start of the execute phase", st.wake)
	}
	st.now = st.end*8/10 + 1
	if !(env{st}).CanCast(int(spKillShot)) {
		t.Fatalf("kill shot not usable at %.1f%% health", 100*st.healthPct())
	}
}

func TestPets(t *testing.T) {
	st := fightState(t, "bm_hunter.json", "animal_companion")
	// reset summoned the main pet at 0.
	// 2.0 s swing / 1.2 haste = 1667 ms: swings at 0, 1667, 3334.
	st.now = 3_334
	st.settle()
	if st.casts[abPetMelee] != 3 || st.casts[abCompanionMelee] != 3 || st.pets[slotMain].next != 5_001 {
		t.Fatalf("after 3.334 s: %d pet swings, %d companion swings, next at %d",
			st.casts[abPetMelee], st.casts[abCompanionMelee], st.pets[slotMain].next)
	}
	// Three stacks of Frenzy: 1667 / 1.9 = 877 ms from the next swing on.
	st.applyAura(auFrenzy, 3, 8_000)
	st.now = 5_001 + 877
	st.settle()
	if st.casts[abPetMelee] != 5 || st.pets[slotMain].next != 5_001+2*877 {
		t.Fatalf("with Frenzy: %d swings, next at %d", st.casts[abPetMelee], st.pets[slotMain].next)
	}
	// The basic attack every 3 s: at 0 and 3000.
	if st.casts[abPetBasic] != 2 {
		t.Fatalf("%d basic attacks", st.casts[abPetBasic])
	}
	if st.dmg[abPetMelee] <= 0 || st.dmg[abCompanionMelee] <= 0 || st.dmg[abPetBasic] <= 0 {
		t.Fatal("pets did no damage")
	}
	// Attacks are settled with the Bestial Wrath state of their own time:
	// of the basic attacks at 6 s and 9 s, only the first falls in Wrath.
	st.settle()
	st.sim.crit = 0                      // this test's own compiled config: no crits, exact damage
	st.applyAura(auBestialWrath, 1, 500) // now is 5.878 s: Wrath until 6.378 s
	before := st.dmg[abPetBasic]
	st.now = 6_000
	st.settleUntil(6_000)
	inWrath := st.dmg[abPetBasic] - before
	st.now = 9_000
	st.settle()
	after := st.dmg[abPetBasic] - before - inWrath
	if st.casts[abPetBasic] != 4 || math.Abs(inWrath/after-(1+bwDamage)) > 1e-12 {
		t.Fatalf("%d basic attacks; in Wrath %v, after %v", st.casts[abPetBasic], inWrath, after)
	}
	// Temporary pets leave when their time is up.
	st.summonDireBeast()
	slot := slotCompanion + 1
	if !st.pets[slot].active || st.pets[slot].expires != st.now+8_000 {
		t.Fatalf("dire beast %+v", st.pets[slot])
	}
	st.now += 8_000
	st.settle()
	// It swings every 2 s / (1.2 * 1.05): its own 5% haste applies. Swings
	// at 0, 1.587, ..., 7.935 s after the summon: six.
	if st.pets[slot].active || st.casts[abDireBeastMelee] != 6 {
		t.Fatalf("dire beast after its 8 s: %+v, %d swings", st.pets[slot], st.casts[abDireBeastMelee])
	}
}

// canCast reads spells[sp].cost for every spell not marked dynamicCost;
// costOf must agree with that whatever buffs are up.
func TestStaticCostsMatchCostOf(t *testing.T) {
	for _, ex := range []string{"bm_hunter.json", "mm_hunter.json"} {
		st := fightState(t, ex)
		for _, a := range []auraID{auPreciseShots, auLockAndLoad, auTrueshot, auBestialWrath} {
			st.applyAura(a, 1, 10_000)
		}
		for sp := range numSpells {
			if !st.sim.dynamicCost[sp] && st.costOf(sp) != spells[sp].cost {
				t.Errorf("%s: %s costs %v, table says %v: mark it dynamicCost", ex, spells[sp].name, st.costOf(sp), spells[sp].cost)
			}
		}
	}
}
