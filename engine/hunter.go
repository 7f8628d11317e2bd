// This file holds what the hunters' spells do: costs, casts, damage,
// procs, pets. The numbers are in hunter_data.go.

package engine

import (
	"math"
	"math/bits"
)

// Fixed periods on the millisecond clock.
const (
	barbedTickMs = int64(barbedTick * 1000)
	petBasicMs   = int64(petBasicCd * 1000)
)

// --- resources ---------------------------------------------------------

// regenRate is the focus regeneration per millisecond now.
func (st *state) regenRate() float64 {
	r := st.sim.cfg.Player.Resources.RegenPerSecond * st.haste / 1000
	if st.auraActive(auTrueshot) {
		r *= trueshotFocusGain
	}
	return r
}

// settleFocus brings focus up to now: regeneration at the current rate,
// and the Barbed Shot focus grants that fell due, each at its own time
// (exactly as if each were an event, without the events).
func (st *state) settleFocus() {
	if st.now == st.focusAt {
		return // grants due by now were applied when focusAt reached now
	}
	for st.grantHead < len(st.grants) && st.grants[st.grantHead] <= st.now {
		at := st.grants[st.grantHead]
		st.grantHead++
		f := st.focus + st.regen*float64(at-st.focusAt)
		if f += barbedFocusTick; f > st.sim.focusMax {
			f = st.sim.focusMax
		}
		st.focus, st.focusAt = f, at
	}
	if st.now > st.focusAt {
		f := st.focus + st.regen*float64(st.now-st.focusAt)
		if f > st.sim.focusMax {
			f = st.sim.focusMax
		}
		st.focus, st.focusAt = f, st.now
	}
}

// rateChanged must be called around anything that changes haste or
// regeneration: focus accrued so far uses the old rate.
func (st *state) recomputeHaste() {
	st.settle()
	st.settleFocus()
	h := st.sim.haste
	if st.auraActive(auDireBeast) {
		h *= 1 + direBeastHaste
	}
	if st.auraActive(auSteadyFocus) {
		h *= 1 + steadyFocusHaste
	}
	st.haste = h
	st.gcd = ms(math.Max(gcdMin, gcdBase/h))
	st.autoShotMs = ms(st.sim.cfg.Player.WeaponSpeed / h)
	for stacks := range st.petSwingMs {
		st.petSwingMs[stacks] = ms(petSwing / h / (1 + frenzyHaste*float64(stacks)))
	}
	// Only recharges that haste or Trueshot change need working out again;
	// reset set the others.
	for _, sp := range st.sim.rateRecharges {
		st.recharge[sp] = st.computeRecharge(sp)
	}
	st.regen = st.regenRate()
}

// grantFocusOverTime queues Barbed Shot's focus: 5 every 2 s for 8 s.
// Grants are kept in time order: every queued grant is at most 8 s old.
func (st *state) grantFocusOverTime() {
	st.settleFocus()
	if st.grantHead > 0 {
		n := copy(st.grants, st.grants[st.grantHead:])
		st.grants = st.grants[:n]
		st.grantHead = 0
	}
	for i := int64(1); i <= barbedFocusTicks; i++ {
		st.insertGrant(st.now + i*ms(barbedTick))
	}
}

func (st *state) insertGrant(at int64) {
	g := append(st.grants, at)
	i := len(g) - 1
	for i > 0 && g[i-1] > at {
		g[i] = g[i-1]
		i--
	}
	g[i] = at
	st.grants = g
}

// nextGrant is when the next queued focus grant falls due, or never.
func (st *state) nextGrant() int64 {
	if st.grantHead < len(st.grants) {
		return st.grants[st.grantHead]
	}
	return never
}

func (st *state) gainFocus(v float64) {
	st.changed = true
	st.settleFocus()
	if st.auraActive(auTrueshot) {
		v *= trueshotFocusGain
	}
	if st.focus += v; st.focus > st.sim.focusMax {
		st.focus = st.sim.focusMax
	}
}

func (st *state) currentFocus() float64 {
	st.settleFocus()
	return st.focus
}

