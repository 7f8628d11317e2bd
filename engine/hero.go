// This file is the hero talents (Pack Leader, Dark Ranger, Sentinel), the
// execute abilities they change and the tier sets.

package engine

import hd "wowlab/engine/hunterdata"

const hdPackLeader = hd.HeroPackLeader

// The beasts of Howl of the Pack Leader, in the order they come.
const (
	howlWyvern uint8 = iota
	howlBoar
	howlBear
)

// --- Pack Leader ---------------------------------------------------------

func (st *state) howlReadyAny() bool {
	return st.auras[auHowlWyvern].end > st.now || st.auras[auHowlBoar].end > st.now || st.auras[auHowlBear].end > st.now
}

// howlSync readies the next beast when Howl of the Pack Leader's cooldown
// has run out. The cooldown has no event: Dire Summons shortens it all the
// time, and only Kill Command (and the rotation) look at it.
func (st *state) howlSync() {
	if st.howlRunning && st.auras[auHowlCooldown].end <= st.now {
		st.howlCooldownDone()
	}
}

// howlCooldownDone ends Howl of the Pack Leader's cooldown.
func (st *state) howlCooldownDone() {
	st.howlRunning = false
	st.howlNextReady()
}

// startHowlCooldown starts Howl of the Pack Leader's cooldown.
func (st *state) startHowlCooldown() {
	st.applyAura(auHowlCooldown, 1)
	st.howlRunning = true
}

// howlNextReady readies the next beast of the cycle.
func (st *state) howlNextReady() {
	a := auHowlWyvern + auraID(st.howlNext)
	st.howlNext = (st.howlNext + 1) % 3
	st.applyAuraFor(a, 1, never)
}

// shortenHowl takes d off Howl of the Pack Leader's running cooldown.
func (st *state) shortenHowl(d int64) {
	if !st.howlRunning {
		return
	}
	st.changed = true
	st.auras[auHowlCooldown].end -= d
	st.howlSync()
}

// consumeHowl brings every ready beast (Kill Command) and returns how many.
func (st *state) consumeHowl() int {
	s := st.sim
	p := &s.p
	n := 0
	if st.auras[auHowlWyvern].end > st.now {
		n++
		st.expireAura(auHowlWyvern)
		st.applyAura(auWyvernsCry, p.wyvernStacks)
		st.wyvernExtended = 0
		if s.pl2pc() {
			st.applyAura(auSharpenedFangs, 1)
		}
	}
	if st.auras[auHowlBoar].end > st.now {
		n++
		st.expireAura(auHowlBoar)
		st.boarLeft = int8(p.boarCharges)
		st.boarCharge()
		if s.pl2pc() {
			st.applyTimedAura(auHastedHooves, s.auraDur[auHastedHooves])
		}
	}
	if st.auras[auHowlBear].end > st.now {
		n++
		st.expireAura(auHowlBear)
		st.summonPet(petBear, st.now, s.bearMs)
		st.startDot(dotRendFlesh, s.dotDur[dotRendFlesh], s.dotPeriod[dotRendFlesh], 1)
		if s.pl2pc() {
			st.applyTimedAura(auGrizzledFur, s.auraDur[auGrizzledFur])
		}
	}
	if n > 0 && !st.howlRunning {
		st.startHowlCooldown()
	}
	return n
}

// boarCharge is one of the Boar's charges: the target, then every target
// around it; each hit grants Hogstrider.
func (st *state) boarCharge() {
	s := st.sim
	p := &s.p
	if st.boarLeft <= 0 {
		return
	}
	st.boarLeft--
	m := s.boarMult
	base := st.playerHit(abBoarCharge, p.boarCoef*s.ap*m)
	st.shootAt(abBoarCharge, base)
	cleave := st.playerHit(abBoarCharge, p.boarCleaveCoef*s.ap*m)
	n := min(s.targets, p.boarCleaveTargets)
	chance, critM := st.playerRoll(abBoarCharge, 1)
	st.dealTargets(abBoarCharge, st.now, cleave, chance, critM, n, 0)
	if s.has(tHogstrider) {
		st.applyAura(auHogstrider, int8(1+n))
	}
	if st.boarLeft > 0 {
		st.schedule(st.now+p.boarPeriodMs, event{kind: evBoarCharge})
	}
}

