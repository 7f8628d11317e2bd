package engine

import (
	"testing"

	hd "wowlab/engine/hunterdata"
)

// mmPlain is the marksmanship Sentinel example (whose Kill Shot is Kill
// Shot) without the talents that change Precise Shots' and Spotter's
// Mark's numbers, for the tests that count on the base values.
func mmPlain(t *testing.T) *Config {
	return mmSentinel(t).without("windrunner_quiver", "unmatched_precision", "light_ammo")
}

// consumeOne consumes a stack of Precise Shots in r.
func consumeOne(r *rig) {
	r.applied(auPreciseShots, 1)
	r.st.consumePrecise()
}

// applied puts aura a on r now with its own duration.
func (r *rig) applied(a auraID, stacks int8) *rig {
	r.st.applyAura(a, stacks)
	return r
}

// mmTests are the marksmanship tree's talents.
var mmTests = map[string]func(t *testing.T){
	"precise_shots": func(t *testing.T) {
		r := newRig(t, mmPlain(t)).noCrits()
		r.cast(spArcaneShot)
		plain := r.dmg(abArcaneShot)
		r.cast(spAimedShot)
		if r.st.auraStacks(auPreciseShots) != 1 {
			t.Fatalf("precise shots stacks %d after an aimed shot", r.st.auraStacks(auPreciseShots))
		}
		r.cast(spArcaneShot)
		near(t, "empowered / plain arcane shot", (r.dmg(abArcaneShot)-plain)/plain, 1+pct(260242, 1), exact)
		w, o := pair(t, mmPlain(t), "precise_shots")
		near(t, "auto shot damage", w.s.autoShotMult/o.s.autoShotMult, 1+pct(260240, 2), exact)
		near(t, "auto shot time added", (w.s.autoShotBase-o.s.autoShotBase)*w.s.autoShotSpeed, eff(260240, 1)/1000, exact)
		if o.st.auraActive(auPreciseShots) {
			t.Error("precise shots without the talent")
		}
	},
	"streamline": func(t *testing.T) {
		base := mmPlain(t).without("improved_streamline")
		w, o := pair(t, base, "streamline")
		staticRatio(t, w, o, abRapidFire, 1+pct(260367, 1))
		plain := w.st.castMs(spAimedShot)
		w.applied(auStreamline, 1)
		if got, want := w.st.castMs(spAimedShot), ms(w.s.p.aimedCast/w.st.haste*(1+pct(342076, 1))); got != want || plain == got {
			t.Errorf("aimed shot cast %d ms with a stack, want %d (plain %d)", got, want, plain)
		}
	},
	"lock_and_load": func(t *testing.T) {
		r := newRig(t, mmPlain(t).without("snakeskin_quiver"))
		const n = 20000
		hits := r.auraProcs(auLockAndLoad, n, func() {
			r.st.autoShot()
			if r.st.auraActive(auLockAndLoad) && r.st.castMs(spAimedShot) != 0 {
				t.Fatal("aimed shot not instant with lock and load")
			}
		})
		rate(t, "lock and load per auto shot", hits, n, pct(194595, 1))
	},
	"ammo_conservation": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "ammo_conservation")
		near(t, "aimed shot recharge added", w.s.baseCd[spAimedShot]-o.s.baseCd[spAimedShot], eff(459794, 5)/1000, exact)
		if d := w.s.rapidFireShots - o.s.rapidFireShots; d != int(eff(459794, 1)) {
			t.Errorf("rapid fire shots added %d", d)
		}
		near(t, "rapid fire's time between shots", w.s.rapidFireTick/o.s.rapidFireTick, 1+pct(459794, 2), exact)
	},
	"penetrating_shots": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "penetrating_shots")
		c, mw := w.st.playerRoll(abAimedShot, 1)
		_, mo := o.st.playerRoll(abAimedShot, 1)
		near(t, "aimed shot critical damage with/without", mw/mo, critMul(1, 1+pct(459783, 2)*c)/critMul(1, 1), exact)
	},
	"avian_specialization": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "avian_specialization")
		near(t, "spotter's mark bonus added", w.s.spottersMark-o.s.spottersMark, pct(466867, 1), exact)
	},
	"unbreakable_bond": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "unbreakable_bond")
		if w.st.live&1 == 0 || o.st.live&1 != 0 {
			t.Fatal("the pet is out without the talent or away with it")
		}
		near(t, "pet damage", w.s.petStatic/o.s.petStatic, 1+pct(1223323, 1), exact)
	},
	"trick_shots": func(t *testing.T) {
		base := targets(mmPlain(t), 3)
		w, o := pair(t, base, "trick_shots")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.cast(spMultiShot)
			r.cast(spAimedShot)
		}
		if !w.st.auraActive(auTrickShots) && w.st.ab[abAimedShot].hits != 3 {
			t.Fatalf("aimed shot hit %d targets", w.st.ab[abAimedShot].hits)
		}
		ratio(t, w, o, abAimedShot, 1+2*pct(257621, 4))
	},
	"aspect_of_the_hydra": func(t *testing.T) {
		base := targets(mmPlain(t), 2)
		w, o := pair(t, base, "aspect_of_the_hydra")
		w.noCrits().cast(spArcaneShot)
		o.noCrits().cast(spArcaneShot)
		ratio(t, w, o, abArcaneShot, 1+pct(470945, 1))
	},
	"in_the_rhythm": func(t *testing.T) {
		r := newRig(t, mmPlain(t).with("in_the_rhythm"))
		r.st.rapidFireEnd()
		r.st.autoShot()
		want := ms((r.s.autoShotBase + eff(407405, 1)/1000*r.s.autoShotSpeed) / r.st.haste)
		if got := r.st.timer[timerAutoShot] - r.st.now; got != want {
			t.Errorf("auto shot in %d ms in the rhythm, want %d", got, want)
		}
	},
	"surging_shots": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "surging_shots")
		staticRatio(t, w, o, abRapidFire, 1+pct(391559, 1))
		r := newRig(t, mmPlain(t).with("surging_shots"))
		const n = 6000
		resets := count(n, func() bool {
			r.drain(spRapidFire)
			r.cast(spAimedShot)
			return r.st.syncCd(spRapidFire).charges > 0
		})
		rate(t, "rapid fire resets per aimed shot", resets, n, hd.Get(391559).Chance/100)
	},
	"master_marksman": func(t *testing.T) {
		base := mmPlain(t).without("unnatural_causes")
		w, o := pair(t, base, "master_marksman")
		for _, r := range []*rig{w.allCrits(), o.allCrits()} {
			r.cast(spAimedShot)
			r.at(20_000)
		}
		near(t, "master marksman / critical aimed shot", w.dmg(abMasterMarksman)/w.dmg(abAimedShot), pct(260309, 1), exact)
		if o.dmg(abMasterMarksman) != 0 {
			t.Error("master marksman without the talent")
		}
	},
	"light_ammo": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "light_ammo")
		if w.s.trickAimedTargets-o.s.trickAimedTargets != int(eff(378913, 1)) || w.s.trickRapidTargets-o.s.trickRapidTargets != int(eff(378913, 2)) {
			t.Errorf("trick shots targets %d/%d with, %d/%d without", w.s.trickAimedTargets, w.s.trickRapidTargets, o.s.trickAimedTargets, o.s.trickRapidTargets)
		}
		near(t, "aspect of the hydra share added", w.s.hydra-o.s.hydra, pct(378913, 3), exact)
	},
	"improved_deathblow": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "improved_deathblow")
		near(t, "kill shot critical damage bonus", w.s.executeCritBonus/o.s.executeCritBonus, 1+pct(378769, 3), exact)
		near(t, "aimed shot deathblow chance", w.s.aimedDeathblow, pct(378769, 2), exact)
		near(t, "aimed shot deathblow chance without", o.s.aimedDeathblow, pct(343248, 1), exact)
		const n = 6000
		rate(t, "deathblow per rapid fire", w.auraProcs(auDeathblow, n, w.st.rapidFireStart), n, pct(378769, 1))
	},
	"obsidian_arrowhead": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "obsidian_arrowhead")
		staticRatio(t, w, o, abAutoShot, 1+pct(471350, 1))
		near(t, "auto shot crit added", w.st.critAt(abAutoShot, 0)-o.st.critAt(abAutoShot, 0), pct(471350, 2), exact)
	},
	"on_target": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "on_target")
		for _, r := range []*rig{w, o} {
			r.applied(auSpottersMark, 1)
			r.cast(spAimedShot)
		}
		near(t, "haste with a stack", w.st.haste/o.st.haste, 1+pct(474257, 1), exact)
	},
	"moving_target": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "moving_target")
		for _, r := range []*rig{w, o} {
			r.applied(auPreciseShots, 1)
			r.st.consumePrecise()
		}
		if !w.st.auraActive(auMovingTarget) || o.st.auraActive(auMovingTarget) {
			t.Fatal("moving target not granted by consuming precise shots with the talent only")
		}
		near(t, "aimed shot multiplier", w.st.aimedMult()/o.st.aimedMult(), 1+pct(474293, 1), exact)
	},
	"precision_detonation": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "precision_detonation")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.cast(spExplosiveShot)
			r.cast(spAimedShot)
			r.at(r.s.auraDur[auExplosiveShot])
		}
		ratio(t, w, o, abExplosiveShot, 1+pct(474199, 1))
		if w.st.auraStacks(auStreamline) == 0 {
			t.Error("explosive shot gave no streamline")
		}
	},
	"razor_fragments": func(t *testing.T) {
		base := mmPlain(t).without("unnatural_causes", "headshot")
		w, o := pair(t, base, "razor_fragments")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.st.deathblow()
			r.cast(spKillShot)
			r.at(20_000)
		}
		ratio(t, w, o, abKillShot, 1+pct(388998, 1))
		near(t, "bleed / kill shot", w.dmg(abRazorFragments)/w.dmg(abKillShot), pct(388998, 3), exact)
	},
	"headshot": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "headshot")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.applied(auPreciseShots, 1)
			r.cast(spKillShot)
		}
		ratio(t, w, o, abKillShot, 1+pct(471363, 1))
	},
	"deadeye": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "deadeye")
		if d := w.s.charges[spKillShot] - o.s.charges[spKillShot]; int(d) != int(eff(321460, 1)) {
			t.Errorf("kill shot charges added %d", d)
		}
		near(t, "kill shot recharge added", w.s.baseCd[spKillShot]-o.s.baseCd[spKillShot], eff(321460, 2)/1000, exact)
	},
	"no_scope": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "no_scope")
		w.st.rapidFireStart()
		o.st.rapidFireStart()
		if !w.st.auraActive(auPreciseShots) || o.st.auraActive(auPreciseShots) {
			t.Error("rapid fire grants precise shots without the talent or not with it")
		}
	},
	"feathered_frenzy": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "feathered_frenzy")
		w.cast(spTrueshot)
		o.cast(spTrueshot)
		if !w.st.auraActive(auSpottersMark) || o.st.auraActive(auSpottersMark) {
			t.Error("trueshot marks the target without the talent or not with it")
		}
		near(t, "spotter's mark chance multiplier", w.s.p.featheredFrenzy, 1+pct(470943, 1), exact)
	},
	"target_acquisition": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "target_acquisition")
		d := cut(w, o, spAimedShot, func(r *rig) {
			r.applied(auSpottersMark, 1)
			r.st.aimedImpact(1)
		})
		if d != msOf(eff(473379, 1)) {
			t.Errorf("aimed shot cooldown cut by %d ms, want %v", d, eff(473379, 1))
		}
	},
	"shrapnel_shot": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "shrapnel_shot")
		w.cast(spExplosiveShot)
		o.cast(spExplosiveShot)
		if !w.st.auraActive(auLockAndLoad) || o.st.auraActive(auLockAndLoad) {
			t.Error("explosive shot grants lock and load without the talent or not with it")
		}
	},
	"magnetic_gunpowder": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "magnetic_gunpowder")
		if d := cut(w, o, spExplosiveShot, consumeOne); d != msOf(eff(473522, 1)) {
			t.Errorf("explosive shot cooldown cut by %d ms per precise shots stack, want %v", d, eff(473522, 1))
		}
	},
	"unmatched_precision": func(t *testing.T) {
		w := newRig(t, mmPlain(t).with("unmatched_precision"))
		o := newRig(t, mmPlain(t))
		near(t, "precise shots bonus added", w.s.preciseDmg-o.s.preciseDmg, 2*pct(1232955, 1), exact)
	},
	"bullseye": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "bullseye")
		for _, r := range []*rig{w, o} {
			r.st.now = r.s.executeAt
			r.st.invalidate()
			r.cast(spArcaneShot)
		}
		near(t, "aimed shot crit added", w.st.critAt(abAimedShot, w.st.now)-o.st.critAt(abAimedShot, o.st.now), pct(204090, 1), exact)
	},
	"calling_the_shots": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "calling_the_shots")
		near(t, "trueshot cooldown cut", o.s.baseCd[spTrueshot]-w.s.baseCd[spTrueshot], eff(260404, 1)/1000, exact)
	},
	"unerring_vision": func(t *testing.T) {
		w, o := pair(t, mmPlain(t).without("penetrating_shots"), "unerring_vision")
		for _, r := range []*rig{w, o} {
			r.cast(spTrueshot)
		}
		near(t, "crit added in trueshot", w.st.critAt(abAimedShot, 0)-o.st.critAt(abAimedShot, 0), pct(474738, 1), exact)
		_, mw := w.st.playerRoll(abAimedShot, 1)
		_, mo := o.st.playerRoll(abAimedShot, 1)
		near(t, "aimed shot critical damage", mw/mo, critMul(1+pct(288613, 5)+pct(474738, 2), 1)/critMul(1+pct(288613, 5), 1), exact)
	},
	"small_game_hunter": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "small_game_hunter")
		staticRatio(t, w, o, abMultiShot, 1+pct(459802, 1))
		staticRatio(t, w, o, abExplosiveShot, 1+pct(459802, 2))
	},
	"eagles_accuracy": func(t *testing.T) {
		for rank := 1; rank <= 2; rank++ {
			w := newRig(t, mmPlain(t).with("eagles_accuracy:"+itoa(rank)))
			o := newRig(t, mmPlain(t).without("eagles_accuracy"))
			staticRatio(t, w, o, abAimedShot, 1+pct(473369, 1)*float64(rank)/2)
			staticRatio(t, w, o, abRapidFire, 1+pct(473369, 1)*float64(rank)/2)
		}
	},
	"improved_streamline": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "improved_streamline")
		near(t, "streamline's cast time cut added", w.s.streamlineCast-o.s.streamlineCast, pct(471427, 1), exact)
	},
	"focused_aim": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "focused_aim")
		if d := cut(w, o, spAimedShot, consumeOne); d != msOf(eff(378767, 1)) {
			t.Errorf("aimed shot cooldown cut by %d ms per precise shots stack, want %v", d, eff(378767, 1))
		}
	},
	"bulletstorm": func(t *testing.T) {
		w, o := pair(t, mmPlain(t).without("incendiary_ammunition"), "bulletstorm")
		for _, r := range []*rig{w, o} {
			r.st.rapidFireShot()
			r.st.rapidFireShot()
		}
		if w.st.auraStacks(auBulletstorm) != 2 || o.st.auraActive(auBulletstorm) {
			t.Fatalf("bulletstorm stacks %d after two shots (without: %v)", w.st.auraStacks(auBulletstorm), o.st.auraActive(auBulletstorm))
		}
		near(t, "aimed shot multiplier", w.st.aimedMult()/o.st.aimedMult(), 1+2*pct(389020, 1), exact)
	},
	"tensile_bowstring": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "tensile_bowstring")
		for _, r := range []*rig{w, o} {
			r.cast(spTrueshot)
			r.applied(auPreciseShots, 1)
			r.st.consumePrecise()
		}
		if d := w.st.auras[auTrueshot].end - o.st.auras[auTrueshot].end; d != msOf(eff(471366, 1)) {
			t.Errorf("trueshot extended by %d ms per stack, want %v", d, eff(471366, 1))
		}
		near(t, "streamline's effect in trueshot", w.st.streamlineShare(), 1+pct(471366, 2), exact)
	},
	"ohnahran_winds": func(t *testing.T) {
		base := targets(mmPlain(t), 3)
		w, o := pair(t, base, "ohnahran_winds")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.applied(auTrickShots, 1)
			r.applied(auSpottersMark, 1)
			r.cast(spAimedShot)
		}
		// Without: the primary P and two secondaries of P*share/mark.
		share, mark := pct(257621, 4), o.s.spottersMark
		primary := o.dmg(abAimedShot) / (1 + 2*share/mark)
		winds := pct(1215057, 1)
		if base.hasTalent("avian_specialization") {
			winds += pct(466867, 1)
		}
		near(t, "the second mark's extra / a secondary hit", (w.dmg(abAimedShot)-o.dmg(abAimedShot))/(primary*share/mark), winds, exact)
	},
	"windrunner_quiver": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "windrunner_quiver")
		w.cast(spAimedShot)
		if w.st.auraStacks(auPreciseShots) != 2 {
			t.Errorf("precise shots stacks %d after an aimed shot (the data's %v%% chance of two)", w.st.auraStacks(auPreciseShots), eff(473523, 6))
		}
		near(t, "precise shots bonus change", w.s.preciseDmg-o.s.preciseDmg, pct(473523, 1), exact)
	},
	"incendiary_ammunition": func(t *testing.T) {
		base := mmPlain(t).without("penetrating_shots")
		w, o := pair(t, base, "incendiary_ammunition")
		if d := w.s.auraMax[auBulletstorm] - o.s.auraMax[auBulletstorm]; int(d) != int(eff(471428, 2)) {
			t.Errorf("bulletstorm stacks added %d", d)
		}
		for _, r := range []*rig{w.allCrits(), o.allCrits()} {
			r.applied(auBulletstorm, 3)
			r.cast(spAimedShot)
		}
		ratio(t, w, o, abAimedShot, critMul(1+3*pct(471428, 1), 1)/critMul(1, 1))
	},
	"double_tap": func(t *testing.T) {
		// Without Feathered Frenzy's mark, which only the first shot takes.
		w, o := pair(t, mmPlain(t).without("feathered_frenzy"), "double_tap")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.cast(spTrueshot)
			r.st.ab[abAimedShot].dmg = 0
			r.cast(spAimedShot)
			r.at(1000)
		}
		ratio(t, w, o, abAimedShot, 1+pct(473370, 3))
		near(t, "rapid fire shots in double tap", w.s.p.doubleTapShots, 1+pct(260402, 3), exact)
	},
	"kill_zone": func(t *testing.T) {
		w, o := pair(t, mmPlain(t), "kill_zone")
		w.cast(spVolley)
		o.cast(spVolley)
		near(t, "damage taken in volley", w.st.targetMultAt(abAimedShot, 0)/o.st.targetMultAt(abAimedShot, 0), 1+pct(393480, 2), exact)
	},
	"salvo": func(t *testing.T) {
		base := targets(mmPlain(t), 3)
		w, o := pair(t, base, "salvo")
		for _, r := range []*rig{w, o} {
			r.cast(spVolley)
			r.at(r.s.p.volleyPeriodMs)
		}
		if got := w.st.auraStacks(auExplosiveShot); got != int(eff(400456, 1)) || o.st.auraActive(auExplosiveShot) {
			t.Errorf("explosive shot on %d targets after volley's first tick", got)
		}
	},
	"bullet_hell": func(t *testing.T) {
		base := targets(mmPlain(t), 3)
		w, o := pair(t, base, "bullet_hell")
		if d := cut(w, o, spRapidFire, func(r *rig) { r.cast(spMultiShot) }); d != 3*msOf(eff(473378, 1)) {
			t.Errorf("rapid fire cooldown cut by %d ms by a multi-shot on 3 targets", d)
		}
	},
}