// costOf is what casting sp costs now (negative: what it gives).
func (st *state) costOf(sp spellID) float64 {
	c := spells[sp].cost
	switch sp {
	case spMultiShot:
		if st.sim.spec == mm {
			c = 30 // HK-MM
		}
		if st.auraActive(auPreciseShots) {
			c *= 1 - preciseCostCut
		}
	case spArcaneShot:
		if st.sim.talent[tCrackShot] {
			c -= crackShotCostCut
		}
		if st.auraActive(auPreciseShots) {
			c *= 1 - preciseCostCut
		}
	case spAimedShot:
		if st.auraActive(auLockAndLoad) {
			c = 0
		}
	}
	return c
}

// --- cooldowns ---------------------------------------------------------

// rechargeMs is how long the next charge of sp takes to come back now.
func (st *state) rechargeMs(sp spellID) int64 { return st.recharge[sp] }

// computeRecharge is rechargeMs from first principles; recomputeHaste
// caches it for every spell whenever haste or a rate changes.
func (st *state) computeRecharge(sp spellID) int64 {
	d := spells[sp].cooldown
	if spells[sp].hasted {
		d /= st.haste
	}
	if (sp == spAimedShot || sp == spRapidFire) && st.auraActive(auTrueshot) {
		d /= trueshotRecharge
	}
	return max(1, ms(d))
}

func (st *state) syncCd(sp spellID) *cooldown {
	c := &st.cds[sp]
	for c.charges < c.max && st.now >= c.end {
		c.charges++
		if c.charges < c.max {
			c.end += st.rechargeMs(sp)
		}
	}
	return c
}

func (st *state) useCharge(sp spellID) {
	c := st.syncCd(sp)
	if c.charges == c.max {
		c.end = st.now + st.rechargeMs(sp)
	}
	c.charges--
}

// reduceCd takes d milliseconds off the running recharge of sp.
func (st *state) reduceCd(sp spellID, d int64) {
	st.changed = true
	c := st.syncCd(sp)
	if c.charges < c.max {
		c.end -= d
		st.syncCd(sp)
	}
}

// gainCharge gives sp one charge at once (a "reset").
func (st *state) gainCharge(sp spellID) {
	st.changed = true
	c := st.syncCd(sp)
	if c.charges < c.max {
		c.charges++
		if c.charges == c.max {
			c.end = 0
		}
	}
}

// scaleCd multiplies the remaining recharge time of sp by f.
func (st *state) scaleCd(sp spellID, f float64) {
	st.changed = true
	c := st.syncCd(sp)
	if c.charges < c.max {
		c.end = st.now + int64(math.Round(float64(c.end-st.now)*f))
		st.syncCd(sp)
	}
}

// --- auras -------------------------------------------------------------

func (st *state) auraActive(a auraID) bool { return st.auras[a].end > st.now }

func (st *state) auraStacks(a auraID) int {
	if st.auras[a].end > st.now {
		return int(st.auras[a].stacks)
	}
	return 0
}

// activeAt and stacksAt read an aura as it was at time t, which is exact
// for any t since the last change of the aura (see settle).
func (st *state) activeAt(a auraID, t int64) bool { return st.auras[a].end > t }

func (st *state) stacksAt(a auraID, t int64) int {
	if st.auras[a].end > t {
		return int(st.auras[a].stacks)
	}
	return 0
}

func (st *state) auraRemaining(a auraID) int64 {
	if r := st.auras[a].end - st.now; r > 0 {
		return r
	}
	return 0
}

// applyAura applies or refreshes a: a refresh adds stacks up to the
// maximum and restarts the duration.
func (st *state) applyAura(a auraID, stacks int8, dur int64) {
	st.changed = true
	au := &st.auras[a]
	if au.end > st.now {
		au.stacks = min(au.stacks+stacks, int8(auras[a].stacks))
	} else {
		au.stacks = min(stacks, int8(auras[a].stacks))
		au.gen++
	}
	au.end = st.now + dur
}