// stampede is the Pack Leader 4-piece: a stampede tramples the targets.
// Its hits follow each other within about two seconds; they are dealt at
// once (the multipliers and critical strike chance of the moment apply to
// all; each hit rolls its own critical strike).
func (st *state) stampede() {
	s := st.sim
	base := st.playerHit(abStampede, s.p.stampedeCoef*s.ap)
	n := min(s.targets, s.p.stampedeTargets)
	chance, critM := st.playerRoll(abStampede, 1)
	for range s.p.stampedeHits {
		st.dealTargets(abStampede, st.now, base, chance, critM, n, 0)
	}
}

// shootAt is shoot with a precomputed amount.
func (st *state) shootAt(ab abilityID, amount float64) (float64, bool) {
	chance, critM := st.playerRoll(ab, 1)
	return st.deal(ab, st.now, amount, chance, critM)
}

// --- Deathblow, Kill Shot, Black Arrow ------------------------------------

// deathblow grants Deathblow: Kill Shot (or Black Arrow) may be used at any
// health and gets a charge back.
func (st *state) deathblow() {
	s := st.sim
	st.applyAura(auDeathblow, 1)
	if s.has(tRazorFragments) {
		st.applyAura(auRazorFragments, 1)
	}
	st.gainCharge(spKillShot)
	st.gainCharge(spBlackArrow)
}

// executeShot is what Kill Shot and Black Arrow share: Razor Fragments,
// Headshot, Hunter's Prey and Deathblow. It returns the multiplier of the
// shot's hit and consumes what the shot consumes.
func (st *state) executeMult() (m float64, razor bool) {
	s := st.sim
	p := &s.p
	m = 1
	if st.auras[auRazorFragments].end > st.now {
		m *= p.razorFragmentsDmg
		razor = true
	}
	if s.has(tHuntersPrey) {
		m *= 1 + p.huntersPrey*float64(min(st.activeStablePets(), p.huntersPreyMax))
	}
	if s.has(tHeadshot) {
		if a := &st.auras[auPreciseShots]; a.end > st.now {
			m *= 1 + float64(a.stacks)*s.headshot
		}
	}
	return m, razor
}

// afterExecute consumes Deathblow, Razor Fragments and (Headshot) Precise
// Shots after Kill Shot or Black Arrow hit for d.
func (st *state) afterExecute(d float64, razor bool) {
	s := st.sim
	p := &s.p
	empowered := s.has(tHeadshot) && st.auras[auPreciseShots].end > st.now
	if st.auras[auDeathblow].end > st.now && s.tier >= 4 && s.hero == hd.HeroDarkRanger && st.rng.chance(s.dr4pcChance) {
		st.applyAuraFor(auBlightedQuiver, 1, never)
	}
	st.expireAura(auDeathblow)
	st.expireAura(auRazorFragments)
	if razor && d > 0 {
		st.applyResidual(dotRazor, st.now, d*p.razorFragmentsBleed)
		st.dots[dotRazor].targets = min(s.targets, p.razorFragmentsTargets)
	}
	if s.has(tHeadshot) {
		st.consumePrecise()
	}
	if empowered {
		st.spottersMarkRoll()
	}
}

// activeStablePets counts the hunter's pets out: the main pet, the Animal
// Companion and Call of the Wild's pets.
func (st *state) activeStablePets() int {
	n := 0
	st.stablePets(func(int) { n++ })
	return n
}

func (st *state) killShot() {
	s := st.sim
	m, razor := st.executeMult()
	chance, critM := st.playerRoll(abKillShot, s.executeCritBonus)
	d, _ := st.deal(abKillShot, st.now, st.playerHit(abKillShot, s.p.killShotCoef*s.ap*m), chance, critM)
	st.shotProcs(abKillShot, d)
	st.afterExecute(d, razor)
	if s.has(tNoMercy) && st.live&1 != 0 {
		st.basicAttackMult(s.p.basicMult)
	}
}

