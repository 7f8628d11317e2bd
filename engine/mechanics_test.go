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
	st.timer = [numTimers]int64{never, never, never, never}
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
	if st.canCast(spBarbedShot) {
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
	if st.canCast(spKillShot) {
		t.Fatal("kill shot usable at 50% health")
	}
	if st.wake != st.end*8/10+1 {
		t.Fatalf("wake hint %d, want the start of the execute phase", st.wake)
	}
	st.now = st.end*8/10 + 1
	if !st.canCast(spKillShot) {
		t.Fatalf("kill shot not usable at %.1f%% health", 100*st.healthPct())
	}
}

func TestPets(t *testing.T) {
	st := fightState(t, "bm_hunter.json", "animal_companion")
	st.timer = [numTimers]int64{never, never, never, never}
	st.summon(slotMain, petMain, 0)
	var swings []int64
	for len(swings) < 4 {
		next := st.timer[timerPetMelee]
		if !st.step() {
			t.Fatal("fight ended")
		}
		if st.now == next && st.timer[timerPetMelee] != never && st.timer[timerPetMelee] > next {
			swings = append(swings, st.now)
			if len(swings) == 2 {
				st.applyAura(auFrenzy, 3, 8_000) // three stacks of Frenzy
			}
		}
	}
	// 2.0 s swing / 1.2 haste = 1667 ms; with 3 Frenzy stacks / 1.9 = 877 ms.
	if swings[1]-swings[0] != 1_667 || swings[3]-swings[2] != 877 {
		t.Fatalf("swing times %v", swings)
	}
	if st.casts[abPetMelee] != 4 || st.casts[abCompanionMelee] != 4 {
		t.Fatalf("pet swings %d, companion swings %d", st.casts[abPetMelee], st.casts[abCompanionMelee])
	}
	if st.dmg[abPetMelee] <= 0 || st.dmg[abCompanionMelee] <= 0 || st.casts[abPetBasic] == 0 {
		t.Fatal("pets did no damage")
	}
	// Temporary pets leave when their time is up.
	st.summonDireBeast()
	slot := slotCompanion + 1
	if !st.pets[slot].active || st.pets[slot].expires != st.now+8_000 {
		t.Fatalf("dire beast %+v", st.pets[slot])
	}
	st.now += 8_000
	if st.petAlive(slot, st.pets[slot].gen) != nil {
		t.Fatal("dire beast outlived its duration")
	}
}
