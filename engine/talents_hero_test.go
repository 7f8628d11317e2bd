package engine

import (
	"testing"

	hd "wowlab/engine/hunterdata"
)

// withoutTree returns a copy of c without the talents of hero tree tree
// (and so without the set, whose bonuses are the tree's).
func (c *Config) withoutTree(tree hd.Tree) *Config {
	var names []string
	for _, t := range hd.Talents() {
		if t.Tree == tree {
			names = append(names, t.Name)
		}
	}
	d := c.without(names...)
	d.Player.TierSet = 0
	return d
}

// tier returns a copy of c wearing pieces of the set.
func tier(c *Config, pieces int) *Config {
	d := c.clone()
	d.Player.TierSet = pieces
	return d
}

// readyBeast readies the next beast of Howl of the Pack Leader in r.
func (r *rig) readyBeast() {
	r.st.auras[auHowlCooldown].end = r.st.now
	r.st.howlSync()
}

// heroTests are the hero talents' tests.
var heroTests = map[string]func(t *testing.T){
	// --- Pack Leader ----------------------------------------------------------
	"howl_of_the_pack_leader": func(t *testing.T) {
		r := newRig(t, bmBase(t))
		if !r.st.howlRunning || r.st.auras[auHowlCooldown].end != ms(hd.Get(471877).Duration) {
			t.Fatalf("howl's first cooldown ends at %d", r.st.auras[auHowlCooldown].end)
		}
		r.at(ms(hd.Get(471877).Duration))
		r.st.howlSync()
		if !r.st.auraActive(auHowlWyvern) {
			t.Fatal("the wyvern is not ready after the cooldown")
		}
		r.cast(spKillCommand)
		if got := r.st.auraStacks(auWyvernsCry); got != int(eff(471876, 3)) {
			t.Errorf("wyvern's cry stacks %d, want %v", got, eff(471876, 3))
		}
		if !r.st.howlRunning || r.st.howlNext != howlBoar {
			t.Error("the cooldown did not start again for the boar")
		}
		near(t, "pet damage per stack of wyvern's cry", r.st.petOwnerMultAt(r.st.now, false)/r.st.ownerBaseAt(r.st.now), 1+eff(471876, 3)*pct(471881, 1), exact)
		o := newRig(t, bmBase(t).withoutTree(hd.HeroPackLeader))
		if o.st.howlRunning || o.s.has(tHowlOfThePackLeader) {
			t.Error("howl of the pack leader without pack leader talents")
		}
	},
	"pack_mentality": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "pack_mentality")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.readyBeast()
			r.spendAll(spBarbedShot)
			r.cast(spKillCommand)
		}
		ap := pct(269737, 4)
		ratio(t, w, o, abPetKillCommand, (1+ap+pct(472358, 1))/(1+ap))
		if d := o.cdLeft(spBarbedShot) - w.cdLeft(spBarbedShot); d != msOf(eff(472358, 2)) {
			t.Errorf("barbed shot cooldown cut by %d ms per beast, want %v", d, eff(472358, 2))
		}
	},
	"dire_summons": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "dire_summons")
		w.cast(spKillCommand)
		o.cast(spKillCommand)
		if d := o.st.auras[auHowlCooldown].end - w.st.auras[auHowlCooldown].end; d != msOf(eff(472352, 1)) {
			t.Errorf("howl cut by %d ms per kill command, want %v", d, eff(472352, 1))
		}
		w.cast(spCobraShot)
		o.cast(spCobraShot)
		if d := o.st.auras[auHowlCooldown].end - w.st.auras[auHowlCooldown].end; d != msOf(eff(472352, 1)+eff(472352, 3)) {
			t.Errorf("howl cut by %d ms after a cobra shot too", d)
		}
	},
	"better_together": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "better_together")
		near(t, "pet damage", w.s.petStatic/o.s.petStatic, 1+pct(472357, 1), exact)
		near(t, "frenzy's attack speed per stack added", w.s.p.frenzySpeed-o.s.p.frenzySpeed, pct(472357, 5)/float64(hd.Get(272790).MaxStack), exact)
	},
	"ursine_fury": func(t *testing.T) {
		r := newRig(t, bmBase(t).with("ursine_fury"))
		const n = 10000
		cuts := count(n, func() bool {
			r.drain(spKillCommand)
			before := r.cdLeft(spKillCommand)
			r.st.dotTick(dotRendFlesh, 0)
			if d := before - r.cdLeft(spKillCommand); d != 0 && d != msOf(eff(472476, 2)) {
				t.Fatalf("kill command cut by %d ms", d)
			}
			return r.cdLeft(spKillCommand) < before
		})
		rate(t, "kill command cuts per rend flesh tick", cuts, n, hd.Get(472478).Chance/100)
	},
	"fury_of_the_wyvern": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "fury_of_the_wyvern")
		if w.s.auraMax[auWyvernsCry] != int8(hd.Get(471881).MaxStack) || o.s.auraMax[auWyvernsCry] != int8(eff(471876, 3)) {
			t.Errorf("wyvern's cry holds %d stacks with, %d without", w.s.auraMax[auWyvernsCry], o.s.auraMax[auWyvernsCry])
		}
		for _, r := range []*rig{w, o} {
			r.readyBeast()
			r.cast(spKillCommand)
			for range 20 {
				r.cast(spKillCommand)
			}
		}
		if d := w.st.auras[auWyvernsCry].end - o.st.auras[auWyvernsCry].end; d != ms(eff(472550, 4)) {
			t.Errorf("wyvern's cry extended by %d ms in all, want the cap of %v s", d, eff(472550, 4))
		}
	},
	"hogstrider": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "hogstrider")
		for _, r := range []*rig{w, o} {
			r.st.boarLeft = 1
			r.st.boarCharge()
		}
		if got := w.st.auraStacks(auHogstrider); got != 2 || o.st.auraActive(auHogstrider) {
			t.Fatalf("hogstrider stacks %d after a charge on one target (the hit and the cleave)", got)
		}
		w.noCrits().cast(spCobraShot)
		o.noCrits().cast(spCobraShot)
		ratio(t, w, o, abCobraShot, 1+2*pct(472640, 1))
		if w.st.auraActive(auHogstrider) {
			t.Error("hogstrider not consumed")
		}
	},
	"no_mercy": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "no_mercy")
		w.cast(spKillShot)
		o.cast(spKillShot)
		if w.st.ab[abPetClaw].hits != 1 || o.st.ab[abPetClaw].hits != 0 {
			t.Errorf("claws after kill shot: %d with, %d without", w.st.ab[abPetClaw].hits, o.st.ab[abPetClaw].hits)
		}
	},
	"lead_from_the_front": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "lead_from_the_front")
		w.cast(spBestialWrath)
		o.cast(spBestialWrath)
		if !w.st.auraActive(auLeadFromTheFront) || !w.st.howlReadyAny() || o.st.howlReadyAny() {
			t.Fatal("bestial wrath does not bring lead from the front and a beast with the talent only")
		}
		near(t, "pet damage in the buff", w.st.ownerBaseAt(0)/o.st.ownerBaseAt(0), 1+pct(472743, 4), exact)
	},

	// --- Dark Ranger ----------------------------------------------------------
	"black_arrow": func(t *testing.T) {
		w := newRig(t, bmDR(t))
		o := newRig(t, bmDR(t).withoutTree(hd.HeroDarkRanger))
		if !w.s.known[spBlackArrow] || o.s.known[spBlackArrow] {
			t.Fatal("black arrow known without dark ranger talents or not with them")
		}
		w.noCrits().cast(spKillShot)
		if w.dmg(abBlackArrow) == 0 || w.dmg(abKillShot) != 0 || !w.st.auraActive(auBlackArrowDot) {
			t.Error("kill shot is not black arrow with dark ranger")
		}
	},
	"bleak_arrows": func(t *testing.T) {
		w, o := pair(t, bmDR(t), "bleak_arrows")
		staticRatio(t, w, o, abAutoShot, 1/armorMult(bmDR(t)))
		const n = 6000
		r := newRig(t, bmDR(t).without("snakeskin_quiver"))
		rate(t, "deathblow per auto shot", r.auraProcs(auDeathblow, n, r.st.autoShot), n, pct(467749, 1))
	},
	"the_bell_tolls": func(t *testing.T) {
		w, o := pair(t, bmDR(t), "the_bell_tolls")
		w.cast(spBlackArrow)
		o.cast(spBlackArrow)
		stack := pct(1232992, 1) + pct(137015, 14)
		near(t, "hunter's damage with a stack", w.st.playerMultAt(0)/o.st.playerMultAt(0), 1+stack, exact)
		near(t, "pets' damage with a stack", w.st.ownerBaseAt(0)/o.st.ownerBaseAt(0), 1+stack, exact)
	},
	"bleak_powder": func(t *testing.T) {
		w, o := pair(t, targets(bmDR(t), 3), "bleak_powder")
		w.cast(spBlackArrow)
		o.cast(spBlackArrow)
		if w.st.ab[abBleakPowder].hits != 2 || o.st.ab[abBleakPowder].hits != 0 {
			t.Errorf("bleak powder hits %d with, %d without", w.st.ab[abBleakPowder].hits, o.st.ab[abBleakPowder].hits)
		}
	},
	"phantom_pain": func(t *testing.T) {
		w, o := pair(t, targets(bmDR(t), 3), "phantom_pain")
		for _, r := range []*rig{w.noCrits().quietPets(), o.noCrits().quietPets()} {
			r.cast(spBlackArrow)
			r.cast(spKillCommand)
		}
		kc := w.dmg(abPetKillCommand) + w.dmg(abCompanionKillCommand)
		share := pct(467941, 1) + pct(137015, 13)
		near(t, "phantom pain / kill commands", w.dmg(abPhantomPain)/kc, share*2, exact)
		if o.dmg(abPhantomPain) != 0 {
			t.Error("phantom pain without the talent")
		}
	},
	"ebon_bowstring": func(t *testing.T) {
		r := newRig(t, bmDR(t).with("ebon_bowstring"))
		const n = 6000
		rate(t, "deathblow per black arrow", r.auraProcs(auDeathblow, n, r.st.blackArrow), n, pct(467897, 1))
	},
	"shadow_hounds": func(t *testing.T) {
		r := newRig(t, bmDR(t).with("shadow_hounds"))
		const n = 40000
		hounds := count(n, func() bool {
			r.st.dotTick(dotBlackArrow, 0)
			out := r.liveKind(petDarkHound) > 0
			r.clearSummons()
			return out
		})
		rate(t, "dark hounds per black arrow tick", hounds, n, hd.Get(430707).RPPM/60*hd.Get(468572).Period)
	},
	"soul_drinker": func(t *testing.T) {
		w, o := pair(t, bmDR(t), "soul_drinker")
		staticRatio(t, w, o, abBlackArrow, 1+pct(469638, 1))
		staticRatio(t, w, o, abBlackArrowDot, 1+pct(469638, 2))
		staticRatio(t, w, o, abBleakPowder, 1+pct(469638, 3))
	},
	"banshees_mark": func(t *testing.T) {
		r := newRig(t, bmDR(t).with("banshees_mark"))
		const n = 6000
		crows := count(n, func() bool {
			r.st.blackArrow()
			on := r.st.auraActive(auMurderOfCrows)
			r.st.dots[dotCrows] = dot{}
			r.st.auras[auMurderOfCrows].end = 0
			return on
		})
		rate(t, "murders of crows per black arrow", crows, n, pct(467902, 2))
	},
	"umbral_reach": func(t *testing.T) {
		w, o := pair(t, targets(bmDR(t).with("beast_cleave"), 3), "umbral_reach")
		staticRatio(t, w, o, abBlackArrowDot, 1+pct(1235397, 1))
		w.cast(spBlackArrow)
		o.cast(spBlackArrow)
		if w.st.dots[dotBlackArrow].targets != 3 || !w.st.auraActive(auBeastCleave) || o.st.auraActive(auBeastCleave) {
			t.Errorf("black arrow on %d targets, beast cleave %v with, %v without", w.st.dots[dotBlackArrow].targets, w.st.auraActive(auBeastCleave), o.st.auraActive(auBeastCleave))
		}
	},
	"withering_fire": func(t *testing.T) {
		w, o := pair(t, mmDR(t), "withering_fire")
		for _, r := range []*rig{w, o} {
			r.cast(spTrueshot)
		}
		if !w.st.auraActive(auWitheringFire) || !w.st.auraActive(auDeathblow) || o.st.auraActive(auWitheringFire) {
			t.Fatal("trueshot does not bring withering fire and deathblow with the talent only")
		}
		w.cast(spBlackArrow)
		if got := w.st.ab[abWitheringFire].hits; got != int32(eff(466990, 3)) {
			t.Errorf("withering fire arrows %d, want %v", got, eff(466990, 3))
		}
	},

	// --- Sentinel -------------------------------------------------------------
	"sentinel": func(t *testing.T) {
		r := newRig(t, mmSentinel(t).without("release_and_reload", "extrapolated_shots", "eyes_closed"))
		const n = 6000
		gains := count(n, func() bool {
			r.st.sentinelStacks, r.st.sentinelBusy = 0, true
			r.st.sentinelHit()
			return r.st.sentinelStacks > 0
		})
		rate(t, "sentinel stacks per hit", gains, n, r.s.p.sentinelChance)
		o := newRig(t, mmSentinel(t).withoutTree(hd.HeroSentinel))
		o.cast(spAimedShot)
		if o.st.sentinelStacks != 0 || o.s.has(tSentinel) {
			t.Error("sentinel without sentinel talents")
		}
	},
	"extrapolated_shots": func(t *testing.T) {
		w, o := pair(t, mmSentinel(t).without("release_and_reload"), "extrapolated_shots")
		for _, r := range []*rig{w, o} {
			r.st.sentinelBusy = true
			r.applied(auEyesClosed, 1)
			r.st.sentinelHit()
		}
		if d := w.st.sentinelStacks - o.st.sentinelStacks; int(d) != int(eff(450374, 1)) {
			t.Errorf("first application adds %d more stacks, want %v", d, eff(450374, 1))
		}
	},
	"sentinel_precision": func(t *testing.T) {
		w, o := pair(t, mmSentinel(t), "sentinel_precision")
		staticRatio(t, w, o, abAimedShot, 1+pct(450375, 1))
		staticRatio(t, w, o, abRapidFire, 1+pct(450375, 1))
	},
	"release_and_reload": func(t *testing.T) {
		r := newRig(t, mmSentinel(t).with("release_and_reload").without("extrapolated_shots"))
		const n = 6000
		doubles := count(n, func() bool {
			r.st.sentinelStacks, r.st.sentinelBusy = 1, true
			r.applied(auEyesClosed, 1)
			r.st.sentinelHit()
			return r.st.sentinelStacks == 3
		})
		rate(t, "second stacks per application", doubles, n, pct(450376, 1))
	},
	"invigorating_pulse": func(t *testing.T) {
		r := newRig(t, mmSentinel(t).with("invigorating_pulse").without("sentinel_watch"))
		const n = 6000
		gains := count(n, func() bool {
			r.st.focus, r.st.focusAt = 0, r.st.now
			r.st.sentinelStacks = 1
			r.st.sentinelImplodeTick()
			f := r.st.currentFocus()
			if f > 0 {
				near(t, "focus from a pulse", f, eff(450379, 1), exact)
			}
			return f > 0
		})
		rate(t, "focus per sentinel implosion tick", gains, n, pct(450379, 2))
	},
	"sentinel_watch": func(t *testing.T) {
		w, o := pair(t, mmSentinel(t).with("sentinel"), "sentinel_watch")
		for _, r := range []*rig{w, o} {
			r.drain(spTrueshot)
			r.st.cds[spTrueshot].end = 100_000
			for range 30 {
				r.st.sentinelStacks = 1
				r.st.sentinelImplodeTick()
			}
		}
		if d := o.cdLeft(spTrueshot) - w.cdLeft(spTrueshot); d != ms(eff(451546, 2)) {
			t.Errorf("trueshot cut by %d ms in all, want the cap of %v s", d, eff(451546, 2))
		}
	},
	"eyes_closed": func(t *testing.T) {
		w, o := pair(t, mmSentinel(t).without("release_and_reload", "extrapolated_shots"), "eyes_closed")
		for _, r := range []*rig{w, o} {
			r.cast(spTrueshot)
			r.st.sentinelBusy = true
		}
		if !w.st.auraActive(auEyesClosed) || w.st.auras[auEyesClosed].end != ms(hd.Get(451180).Duration) || o.st.auraActive(auEyesClosed) {
			t.Fatal("trueshot does not close the eyes for 451180's duration with the talent only")
		}
		for range 5 {
			w.st.sentinelHit()
		}
		if w.st.sentinelStacks != 5 {
			t.Errorf("%d stacks from five hits with eyes closed", w.st.sentinelStacks)
		}
	},
	"symphonic_arsenal": func(t *testing.T) {
		w, o := pair(t, targets(mmSentinel(t), 3), "symphonic_arsenal")
		for _, r := range []*rig{w, o} {
			r.st.sentinelStacks = 1
			r.cast(spMultiShot)
		}
		if w.st.ab[abSymphonicArsenal].hits != 3 || o.st.ab[abSymphonicArsenal].hits != 0 {
			t.Errorf("symphonic arsenal hits %d with, %d without", w.st.ab[abSymphonicArsenal].hits, o.st.ab[abSymphonicArsenal].hits)
		}
	},
	"overwatch": func(t *testing.T) {
		base := mmSentinel(t).without("crescent_steel", "release_and_reload", "extrapolated_shots")
		w, o := pair(t, base, "overwatch")
		for _, r := range []*rig{w, o} {
			r.st.now = r.s.overwatchAt
			r.st.sentinelStacks = int8(eff(450369, 1))
			r.s.p.sentinelImplode = 0 // only Overwatch implodes the mark
			r.applied(auEyesClosed, 1)
			r.st.sentinelHit()
		}
		if !w.st.sentinelBusy || o.st.sentinelBusy {
			t.Fatal("the mark does not implode in execute range with the talent only")
		}
		if w.st.overwatchReady != w.st.now+ms(eff(450384, 2)) {
			t.Errorf("overwatch ready again at %d", w.st.overwatchReady)
		}
	},
	"crescent_steel": func(t *testing.T) {
		w, o := pair(t, mmSentinel(t).without("overwatch"), "crescent_steel")
		for _, r := range []*rig{w, o} {
			r.st.startFight()
			r.at(r.s.overwatchAt + ms(hd.Get(451531).Period))
		}
		if w.st.sentinelStacks != 1 || o.st.sentinelStacks != 0 {
			t.Errorf("stacks in execute range: %d with, %d without", w.st.sentinelStacks, o.st.sentinelStacks)
		}
	},
	"lunar_storm": func(t *testing.T) {
		w, o := pair(t, targets(mmSentinel(t), 2), "lunar_storm")
		for _, r := range []*rig{w, o} {
			r.st.rapidFireStart()
			r.at(ms(hd.Get(450978).Duration) + 1)
		}
		ticks := int32(hd.Get(450978).Duration / hd.Get(450978).Period)
		if got := w.st.ab[abLunarStorm].hits; got != 2+ticks || o.st.ab[abLunarStorm].hits != 0 {
			t.Errorf("lunar storm hits %d (the initial hit on both targets and %d ticks)", got, ticks)
		}
		if !w.st.auraActive(auLunarStormCooldown) {
			t.Error("no cooldown after the storm")
		}
	},

	// --- The War Within Season 3 sets ------------------------------------------
	"pack_leader_2pc": func(t *testing.T) {
		w, o := newRig(t, tier(bmBase(t), 2)), newRig(t, tier(bmBase(t), 0))
		near(t, "pet damage", w.s.petStatic/o.s.petStatic, 1+pct(1236372, 1), exact)
		near(t, "bear damage added", w.s.bearMult-o.s.bearMult, pct(1236372, 3), exact)
		near(t, "boar damage", w.s.boarMult/o.s.boarMult, 1+pct(1236372, 4), exact)
		for _, r := range []*rig{w, o} {
			r.readyBeast()
			r.cast(spKillCommand)
		}
		near(t, "crit after the wyvern", w.st.petCritAt(0, false)-o.st.petCritAt(0, false), pct(1236566, 1), exact)
	},
	"pack_leader_4pc": func(t *testing.T) {
		w, o := newRig(t, tier(bmBase(t), 4)), newRig(t, tier(bmBase(t), 2))
		for _, r := range []*rig{w, o} {
			r.cast(spBestialWrath)
			r.cast(spKillCommand)
		}
		if got := w.st.ab[abStampede].hits; got != int32(eff(1236373, 3)) || o.st.ab[abStampede].hits != 0 {
			t.Errorf("stampede hits %d with the 4-piece, %d with the 2-piece", got, o.st.ab[abStampede].hits)
		}
	},
	"dark_ranger_2pc": func(t *testing.T) {
		w, o := newRig(t, tier(bmDR(t), 2)), newRig(t, tier(bmDR(t), 0))
		staticRatio(t, w, o, abBlackArrow, 1+pct(1236370, 1))
		staticRatio(t, w, o, abBleakPowder, 1+pct(1236370, 2))
		staticRatio(t, w, o, abBlackArrowDot, 1+pct(1236370, 5))
		near(t, "call of the wild cooldown change", w.s.baseCd[spCallOfTheWild]-o.s.baseCd[spCallOfTheWild], eff(1236370, 4)/1000, exact)
		mw, mo := newRig(t, tier(mmDR(t), 2)), newRig(t, tier(mmDR(t), 0))
		near(t, "trueshot cooldown change", mw.s.baseCd[spTrueshot]-mo.s.baseCd[spTrueshot], eff(1236370, 3)/1000, exact)
	},
	"dark_ranger_4pc": func(t *testing.T) {
		w, o := newRig(t, tier(mmDR(t), 4)), newRig(t, tier(mmDR(t), 2))
		staticRatio(t, w, o, abWitheringFire, 1+pct(1236371, 1))
		const n = 6000
		quivers := w.auraProcs(auBlightedQuiver, n, func() {
			w.st.deathblow()
			w.st.afterExecute(0, false)
		})
		rate(t, "blighted quivers per consumed deathblow (marksmanship)", quivers, n, pct(1236371, 3))
	},
	"sentinel_2pc": func(t *testing.T) {
		w, o := newRig(t, tier(mmSentinel(t), 2)), newRig(t, tier(mmSentinel(t), 0))
		staticRatio(t, w, o, abRapidFire, 1+pct(1236374, 2))
		for _, r := range []*rig{w, o} {
			r.st.rapidFireStart()
			r.at(ms(hd.Get(450978).Duration) + 1)
		}
		if w.st.auraStacks(auBoonOfElune) != 2 || o.st.auraActive(auBoonOfElune) {
			t.Fatalf("boon of elune stacks %d after the storm", w.st.auraStacks(auBoonOfElune))
		}
		near(t, "aimed shot in the boon", w.st.aimedMult()/o.st.aimedMult(), 1+pct(1236644, 1), exact)
	},
	"sentinel_4pc": func(t *testing.T) {
		w, o := newRig(t, tier(mmSentinel(t), 4)), newRig(t, tier(mmSentinel(t), 2))
		staticRatio(t, w, o, abSentinel, 1+pct(1236375, 2)+pct(137016, 15))
		w.st.rapidFireStart()
		if !w.st.auraActive(auBoonOfEluneStorm) {
			t.Error("no boon of elune during the 4-piece's lunar storm")
		}
	},
}
