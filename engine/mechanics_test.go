package engine

import (
	"testing"

	hd "wowlab/engine/hunterdata"
)

func TestArmorFromTargetAndLevel(t *testing.T) {
	c := dataConfig(t, "bm_hunter.json", "cobra_shot")
	c.Target.Armor = nil
	boss := compileConfig(t, c)
	row := hd.LevelArmor(hd.PlayerLevel + 3)
	k := hd.LevelArmor(hd.PlayerLevel).Constant
	// A level +3 boss without armor given has its level's armor: the
	// physical Cobra Shot keeps 1-armor/(armor+K) of its damage, the bleed
	// of Barbed Shot all of it.
	near(t, "cobra shot's armor share", boss.static[abCobraShot]/plus(137015, 1), 1-row.Armor/(row.Armor+k), exact)
	near(t, "barbed shot's", boss.static[abBarbedShot]/plus(137015, 2), 1, exact)
	none := 0.0
	c.Target.Armor = &none
	bare := compileConfig(t, c)
	near(t, "cobra shot without armor", bare.static[abCobraShot]/plus(137015, 1), 1, exact)
	low := c.clone()
	low.Target.Armor = nil
	low.Target.LevelDiff = -5
	weak := compileConfig(t, low)
	lr := hd.LevelArmor(hd.PlayerLevel - 5)
	near(t, "against a level 75 creature", weak.static[abCobraShot]/plus(137015, 1), 1-lr.Armor/(lr.Armor+k), exact)
}

func TestRatingsWithDiminishingReturns(t *testing.T) {
	c := exampleConfig(t, "bm_hunter.json").quiet().without("serrated_tips", "keen_eyesight")
	c.Player.Stats = Stats{Agility: 1000, CritRating: 35_000, HasteRating: 6600, MasteryRating: 7000, VersatilityRating: 7800}
	s := compileConfig(t, c)
	// 35 000 crit rating is 50% before diminishing returns: 30 + 10*0.9 + 10*0.8.
	near(t, "crit", s.crit, (30+9+8+eff(157443, 1))/100, exact)
	near(t, "haste", s.haste, 1.10, exact)
	near(t, "versatility", s.vers, 1.10, exact)
	near(t, "mastery points", s.masteryPts, hd.BaseMasteryPoints+10, exact)
	near(t, "agility with mail specialization", s.ap, 1000*(1+pct(86538, 1)), exact)
}

func TestRaidBuffsAndDebuffs(t *testing.T) {
	base := dataConfig(t, "bm_hunter.json", "cobra_shot", "explosive_shot")
	off := compileConfig(t, base)
	on := base.clone()
	on.Raid = Raid{BattleShout: true, MarkOfTheWild: true, Skyfury: true, HuntersMark: true, MysticTouch: true, ChaosBrand: true}
	s := compileConfig(t, on)
	near(t, "battle shout", s.ap/off.ap, 1+pct(6673, 1), exact)
	near(t, "mark of the wild", s.vers-off.vers, pct(1126, 1), exact)
	near(t, "skyfury", s.masteryPts-off.masteryPts, eff(462854, 1), exact)
	near(t, "mystic touch on physical hits", s.static[abCobraShot]/off.static[abCobraShot]/(s.vers/off.vers), 1+pct(113746, 1), exact)
	near(t, "chaos brand on magic hits", s.static[abExplosiveShot]/off.static[abExplosiveShot]/(s.vers/off.vers), 1+pct(1490, 1), exact)
	r := newRig(t, on)
	near(t, "hunter's mark above 80% health", r.st.targetMultAt(abCobraShot, 0), 1+pct(428402, 1), exact)
	near(t, "hunter's mark gone below", r.st.targetMultAt(abCobraShot, r.s.markEnd), 1, exact)
}

func TestBloodlustAtItsTime(t *testing.T) {
	c := dataConfig(t, "bm_hunter.json", "cobra_shot")
	c.Raid.Bloodlust, c.Raid.BloodlustAt = true, 20
	s := compileConfig(t, c)
	st, err := newState(s)
	if err != nil {
		t.Fatal(err)
	}
	st.reset(1)
	for st.now < 15_000 && st.step() {
	}
	if st.haste != s.haste || st.auraActive(auBloodlust) {
		t.Fatalf("haste %v before bloodlust", st.haste)
	}
	for !st.auraActive(auBloodlust) && st.step() {
	}
	near(t, "haste in bloodlust", st.haste/s.haste, 1+pct(2825, 1), exact)
	if got := st.auras[auBloodlust].end; got != 20_000+ms(hd.Get(2825).Duration) {
		t.Errorf("bloodlust ends at %d", got)
	}
	for st.now < 61_000 && st.step() {
	}
	if st.haste != s.haste {
		t.Errorf("haste %v after bloodlust", st.haste)
	}
}

func TestChargesAndHastedRecharge(t *testing.T) {
	c := dataConfig(t, "bm_hunter.json", "barbed_shot")
	h := 20.0
	c.Player.Stats.HastePct = &h
	r := newRig(t, c)
	want := ms(hd.Get(217200).Cooldown / 1.2)
	if got := r.st.rechargeMs(spBarbedShot); got != want {
		t.Fatalf("hasted recharge %d ms, want %d", got, want)
	}
	r.st.useCharge(spBarbedShot)
	r.st.useCharge(spBarbedShot)
	if cd := r.st.syncCd(spBarbedShot); cd.charges != 0 || cd.end != want {
		t.Fatalf("after two casts: %+v", *cd)
	}
	if (env{r.st}).CanCast(int(spBarbedShot)) || r.st.wake != want {
		t.Fatalf("castable without charges, or wake %d", r.st.wake)
	}
	r.st.now = want
	if cd := r.st.syncCd(spBarbedShot); cd.charges != 1 || cd.end != 2*want {
		t.Fatalf("after one recharge: %+v", *cd)
	}
	// Bloodlust mid-recharge shortens what is left of it.
	r.st.now = want + want/2
	r.st.applyTimedAura(auBloodlust, r.s.auraDur[auBloodlust])
	left := r.st.syncCd(spBarbedShot).end - r.st.now
	if d := left - msOf(float64(want/2)/(1+pct(2825, 1))); d < -1 || d > 1 {
		t.Errorf("recharge left %d ms in bloodlust", left)
	}
}

func TestFocusRegenerationWithHaste(t *testing.T) {
	c := dataConfig(t, "bm_hunter.json", "barbed_shot")
	h := 20.0
	c.Player.Stats.HastePct = &h
	r := newRig(t, c)
	r.st.focus = 0
	r.st.now = 1000
	near(t, "focus after a second", r.st.currentFocus(), c.Player.Resources.RegenPerSecond*1.2, exact)
	// Barbed Shot's focus over time (246152): its ticks add on top.
	r.st.focus, r.st.focusAt = 0, r.st.now
	r.st.grantFocusOverTime()
	bf := hd.Get(246152)
	r.st.now += ms(bf.Duration)
	want := c.Player.Resources.RegenPerSecond*1.2*bf.Duration + bf.Eff(1)*bf.Duration/bf.Period
	near(t, "focus after the grants", r.st.currentFocus(), want, exact)
}