// applyDot applies a periodic effect with the pandemic rule: a refresh
// keeps up to 30% of the duration that was left.
func (st *state) applyDot(a auraID, dur int64) {
	st.settle()
	au := &st.auras[a]
	if au.end > st.now {
		au.end = st.now + dur + min(au.end-st.now, int64(float64(dur)*pandemicShare))
		return
	}
	au.gen++
	au.stacks = 1
	au.end = st.now + dur
	st.dotNext = st.now + barbedTickMs
}

func (st *state) consumeStack(a auraID) {
	au := &st.auras[a]
	if au.end > st.now {
		au.stacks--
		if au.stacks <= 0 {
			au.end = st.now
		}
	}
}

// applyTimedAura applies an aura whose start and end change haste, regen
// or recharge rates, with an expiry event.
func (st *state) applyTimedAura(a auraID, dur int64) {
	au := &st.auras[a]
	was := au.end > st.now
	st.settleFocus()
	au.gen++
	au.stacks = 1
	au.end = st.now + dur
	st.schedule(au.end, event{kind: evAuraExpire, a: uint8(a), gen: au.gen})
	if !was {
		st.auraStarted(a)
	}
}

func (st *state) auraStarted(a auraID) {
	st.recomputeHaste()
	if a == auTrueshot {
		st.scaleCd(spAimedShot, 1/trueshotRecharge)
		st.scaleCd(spRapidFire, 1/trueshotRecharge)
	}
}

func (st *state) auraExpired(a auraID) {
	st.changed = true
	// The aura's end is now, so it already reads as inactive; focus up to
	// now was earned at the old rate.
	st.recomputeHaste()
	if a == auTrueshot {
		st.scaleCd(spAimedShot, trueshotRecharge)
		st.scaleCd(spRapidFire, trueshotRecharge)
	}
}

// --- damage ------------------------------------------------------------

func (st *state) healthPct() float64 {
	return 1 - float64(st.now)/float64(st.end)
}

// playerMult is the multiplier on all of the hunter's own damage.
func (st *state) playerMult() float64 { return st.playerMultAt(st.now) }

func (st *state) playerMultAt(t int64) float64 {
	m := st.sim.playerMult
	if st.activeAt(auBestialWrath, t) {
		m *= 1 + bwDamage
	}
	return m
}

// petMult is the multiplier on pet damage.
func (st *state) petMult() float64 { return st.petMultAt(st.now) }

func (st *state) petMultAt(t int64) float64 {
	m := st.sim.petMult
	if st.activeAt(auBestialWrath, t) {
		m *= 1 + bwDamage
	}
	return m
}

func (st *state) critChance() float64 { return st.critChanceAt(st.now) }

func (st *state) critChanceAt(t int64) float64 {
	return st.sim.crit + thrillCrit*float64(st.stacksAt(auThrillOfTheHunt, t))
}

// hit deals one hit of base damage (before crit, versatility and armor)
// to the primary target and returns the damage done and whether it crit.
func (st *state) hit(ab abilityID, base float64, sc school, critBonus, critDmgBonus float64) (float64, bool) {
	return st.strike(ab, base, sc, st.critChance()+critBonus, critDmgBonus)
}

// strike is hit with the whole crit chance given, for hits that happened
// at another time than now (see settle).
func (st *state) strike(ab abilityID, base float64, sc school, crit, critDmgBonus float64) (float64, bool) {
	d := base * st.sim.magicMult
	if sc == physical {
		d = base * st.sim.physMult
	}
	critical := st.rng.chance(crit)
	if critical {
		d *= critMultiplier * (1 + critDmgBonus)
	}
	st.dmg[ab] += d
	return d, critical
}

// --- casting -------------------------------------------------------------

// CanCast reports whether spell id can be started now (rotation.Env). The
// check is written out here rather than called: the rotation asks it several
// times per decision, mostly of spells on cooldown, and a further call would
// cost about as much as the check. Cheapest refusals come first.
func (e env) CanCast(id int) bool {
	st, sp := e.st, spellID(id)
	if c := &st.cds[sp]; c.charges == 0 && c.max > 0 {
		if st.now < c.end {
			st.wake = min(st.wake, c.end)
			return false
		}
		st.syncCd(sp)
	}
	if sp == spKillShot && st.healthPct() >= executeHealth {
		st.wake = min(st.wake, int64(float64(st.end)*(1-executeHealth))+1)
		return false
	}
	cost := spells[sp].cost
	if st.sim.dynamicCost[sp] {
		cost = st.costOf(sp)
	}
	if cost > 0 {
		f := st.currentFocus()
		if f < cost {
			st.wakeForFocus(cost - f)
			return false
		}
	}
	return true
}