func (st *state) blackArrow() {
	s := st.sim
	p := &s.p
	m, razor := st.executeMult()
	chance, critM := st.playerRoll(abBlackArrow, s.executeCritBonus)
	d, _ := st.deal(abBlackArrow, st.now, st.playerHit(abBlackArrow, p.blackArrowCoef*s.ap*m), chance, critM)
	st.startDot(dotBlackArrow, s.dotDur[dotBlackArrow], s.dotPeriod[dotBlackArrow], 1)
	st.shotProcs(abBlackArrow, d)
	if st.auras[auWitheringFire].end > st.now {
		n := p.witheringArrows + int(st.blighted)
		for i := range n {
			base := st.playerHit(abWitheringFire, p.witheringCoef*s.ap)
			chance, critM := st.playerRoll(abWitheringFire, 1)
			st.deal(abWitheringFire, st.now, base, chance, critM)
			if i+1 < s.targets {
				st.dots[dotBlackArrow].targets = min(s.targets, st.dots[dotBlackArrow].targets+1)
			}
		}
	}
	if s.has(tTheBellTolls) {
		st.bellToll()
	}
	if s.has(tBleakPowder) && s.targets > 1 {
		others := s.targets - 1
		base := st.playerHit(abBleakPowder, s.bleakPowderCoef*s.ap)
		chance, critM := st.playerRoll(abBleakPowder, 1)
		st.dealTargets(abBleakPowder, st.now, base, chance, critM, others, p.bleakPowderFull)
		if s.has(tUmbralReach) {
			st.dots[dotBlackArrow].targets = s.targets
			if others >= p.umbralReachTargets {
				if s.spec == bm && s.has(tBeastCleave) {
					st.beastCleave(s.auraDur[auBeastCleave])
				} else if s.spec == mm && s.has(tTrickShots) {
					st.applyAura(auTrickShots, 1)
				}
			}
		}
	}
	if s.has(tBansheesMark) && st.rng.chance(p.bansheesMark) {
		st.startDot(dotCrows, s.dotDur[dotCrows], s.dotPeriod[dotCrows], 1)
	}
	st.afterExecute(d, razor)
	// Ebon Bowstring's Deathblow comes after the shot has used the one it had.
	if s.has(tEbonBowstring) && st.rng.chance(p.ebonBowstring) {
		st.deathblow()
	}
}

// bellToll adds a stack of The Bell Tolls (each stack has its own timer).
func (st *state) bellToll() {
	st.settle()
	i := 0
	for j, end := range st.bellTolls {
		if end < st.bellTolls[i] {
			i = j
		}
	}
	st.bellTolls[i] = st.now + st.sim.auraDur[auTheBellTolls]
	st.bellMemo = stackMemo{}
	n := st.bellTollsAt(st.now)
	a := &st.auras[auTheBellTolls]
	a.end, a.stacks = st.now+st.sim.auraDur[auTheBellTolls], int8(n)
	st.changed = true
	st.invalidate()
}

// phantomPain copies part of a hit of d to the other targets with Black
// Arrow's DoT.
func (st *state) phantomPain(d, share float64) {
	s := st.sim
	o := &st.dots[dotBlackArrow]
	if s.targets < 2 || o.next == 0 || o.next == never || o.last < st.now {
		return
	}
	others := min(o.targets-1, s.p.phantomPainTargets)
	if others > 0 {
		st.dealPlain(abPhantomPain, st.now, d*share, float64(others))
	}
}

// witheringFire starts Withering Fire for d: Deathblow at once and, for
// beast mastery, every period.
func (st *state) witheringFire(d int64) {
	s := st.sim
	st.applyAuraFor(auWitheringFire, 1, d)
	st.blighted = int8(st.auraStacks(auBlightedQuiver))
	st.expireAura(auBlightedQuiver)
	st.deathblow()
	if s.spec == bm {
		st.schedule(st.now+s.p.witheringPeriodMs, event{kind: evWitheringTick, gen: st.auras[auWitheringFire].gen})
	}
}

func (st *state) witheringTick() {
	st.deathblow()
	st.schedule(st.now+st.sim.p.witheringPeriodMs, event{kind: evWitheringTick, gen: st.auras[auWitheringFire].gen})
}

// --- Sentinel --------------------------------------------------------------

// sentinelHit is what each of the hunter's hits does with Sentinel: a
// chance to mark the target, and at enough stacks a chance to implode.
func (st *state) sentinelHit() {
	s := st.sim
	p := &s.p
	if st.auras[auEyesClosed].end <= st.now && !st.rng.chance(p.sentinelChance) {
		return
	}
	first := st.sentinelStacks == 0
	add := int8(1)
	if s.has(tReleaseAndReload) && st.rng.chance(p.releaseAndReload) {
		add++
	}
	if first && s.has(tExtrapolatedShots) {
		add += int8(p.extrapolated)
		if s.has(tReleaseAndReload) && st.rng.chance(p.releaseAndReload) {
			add++
		}
	}
	st.addSentinel(add)
	// Overwatch: in execute range a target with enough stacks implodes,
	// once per cooldown.
	if s.has(tOverwatch) && !st.sentinelBusy && st.now >= s.overwatchAt && st.now >= st.overwatchReady &&
		int(st.sentinelStacks) > p.sentinelImplodeAbove {
		st.overwatchReady = st.now + p.overwatchCdMs
		st.sentinelBusy = true
		st.sentinelImplodeTick()
	}
}

