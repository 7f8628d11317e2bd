// This file is damage over time. Barbed Shot's bleed ticks as events (its
// ticks change cooldowns the rotation reads); the other periodic effects
// tick lazily in settle.

package engine

import (
	"math"
	"math/bits"
)

type dotID uint8

const (
	dotBarbed dotID = iota
	dotBloodshed
	dotBlackArrow
	dotLaceration
	dotRendFlesh
	dotCrows
	dotRazor
	dotMasterMarksman
	dotRavenousLeap
	numDots
)

// dotAura is the aura that shows each periodic effect to the rotation.
var dotAura = [numDots]auraID{
	dotBarbed: auBarbedShot, dotBloodshed: auBloodshedDot, dotBlackArrow: auBlackArrowDot,
	dotLaceration: auLaceration, dotRendFlesh: auRendFlesh, dotCrows: auMurderOfCrows,
	dotRazor: auRazorBleed, dotMasterMarksman: auMasterMarksman, dotRavenousLeap: auRavenousLeap,
}

// dot is one periodic effect on the primary target.
type dot struct {
	next    int64   // next tick, or never
	last    int64   // the last tick falls at or before last
	pool    float64 // damage a residual bleed has left to deal
	targets int     // targets the effect ticks on
	gen     uint32
}

// startDot starts or refreshes periodic effect d at now with the given
// duration and period: a refresh keeps the tick schedule and up to 30% of
// the time that was left (the pandemic rule).
func (st *state) startDot(d dotID, dur, period int64, targets int) {
	o := &st.dots[d]
	a := &st.auras[dotAura[d]]
	if o.next != never && o.next != 0 && o.last >= o.next {
		left := o.last - st.now
		o.last = st.now + dur + min(left, dur*3/10)
	} else {
		o.gen++
		o.next = st.now + period
		o.last = st.now + dur
	}
	o.targets = max(o.targets, targets)
	a.end, a.stacks = o.last, 1
	st.changed = true
	if d != dotBarbed {
		st.dotDue = min(st.dotDue, o.next)
		st.dotLive |= 1 << d
	}
}

// applyResidual adds amount to residual bleed d at time t: what is left of
// the bleed and the new amount are spread evenly over the refreshed
// bleed's ticks (each tick deals its share of the pool, see dotTick).
//
// Settling runs the periodic effects before the pets' swings, so t may lie
// before ticks already done: whether the bleed is refreshed or starts anew
// is judged at t, and a refresh never shortens it.
func (st *state) applyResidual(d dotID, t int64, amount float64) {
	s := st.sim
	o := &st.dots[d]
	if o.next == 0 || o.next == never || o.last < t {
		o.next, o.last, o.pool = t+s.dotPeriod[d], t, 0
	}
	o.last = max(o.last, t+s.dotDur[d])
	o.pool += amount
	o.targets = 1
	a := &st.auras[dotAura[d]]
	a.end, a.stacks = o.last, 1
	st.dotDue = min(st.dotDue, o.next)
	st.dotLive |= 1 << d
}

// settleDots runs the lazily ticked effects' ticks up to upTo and reports
// whether any ticked.
func (st *state) settleDots(upTo int64) bool {
	any := false
	due := int64(never)
	for live := st.dotLive; live != 0; live &= live - 1 {
		d := dotID(bits.TrailingZeros16(live))
		o := &st.dots[d]
		for o.next <= upTo && o.next <= o.last {
			any = true
			t := o.next
			o.next += st.sim.dotPeriod[d]
			st.dotTick(d, t)
		}
		// A finished effect keeps its next tick: a residual bleed refreshed
		// at a time before its end (see applyResidual) ticks on from there.
		if o.next > o.last {
			st.dotLive &^= 1 << d
		} else if o.next < due {
			due = o.next
		}
	}
	st.dotDue = min(due, st.dotDue)
	if !any {
		st.dotDue = due
	}
	return any
}