func (st *state) canAfford(sp spellID, extra float64) bool {
	need := extra
	if sp < numSpells {
		need += max(0, st.costOf(sp))
	}
	f := st.currentFocus()
	if f >= need {
		return true
	}
	st.wakeForFocus(need - f)
	return false
}

// wakeForFocus notes when the player will have missing more focus: by
// regeneration, or sooner at the next focus grant.
func (st *state) wakeForFocus(missing float64) {
	if st.regen > 0 {
		st.wake = min(st.wake, st.now+int64(math.Ceil(missing/st.regen)))
	}
	st.wake = min(st.wake, st.nextGrant())
}

func (st *state) gcdMs() int64 { return st.gcd }

func (st *state) castMs(sp spellID) int64 {
	d := &spells[sp]
	switch {
	case d.channel > 0:
		return ms(d.channel / st.haste)
	case d.cast == 0:
		return 0
	}
	t := d.cast / st.haste
	if sp == spAimedShot {
		if st.auraActive(auLockAndLoad) {
			return 0
		}
		if st.auraActive(auTrueshot) {
			t *= 1 - trueshotAimedCast
		}
		if st.auraActive(auStreamline) {
			t *= 1 - streamlineCast
		}
	}
	return ms(t)
}

// startCast begins sp: pays its cost, uses a charge, starts the GCD and
// either resolves it at once or schedules the end of its cast or channel.
func (st *state) startCast(sp spellID) {
	d := &spells[sp]
	cost := st.costOf(sp)
	ct := st.castMs(sp)
	if sp == spAimedShot && st.auraActive(auLockAndLoad) {
		st.auras[auLockAndLoad].end = st.now
	}
	st.settleFocus()
	if cost >= 0 {
		st.focus -= cost
	} else {
		st.gainFocus(-cost)
	}
	if d.cooldown > 0 {
		st.useCharge(sp)
	}
	if !d.offGCD {
		st.gcdEnd = st.now + st.gcdMs()
	}
	st.casts[d.ability]++
	switch {
	case d.channel > 0:
		st.castEnd = st.now + ct
		st.channelGen++
		st.channelShot(sp, rapidFireShots)
	case ct > 0:
		st.castEnd = st.now + ct
		st.schedule(st.castEnd, event{kind: evCastDone, a: uint8(sp)})
	default:
		st.execute(sp)
	}
	st.busyUntil = max(st.gcdEnd, st.castEnd)
	if sp == spSteadyShot {
		st.steadyInRow++
	} else if !d.offGCD {
		st.steadyInRow = 0
	}
}

func (st *state) finishCast(sp spellID) { st.execute(sp) }

// channelShot fires one shot of a channel and schedules the next.
func (st *state) channelShot(sp spellID, left int) {
	st.rapidFireShot()
	if left > 1 {
		interval := (st.castEnd - st.now) / int64(left-1)
		if left-1 == 0 || interval <= 0 {
			interval = 1
		}
		st.schedule(st.now+interval, event{kind: evChannelTick, a: uint8(sp), b: uint8(left - 1), gen: st.channelGen})
		return
	}
	if st.sim.talent[tStreamline] {
		st.applyAura(auStreamline, 1, ms(streamlineDur))
	}
}

