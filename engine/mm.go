// This file is what the marksmanship hunter's spells do, and what every
// hunter's Auto Shot, Explosive Shot and shots' procs do.

package engine

// shotProcs are what a hunter's direct hit for d triggers: Sentinel,
// Bullseye and Master Marksman.
func (st *state) shotProcs(ab abilityID, d float64) {
	s := st.sim
	if s.has(tSentinel) {
		st.sentinelHit()
	}
	if s.has(tBullseye) && st.now >= s.executeAt {
		st.applyAura(auBullseye, 1)
	}
	if s.has(tMasterMarksman) && st.lastCrit && d > 0 {
		st.applyResidual(dotMasterMarksman, st.now, d*s.p.masterMarksman)
	}
}

// autoShot is the hunter's ranged swing.
func (st *state) autoShot() {
	s := st.sim
	p := &s.p
	w := s.cfg.Player.WeaponDmg
	base := (w[0] + (w[1]-w[0])*st.rng.float() + s.ap*petWeaponPower*s.cfg.Player.WeaponSpeed) * s.autoShotMult
	st.ab[abAutoShot].casts++
	d, crit := st.shoot(abAutoShot, base)
	st.shotProcs(abAutoShot, d)
	if s.has(tSnakeskinQuiver) && st.rng.chance(p.snakeskin) {
		st.cobraShot(true)
	}
	if s.has(tLockAndLoad) && st.rng.chance(p.lockAndLoad) {
		st.applyAura(auLockAndLoad, 1)
		st.gainCharge(spAimedShot)
	}
	if crit && s.has(tWildCall) && st.rng.chance(p.wildCall) {
		st.gainCharge(spBarbedShot)
	}
	if s.has(tBleakArrows) && st.rng.chance(s.bleakArrowsDeathblow) {
		st.deathblow()
	}
	next := st.autoShotMs
	if st.auras[auInTheRhythm].end > st.now {
		next = ms((s.autoShotBase + p.inTheRhythm*s.autoShotSpeed) / st.haste)
	}
	st.timer[timerAutoShot] = st.now + next
}

// consumePrecise spends every stack of Precise Shots and what that
// triggers: Moving Target, Streamline, Magnetic Gunpowder, Focused Aim and
// Tensile Bowstring.
func (st *state) consumePrecise() {
	s := st.sim
	p := &s.p
	n := st.auraStacks(auPreciseShots)
	if n == 0 {
		return
	}
	if s.has(tMovingTarget) {
		st.applyAura(auMovingTarget, 1)
		st.applyAura(auStreamline, int8(n))
	}
	if s.has(tMagneticGunpowder) {
		st.reduceCd(spExplosiveShot, int64(n)*p.magneticPreciseMs)
	}
	if s.has(tFocusedAim) {
		st.reduceCd(spAimedShot, int64(n)*p.focusedAimMs)
	}
	if s.has(tTensileBowstring) && st.auras[auTrueshot].end > st.now && st.tensileExtended < p.tensileCapMs {
		ext := min(int64(n)*p.tensileMs, p.tensileCapMs-st.tensileExtended)
		st.tensileExtended += ext
		st.extendTimedAura(auTrueshot, ext)
		if st.auras[auWitheringFire].end > st.now {
			st.auras[auWitheringFire].end += ext
		}
		st.invalidate()
	}
	st.expireAura(auPreciseShots)
}

// spottersMarkRoll is the chance a Precise Shots-empowered hit marks its
// target (Eyes in the Sky).
func (st *state) spottersMarkRoll() {
	s := st.sim
	c := s.p.eyesInTheSky
	if s.has(tFeatheredFrenzy) && st.auras[auTrueshot].end > st.now {
		c *= s.p.featheredFrenzy
	}
	if st.rng.chance(c) {
		st.applyAura(auSpottersMark, 1)
	}
}

// preciseMult is the damage multiplier Precise Shots gives an Arcane Shot
// or Multi-Shot now.
func (st *state) preciseMult() float64 {
	if a := &st.auras[auPreciseShots]; a.end > st.now {
		return 1 + st.sim.preciseDmg*float64(a.stacks)
	}
	return 1
}

func (st *state) arcaneShot() {
	s := st.sim
	empowered := st.auras[auPreciseShots].end > st.now
	base := st.playerHit(abArcaneShot, s.p.arcaneCoef*s.ap*st.preciseMult())
	d, _ := st.shootAt(abArcaneShot, base)
	st.shotProcs(abArcaneShot, d)
	if s.has(tAspectOfTheHydra) && s.targets > 1 {
		st.shootAt(abArcaneShot, base*s.hydra)
	}
	st.consumePrecise()
	if empowered {
		st.spottersMarkRoll()
	}
}