// addSentinel adds n stacks of Sentinel to the target, which may then
// implode.
func (st *state) addSentinel(n int8) {
	p := &st.sim.p
	st.sentinelStacks = min(st.sentinelStacks+n, int8(p.sentinelMax))
	st.showSentinel()
	if !st.sentinelBusy && int(st.sentinelStacks) > p.sentinelImplodeAbove && st.rng.chance(p.sentinelImplode) {
		st.sentinelBusy = true
		st.sentinelImplodeTick()
	}
}

// crescentSteel is Crescent Steel's tick on a target in execute range.
func (st *state) crescentSteel() {
	st.addSentinel(1)
	st.schedule(st.now+st.sim.p.crescentSteelMs, event{kind: evCrescentSteel})
}

func (st *state) showSentinel() {
	a := &st.auras[auSentinel]
	if st.sentinelStacks > 0 {
		a.end, a.stacks = never, st.sentinelStacks
	} else {
		a.end, a.stacks = st.now, 0
	}
}

// sentinelImplodeTick consumes a stack of Sentinel for its damage; the
// implosion goes on every period while stacks are left.
func (st *state) sentinelImplodeTick() {
	s := st.sim
	p := &s.p
	if st.sentinelStacks <= 0 {
		st.sentinelBusy = false
		return
	}
	st.sentinelStacks--
	st.showSentinel()
	st.shoot(abSentinel, p.sentinelCoef*s.ap)
	if s.has(tInvigoratingPulse) && st.rng.chance(p.invigoratingChance) {
		st.gainFocus(p.invigoratingFocus)
	}
	if s.has(tSentinelWatch) && st.sentinelWatchCut < p.sentinelWatchCapMs {
		st.sentinelWatchCut += p.sentinelWatchMs
		st.reduceCd(spTrueshot, p.sentinelWatchMs)
	}
	st.schedule(st.now+p.sentinelPeriodMs, event{kind: evSentinel})
}

// lunarStorm calls the storm (the first Rapid Fire after its cooldown).
func (st *state) lunarStorm() {
	s := st.sim
	p := &s.p
	st.expireAura(auLunarStormReady)
	st.applyAura(auLunarStormCooldown, 1)
	st.schedule(st.auras[auLunarStormCooldown].end, event{kind: evLunarReady})
	base := st.playerHit(abLunarStorm, p.lunarInitialCoef*s.ap)
	chance, critM := st.playerRoll(abLunarStorm, 1)
	st.dealTargets(abLunarStorm, st.now, base, chance, critM, s.targets, 0)
	st.lunarLeft = int16(p.lunarTicks)
	if s.tier >= 4 && s.hero == hd.HeroSentinel {
		st.expireAura(auBoonOfElune)
		st.applyAuraFor(auBoonOfEluneStorm, 1, p.lunarDurMs)
	}
	st.schedule(st.now+p.lunarPeriodMs, event{kind: evLunarStorm})
}

func (st *state) lunarStormTick() {
	s := st.sim
	p := &s.p
	st.lunarLeft--
	if st.sentinelStacks > 0 || s.targets > 1 {
		st.shoot(abLunarStorm, p.lunarCoef*s.ap)
		st.applyAura(auLunarStormDebuff, 1)
	}
	if st.lunarLeft > 0 {
		st.schedule(st.now+p.lunarPeriodMs, event{kind: evLunarStorm})
		return
	}
	if s.tier >= 2 && s.hero == hd.HeroSentinel {
		st.applyAura(auBoonOfElune, int8(s.auraMax[auBoonOfElune]))
	}
}

// lunarStormReady ends Lunar Storm's cooldown: ready again, and (for
// marksmanship) Rapid Fire's cooldown is reset.
func (st *state) lunarStormReady() {
	if st.auras[auLunarStormCooldown].end > st.now {
		return
	}
	st.applyAuraFor(auLunarStormReady, 1, never)
	c := &st.cds[spRapidFire]
	if c.max > 0 {
		c.charges, c.end = c.max, 0
		st.changed = true
	}
}