// execute resolves sp's effects.
func (st *state) execute(sp spellID) {
	st.settle()
	s := st.sim
	ap := s.ap
	switch sp {
	case spKillCommand:
		st.killCommand()
	case spBarbedShot:
		m := st.playerMult()
		if s.talent[tWarOrders] {
			m *= 1 + warOrdersDmg
			if st.rng.chance(warOrdersReset) {
				st.gainCharge(spKillCommand)
			}
		}
		st.hit(abBarbedShot, spells[sp].coef*ap*m, physical, 0, 0)
		dur := barbedDotDuration
		if s.talent[tSavagery] {
			dur += savageryBarbedExt
		}
		st.applyDot(auBarbedShot, ms(dur))
		st.applyAura(auFrenzy, 1, ms(frenzyDuration))
		st.grantFocusOverTime()
		if s.talent[tBarbedWrath] {
			st.reduceCd(spBestialWrath, ms(barbedWrathCut))
		}
		if s.talent[tThrillOfTheHunt] {
			st.applyAura(auThrillOfTheHunt, 1, ms(thrillDuration))
		}
	case spCobraShot:
		st.hit(abCobraShot, spells[sp].coef*ap*st.playerMult(), physical, 0, 0)
		st.reduceCd(spKillCommand, ms(cobraKcReduction))
		if s.talent[tKillerCobra] && st.auraActive(auBestialWrath) {
			st.gainCharge(spKillCommand)
		}
	case spBestialWrath:
		st.applyAura(auBestialWrath, 1, ms(bwDuration))
		if s.talent[tScentOfBlood] {
			st.gainCharge(spBarbedShot)
			st.gainCharge(spBarbedShot)
		}
	case spCallOfTheWild:
		st.applyAura(auCallOfTheWild, 1, ms(cotwDuration))
		st.cotwSummon(int(cotwDuration / cotwSummonEvery))
		st.cotwSummon(0)
	case spDireBeast:
		st.summonDireBeast()
	case spMultiShot:
		m := st.playerMult()
		coef := spells[sp].coef
		if s.spec == mm {
			coef = 0.4 // WL-MMc
			if st.auraActive(auPreciseShots) {
				m *= 1 + preciseDmg
				st.consumeStack(auPreciseShots)
			}
		}
		for range s.targets {
			st.hit(abMultiShot, coef*ap*m, physical, 0, 0)
		}
		if s.spec == bm {
			st.applyAura(auBeastCleave, 1, ms(beastCleaveDur))
		}
	case spKillShot:
		var critBonus, critDmg float64
		if s.talent[tKillerAccuracy] {
			critBonus, critDmg = killerAccuracyCrit, killerAccuracyCrit
		}
		st.hit(abKillShot, spells[sp].coef*ap*st.playerMult(), physical, critBonus, critDmg)
	case spAimedShot:
		m := st.playerMult()
		if s.talent[tCarefulAim] && st.healthPct() > carefulAimHealth {
			m *= 1 + carefulAimDmg
		}
		if s.talent[tFocusedAim] {
			m *= 1 + focusedAimDmg
		}
		if st.auraActive(auStreamline) {
			st.auras[auStreamline].end = st.now
		}
		st.hit(abAimedShot, spells[sp].coef*ap*m, physical, 0, 0)
		st.applyAura(auPreciseShots, preciseStacks, ms(preciseDuration))
		if s.talent[tSurgingShots] && st.rng.chance(surgingShotsReset) {
			st.gainCharge(spRapidFire)
		}
	case spArcaneShot:
		m := st.playerMult()
		if st.auraActive(auPreciseShots) {
			m *= 1 + preciseDmg
			st.consumeStack(auPreciseShots)
		}
		st.hit(abArcaneShot, spells[sp].coef*ap*m, magic, 0, 0)
	case spSteadyShot:
		st.hit(abSteadyShot, spells[sp].coef*ap*st.playerMult(), physical, 0, 0)
		if s.talent[tImprovedSteadyShot] {
			st.gainFocus(steadyShotFocus)
		}
		if s.talent[tSteadyFocus] && st.steadyInRow >= 2 {
			st.steadyInRow = 0
			st.applyTimedAura(auSteadyFocus, ms(steadyFocusDur))
		}
	case spTrueshot:
		st.applyTimedAura(auTrueshot, ms(trueshotDuration))
	}
}

func (st *state) rapidFireShot() {
	s := st.sim
	m := st.playerMult()
	if s.talent[tStreamline] {
		m *= 1 + streamlineDmg
	}
	if s.talent[tSurgingShots] {
		m *= 1 + surgingShotsDmg
	}
	if s.talent[tFocusedAim] {
		m *= 1 + focusedAimDmg
	}
	st.hit(abRapidFire, spells[spRapidFire].coef*s.ap*m, physical, 0, 0)
	st.gainFocus(rapidFireFocus)
}