// dotTick deals one tick of d at time t.
func (st *state) dotTick(d dotID, t int64) {
	s := st.sim
	o := &st.dots[d]
	switch d {
	case dotBloodshed:
		p := &st.pets[slotMain]
		st.deal(abBloodshedBleed, t, s.p.bloodshedCoef*s.petAp*st.petMultAt(p, t), st.petCritAt(t, true), st.petCritMulAt(t, true))
		if st.rng.chance(s.p.bloodshedDireBeast) {
			st.summonDireBeast(t)
		}
	case dotBlackArrow:
		base := s.p.blackArrowDotCoef * s.ap * st.playerMultAt(t) * st.masteryMult(s.mastCoef[abBlackArrowDot])
		for range o.targets {
			st.deal(abBlackArrowDot, t, base, st.critAt(abBlackArrowDot, t), critMul(1, s.critDmg))
		}
		if s.has(tShadowHounds) && st.rng.chance(s.p.shadowHoundsChance) {
			st.summonPet(petDarkHound, t, s.p.darkHoundMs)
		}
	case dotLaceration, dotRazor, dotMasterMarksman:
		ab := abLaceration
		if d == dotRazor {
			ab = abRazorFragments
		} else if d == dotMasterMarksman {
			ab = abMasterMarksman
		}
		// Ticks left, this one included: (last-t)/period+1, by a product
		// rather than an integer division (the epsilon keeps exact
		// multiples of the period exact).
		share := o.pool / (math.Floor(float64(o.last-t)*s.dotRate[d]+1e-9) + 1)
		o.pool -= share
		st.dealPlain(ab, t, share, float64(o.targets))
		if d == dotLaceration && s.has(tDireBeast) && st.rng.chance(s.p.direBeastChance) {
			st.summonDireBeast(t)
		}
	case dotRendFlesh:
		base := s.p.rendFleshCoef * s.ap * st.petOwnerMultAt(t, true) * s.direFrenzyDmg * st.masteryMult(s.p.masteryBeast)
		st.dealTargets(abRendFlesh, t, base, st.critAt(abRendFlesh, t), critMul(1, s.critDmg), min(s.targets, s.p.rendFleshTargets), 0)
		if s.has(tUrsineFury) && st.rng.chance(s.p.ursineFuryChance) {
			st.reduceCd(spKillCommand, s.p.ursineFuryMs)
		}
	case dotCrows:
		st.deal(abMurderOfCrows, t, s.p.crowsCoef*s.ap*st.playerMultAt(t)*st.masteryMult(s.mastCoef[abMurderOfCrows]), st.critAt(abMurderOfCrows, t), critMul(1, s.critDmg))
	case dotRavenousLeap:
		base := s.p.ravenousLeapCoef * s.ap * s.p.hatiApShare * st.petOwnerMultAt(t, true) * s.direFrenzyDmg
		st.deal(abRavenousLeap, t, base, st.petCritAt(t, false), critMul(1, s.critDmg))
	}
}

// --- Barbed Shot ---------------------------------------------------------

// barbedApply applies Barbed Shot's bleed now: it ticks at once and every
// period after, for the bleed's duration (refreshed by the pandemic rule).
func (st *state) barbedApply() {
	s := st.sim
	o := &st.dots[dotBarbed]
	ticking := o.next != 0 && o.next != never && o.last >= o.next
	st.startDot(dotBarbed, s.dotDur[dotBarbed], s.dotPeriod[dotBarbed], 1)
	if !ticking {
		st.schedule(o.next, event{kind: evBarbedTick, gen: o.gen})
	}
	st.barbedTick()
}

// barbedTickEvent is the bleed's periodic tick.
func (st *state) barbedTickEvent(gen uint32) {
	o := &st.dots[dotBarbed]
	if gen != o.gen || o.next > o.last {
		return
	}
	st.barbedTick()
	o.next += st.sim.dotPeriod[dotBarbed]
	if o.next <= o.last {
		st.schedule(o.next, event{kind: evBarbedTick, gen: o.gen})
	} else {
		o.next = never
	}
}

// barbedTick deals one tick of Barbed Shot's bleed now.
func (st *state) barbedTick() {
	s := st.sim
	st.shoot(abBarbedShot, s.p.barbedCoef*s.ap)
	if s.has(tMasterHandler) {
		st.reduceCd(spKillCommand, s.p.masterHandlerMs)
	}
	if s.has(tDireBeast) && st.rng.chance(s.p.direBeastChance) {
		st.summonDireBeast(st.now)
	}
}