func (st *state) multiShotMM() {
	s := st.sim
	p := &s.p
	empowered := st.auras[auPreciseShots].end > st.now
	base := st.playerHit(abMultiShot, s.p.multiShotMMCoef*s.ap*st.preciseMult())
	chance, critM := st.playerRoll(abMultiShot, 1)
	d, _ := st.dealTargets(abMultiShot, st.now, base, chance, critM, s.targets, p.multiShotFull)
	st.shotProcs(abMultiShot, d)
	st.consumePrecise()
	if s.has(tTrickShots) && s.targets >= p.trickShotsNeed {
		st.applyAura(auTrickShots, 1)
	}
	if s.has(tSymphonicArsenal) && st.sentinelStacks > 0 {
		n := min(s.targets, 1+p.symphonicTargets)
		chance, critM := st.playerRoll(abSymphonicArsenal, 1)
		st.dealTargets(abSymphonicArsenal, st.now, st.playerHit(abSymphonicArsenal, p.symphonicCoef*s.ap), chance, critM, n, 0)
	}
	if empowered {
		st.spottersMarkRoll()
	}
	if s.has(tBulletHell) {
		st.reduceCd(spRapidFire, int64(s.targets)*p.bulletHellMs)
	}
}

func (st *state) steadyShot() {
	s := st.sim
	d, _ := st.shoot(abSteadyShot, s.p.steadyCoef*s.ap)
	st.shotProcs(abSteadyShot, d)
	st.gainFocus(s.p.steadyFocus)
	st.reduceCd(spAimedShot, s.p.steadyAimedMs)
}

// aimedMult is Aimed Shot's damage multiplier now.
func (st *state) aimedMult() float64 {
	s := st.sim
	m := 1.0
	if a := &st.auras[auBulletstorm]; a.end > st.now {
		m *= 1 + s.p.bulletstorm*float64(a.stacks)
	}
	if st.auras[auMovingTarget].end > st.now {
		m *= s.p.movingTarget
	}
	if st.auras[auSpottersMark].end > st.now {
		m *= s.spottersMark
	}
	if st.auras[auBoonOfElune].end > st.now || st.auras[auBoonOfEluneStorm].end > st.now {
		m *= s.p.boonOfElune
	}
	return m
}

// aimedHit deals one Aimed Shot of multiplier m (1 the cast, less for the
// Double Tap and Aspect of the Hydra copies) to its targets.
func (st *state) aimedHit(m float64) float64 {
	s := st.sim
	p := &s.p
	base := st.playerHit(abAimedShot, p.aimedCoef*s.ap*st.aimedMult()*m)
	bonus := 1.0
	if a := &st.auras[auBulletstorm]; a.end > st.now && s.has(tIncendiaryAmmunition) {
		bonus = 1 + p.incendiary*float64(a.stacks)
	}
	chance, critM := st.playerRoll(abAimedShot, bonus)
	d, _ := st.deal(abAimedShot, st.now, base, chance, critM)
	st.shotProcs(abAimedShot, d)
	if st.auras[auTrickShots].end > st.now && s.targets > 1 {
		n := min(s.targets-1, s.trickAimedTargets)
		chance, critM := st.playerRoll(abAimedShot, bonus)
		second := base * p.trickShotsAimed
		if st.auras[auSpottersMark].end > st.now {
			second /= s.spottersMark // the mark is on the primary target only
			if s.ohnahranWinds > 0 {
				// Ohn'ahran Winds marked one more target with it.
				st.deal(abAimedShot, st.now, second*(1+s.ohnahranWinds), chance, critM)
				n--
			}
		}
		st.dealTargets(abAimedShot, st.now, second, chance, critM, n, 0)
	}
	return d
}