func (st *state) killCommand() {
	s := st.sim
	m := st.petMult()
	if s.talent[tKillerInstinct] && st.healthPct() < killerInstinctPct {
		m *= 1 + killerInstinctDmg
	}
	if s.talent[tAlphaPredator] {
		m *= 1 + alphaPredatorDmg
	}
	if s.talent[tSavagery] {
		m *= 1 + savageryKcDmg
	}
	base := kcCoef * s.petAp * m
	st.hit(abKillCommand, base, physical, 0, 0)
	if s.talent[tAnimalCompanion] {
		st.casts[abCompanionKillCommand]++
		st.hit(abCompanionKillCommand, base, physical, 0, 0)
	}
	if s.talent[tDireCommand] && st.rng.chance(direCommandChance) {
		st.summonDireBeast()
	}
}

// --- auto attacks and pets --------------------------------------------

func (st *state) autoShot() {
	s := st.sim
	w := s.cfg.Player.WeaponDmg
	base := w[0] + (w[1]-w[0])*st.rng.float() + s.ap/apPerWeaponDps*s.cfg.Player.WeaponSpeed
	st.casts[abAutoShot]++
	_, crit := st.hit(abAutoShot, base*st.playerMult(), physical, 0, 0)
	if crit && s.talent[tWildCall] && st.rng.chance(wildCallChance) {
		st.gainCharge(spBarbedShot)
	}
	if s.talent[tLockAndLoad] && st.rng.chance(lockAndLoadChance) {
		st.applyAura(auLockAndLoad, 1, ms(lockAndLoadDur))
	}
	st.timer[timerAutoShot] = st.now + st.autoShotMs
}

func (st *state) summon(slot int, kind petKind, dur int64) {
	st.settle()
	p := &st.pets[slot]
	p.kind, p.active = kind, true
	p.expires = 0
	if dur > 0 {
		p.expires = st.now + dur
	}
	p.next = st.now
	if kind == petMain {
		st.basicNext = st.now
	} else {
		st.tempPets |= 1 << slot
	}
}

// summonTemp puts a temporary pet into a free slot; when every slot is
// taken the summon fizzles (it cannot happen with the game's durations).
func (st *state) summonTemp(kind petKind, dur int64) {
	st.settle()
	for i := slotCompanion + 1; i < maxPets; i++ {
		p := &st.pets[i]
		if !p.active {
			st.summon(i, kind, dur)
			return
		}
	}
}

func (st *state) summonDireBeast() {
	st.summonTemp(petDireBeast, ms(direBeastDuration))
	st.applyTimedAura(auDireBeast, ms(direBeastDuration))
}

// cotwSummon summons one Call of the Wild pet (left > 0 schedules the
// next), cutting Kill Command's and Barbed Shot's recharge by half.
func (st *state) cotwSummon(left int) {
	st.summonTemp(petCallOfTheWild, ms(cotwPetDuration))
	st.scaleCd(spKillCommand, 1-cotwCdCut)
	st.scaleCd(spBarbedShot, 1-cotwCdCut)
	if left > 1 {
		st.schedule(st.now+ms(cotwSummonEvery), event{kind: evSummon, b: uint8(left - 1)})
	}
}

// settle carries out the pets' swings and basic attacks and the bleed's
// ticks that fell due up to now. They change nothing the rotation reads, so
// instead of an event each they run in batches, before anything changes
// what they depend on: haste, the pets, Frenzy, Bestial Wrath, Beast
// Cleave, Thrill of the Hunt and the bleed itself. Every spell's execute,
// every haste change and every summon settles first, and the fight's end
// settles the rest; the auras are read as they were at each swing's time
// (activeAt), which is exact because none changed since the last settle.
func (st *state) settle() { st.settleUntil(st.now) }