func (st *state) aimedShot() {
	s := st.sim
	p := &s.p
	lnl := st.auras[auLockAndLoad].end > st.now
	d := st.aimedHit(1)
	st.aimedImpact(d)
	st.expireAura(auMovingTarget)
	if !lnl {
		st.expireAura(auStreamline)
	}
	if s.has(tSurgingShots) && st.rng.chance(p.surgingShotsReset) {
		st.gainCharge(spRapidFire)
	}
	if st.auras[auVolley].end <= st.now {
		st.expireAura(auTrickShots)
	}
	if s.has(tPreciseShots) {
		n := int8(1)
		if s.has(tWindrunnerQuiver) && st.rng.chance(p.windrunnerSecond) {
			n++
		}
		st.applyAura(auPreciseShots, n)
	}
	if s.has(tDeathblow) && st.rng.chance(s.aimedDeathblow) {
		st.deathblow()
	}
	if s.has(tAspectOfTheHydra) && s.targets > 1 {
		st.schedule(st.now+10, event{kind: evAimedEcho})
	}
	if s.has(tDoubleTap) && st.auras[auDoubleTap].end > st.now {
		st.expireAura(auDoubleTap)
		st.schedule(st.now+10, event{kind: evAimedEcho, a: 1})
	}
	if lnl {
		st.consumeStack(auLockAndLoad)
		if s.has(tMagneticGunpowder) {
			st.reduceCd(spExplosiveShot, p.magneticLnLMs)
		}
	}
	if st.auras[auBoonOfElune].end > st.now {
		st.consumeStack(auBoonOfElune)
	}
}

// aimedEcho is the Double Tap (doubleTap) or Aspect of the Hydra copy of
// an Aimed Shot.
func (st *state) aimedEcho(doubleTap bool) {
	s := st.sim
	m := s.hydra
	if doubleTap {
		m = s.p.doubleTapAimed
	}
	d := st.aimedHit(m)
	st.aimedImpact(d)
	st.expireAura(auMovingTarget)
	if doubleTap && s.has(tAspectOfTheHydra) && s.targets > 1 {
		st.aimedHit(s.hydra)
	}
}

// aimedImpact is what an Aimed Shot hit for d does to its target.
func (st *state) aimedImpact(d float64) {
	s := st.sim
	p := &s.p
	if s.has(tPrecisionDetonation) && st.auras[auExplosiveShot].end > st.now {
		st.explode(p.precisionDetonation)
	}
	if s.has(tPhantomPain) {
		st.phantomPain(d, p.phantomPainMM)
	}
	if st.auras[auSpottersMark].end > st.now {
		st.expireAura(auSpottersMark)
		if s.has(tOnTarget) {
			st.onTargetStack()
		}
		if s.has(tTargetAcquisition) && st.now >= st.targetAcqReady {
			st.targetAcqReady = st.now + p.targetAcqIcdMs
			st.reduceCd(spAimedShot, p.targetAcqMs)
		}
	}
	if s.has(tBulletHell) {
		st.reduceCd(spVolley, p.bulletHellMs)
	}
}

// onTargetStack adds a stack of On Target (each has its own timer).
func (st *state) onTargetStack() {
	s := st.sim
	i := 0
	for j, end := range st.onTarget {
		if end < st.onTarget[i] {
			i = j
		}
	}
	st.onTarget[i] = st.now + s.auraDur[auOnTarget]
	st.schedule(st.onTarget[i], event{kind: evOnTargetEnd})
	a := &st.auras[auOnTarget]
	a.end, a.stacks = st.now+s.auraDur[auOnTarget], int8(st.onTargetStacks())
	st.recomputeHaste()
}

// rapidFireStart is Rapid Fire's cast: Streamline, Deathblow, No Scope,
// Lunar Storm.
func (st *state) rapidFireStart() {
	s := st.sim
	if s.has(tStreamline) {
		st.applyAura(auStreamline, 1)
	}
	if s.has(tImprovedDeathblow) && st.rng.chance(s.p.rapidFireDeathblow) {
		st.deathblow()
	}
	if s.has(tNoScope) {
		st.applyAura(auPreciseShots, 1)
	}
	st.expireAura(auBulletstorm)
	if s.has(tLunarStorm) && st.auras[auLunarStormReady].end > st.now {
		st.lunarStorm()
	}
}

func (st *state) rapidFireShot() {
	s := st.sim
	p := &s.p
	base := st.playerHit(abRapidFire, p.rapidFireCoef*s.ap)
	d, _ := st.shootAt(abRapidFire, base)
	st.shotProcs(abRapidFire, d)
	hits := 1
	if st.auras[auTrickShots].end > st.now && s.targets > 1 {
		n := min(s.targets-1, s.trickRapidTargets)
		chance, critM := st.playerRoll(abRapidFire, 1)
		st.dealTargets(abRapidFire, st.now, base*p.trickShotsRapid, chance, critM, n, 0)
		hits += n
	} else if s.has(tAspectOfTheHydra) && s.targets > 1 {
		st.shootAt(abRapidFire, base*s.hydra)
		hits++
	}
	st.gainFocus(p.rapidFireFocus)
	if s.has(tBulletstorm) {
		a := &st.auras[auBulletstorm]
		if a.end > st.now {
			st.addStacks(auBulletstorm, int8(hits))
		} else {
			st.applyAura(auBulletstorm, int8(hits))
		}
	}
}

func (st *state) rapidFireEnd() {
	s := st.sim
	if st.auras[auVolley].end <= st.now {
		st.expireAura(auTrickShots)
	}
	st.expireAura(auDoubleTap)
	if s.has(tInTheRhythm) {
		st.applyAura(auInTheRhythm, 1)
	}
}

func (st *state) trueshot() {
	s := st.sim
	st.sentinelWatchCut = 0
	if s.has(tEyesClosed) {
		st.applyAura(auEyesClosed, 1)
	}
	if st.auras[auTrueshot].end > st.now {
		st.auras[auTrueshot].end = st.now
		st.auraExpired(auTrueshot)
	}
	st.applyTimedAura(auTrueshot, s.auraDur[auTrueshot])
	if s.has(tWitheringFire) {
		st.witheringFire(s.auraDur[auTrueshot])
	}
	if s.has(tFeatheredFrenzy) {
		st.applyAura(auSpottersMark, 1)
	}
	if s.has(tDoubleTap) {
		st.applyAura(auDoubleTap, 1)
	}
}

func (st *state) volley() {
	s := st.sim
	st.applyAura(auVolley, 1)
	st.applyAuraFor(auTrickShots, 1, s.auraDur[auVolley])
	if s.has(tKillZone) {
		st.applyAuraFor(auKillZone, 1, s.auraDur[auVolley])
	}
	if s.has(tDoubleTap) {
		st.applyAura(auDoubleTap, 1)
	}
	st.volleyLeft = int8(s.p.volleyTicks)
	st.salvoUsed = false
	st.schedule(st.now+s.p.volleyPeriodMs, event{kind: evVolleyTick})
}

func (st *state) volleyTick() {
	s := st.sim
	p := &s.p
	st.volleyLeft--
	base := st.playerHit(abVolley, p.volleyCoef*s.ap)
	chance, critM := st.playerRoll(abVolley, 1)
	st.dealTargets(abVolley, st.now, base, chance, critM, s.targets, 0)
	if s.has(tSalvo) && !st.salvoUsed {
		st.salvoUsed = true
		st.startExplosive(min(s.targets, p.salvoTargets))
	}
	if s.has(tBulletHell) {
		st.reduceCd(spRapidFire, int64(s.targets)*p.bulletHellMs)
	}
	if st.volleyLeft > 0 {
		st.schedule(st.now+p.volleyPeriodMs, event{kind: evVolleyTick})
	}
}

// --- Explosive Shot --------------------------------------------------------

func (st *state) explosiveShot() {
	s := st.sim
	st.startExplosive(1)
	if s.has(tShrapnelShot) {
		st.applyAura(auLockAndLoad, 1)
		st.gainCharge(spAimedShot)
	}
	if s.has(tPrecisionDetonation) {
		st.applyAura(auStreamline, 1)
	}
}

// startExplosive puts Explosive Shot on the target: it explodes when it
// ends (an earlier one still ticking explodes at once).
func (st *state) startExplosive(targets int) {
	s := st.sim
	a := &st.auras[auExplosiveShot]
	if a.end > st.now {
		st.explode(1)
	}
	a.gen++
	a.end, a.stacks = st.now+s.auraDur[auExplosiveShot], int8(targets)
	st.schedule(a.end, event{kind: evExplosive, gen: a.gen})
}

func (st *state) explosiveEvent(gen uint32) {
	if a := &st.auras[auExplosiveShot]; a.gen == gen && a.end <= st.now && a.stacks > 0 {
		st.explode(1)
	}
}

// explode detonates Explosive Shot at multiplier m.
func (st *state) explode(m float64) {
	s := st.sim
	a := &st.auras[auExplosiveShot]
	n := int(a.stacks)
	a.end, a.stacks = st.now, 0
	a.gen++
	base := st.playerHit(abExplosiveShot, s.p.explosiveCoef*s.ap*m)
	for range max(1, n) {
		chance, critM := st.playerRoll(abExplosiveShot, 1)
		st.dealTargets(abExplosiveShot, st.now, base, chance, critM, s.targets, s.p.explosiveFull)
	}
	if s.has(tThunderingHooves) {
		st.stablePets(func(slot int) { st.stomp(slot, s.p.thunderingHooves) })
	}
}