func (st *state) settleUntil(upTo int64) {
	if upTo <= st.settledAt {
		return // a spell and its effects often settle several times at once
	}
	st.settledAt = upTo
	s := st.sim
	// What the attacks read, loaded once: none of it changes while this
	// runs, and locals stay in registers across the loops. The arithmetic
	// is that of petMultAt, critChanceAt and strike, in the same order.
	w := settleWindow{
		st: st, physMult: s.physMult, crit: s.crit, petMultBase: s.petMult,
		bwEnd:       st.auras[auBestialWrath].end,
		thrillEnd:   st.auras[auThrillOfTheHunt].end,
		thrillCrit:  thrillCrit * float64(st.auras[auThrillOfTheHunt].stacks),
		frenzyEnd:   st.auras[auFrenzy].end,
		frenzySwing: st.petSwingMs[st.auras[auFrenzy].stacks],
		plainSwing:  st.petSwingMs[0],
	}
	if p := &st.pets[slotMain]; p.active {
		companion := s.talent[tAnimalCompanion]
		cleave := s.targets > 1
		cleaveEnd := st.auras[auBeastCleave].end
		swings := int32(0)
		for p.next <= upTo {
			t := p.next
			base := petMeleeCoef * s.petAp * w.petMult(t)
			crit := w.critAt(t)
			d := w.strike(abPetMelee, base, crit)
			swings++
			// The Animal Companion swings with the main pet: both share the
			// owner's haste and Frenzy.
			if companion {
				d += w.strike(abCompanionMelee, base, crit)
			}
			if cleave && cleaveEnd > t {
				st.dmg[abBeastCleave] += d * beastCleaveShare * float64(s.targets-1)
			}
			if w.frenzyEnd > t {
				p.next = t + w.frenzySwing
			} else {
				p.next = t + w.plainSwing
			}
		}
		st.casts[abPetMelee] += swings
		if companion {
			st.casts[abCompanionMelee] += swings
		}
		for st.basicNext <= upTo {
			t := st.basicNext
			w.strike(abPetBasic, petBasicCoef*s.petAp*w.petMult(t), w.critAt(t))
			st.casts[abPetBasic]++
			st.basicNext = t + petBasicMs
		}
	}
	for temps := st.tempPets; temps != 0; temps &= temps - 1 {
		i := bits.TrailingZeros16(temps)
		p := &st.pets[i]
		ab, ap := abCallOfTheWildMelee, s.petAp
		if p.kind == petDireBeast {
			ab, ap = abDireBeastMelee, s.ap*direBeastApShare
		}
		for p.next <= upTo && p.next < p.expires {
			t := p.next
			w.strike(ab, petMeleeCoef*ap*w.petMult(t), w.critAt(t))
			st.casts[ab]++
			p.next = t + w.plainSwing
		}
		if p.next >= p.expires {
			p.active = false
			st.tempPets &^= 1 << i
		}
	}
	bleedEnd := st.auras[auBarbedShot].end
	for st.dotNext <= upTo {
		t := st.dotNext
		if t > bleedEnd {
			st.dotNext = never
			break
		}
		m := s.playerMult
		if w.bwEnd > t {
			m *= 1 + bwDamage
		}
		if s.talent[tWarOrders] {
			m *= 1 + warOrdersDmg
		}
		w.strike(abBarbedShotDot, barbedDotCoef*s.ap*m, w.critAt(t))
		st.dotNext = t + barbedTickMs
	}
}

// settleWindow is what settle reads, held in locals for its loops.
type settleWindow struct {
	st                      *state
	physMult, crit          float64
	petMultBase             float64
	bwEnd, thrillEnd        int64
	thrillCrit              float64
	frenzyEnd               int64
	frenzySwing, plainSwing int64
}

func (w *settleWindow) petMult(t int64) float64 {
	m := w.petMultBase
	if w.bwEnd > t {
		m *= 1 + bwDamage
	}
	return m
}

func (w *settleWindow) critAt(t int64) float64 {
	if w.thrillEnd > t {
		return w.crit + w.thrillCrit
	}
	return w.crit
}

// strike is state.strike for a physical hit without crit damage bonus.
func (w *settleWindow) strike(ab abilityID, base, crit float64) float64 {
	d := base * w.physMult
	if w.st.rng.chance(crit) {
		d *= critMultiplier
	}
	w.st.dmg[ab] += d
	return d
}
