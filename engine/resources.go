// This file is focus, cooldowns and haste.

package engine

import "math"

// --- focus ---------------------------------------------------------------

// regenRate is the focus regeneration per millisecond now.
func (st *state) regenRate() float64 { return st.sim.regenBase * st.haste / 1000 }

// settleFocus brings focus up to now: regeneration at the current rate,
// and the Barbed Shot focus grants that fell due, each at its own time
// (exactly as if each were an event, without the events).
//
// Grants due by now were applied when focusAt reached now: the check is
// apart from the work so that it inlines.
func (st *state) settleFocus() {
	if st.now != st.focusAt {
		st.catchUpFocus()
	}
}

// catchUpFocus is settleFocus's work once focusAt lies in the past.
func (st *state) catchUpFocus() {
	max := st.sim.focusMax
	grant := st.sim.p.barbedFocus
	for st.grantHead < len(st.grants) && st.grants[st.grantHead] <= st.now {
		at := st.grants[st.grantHead]
		st.grantHead++
		f := st.focus + st.regen*float64(at-st.focusAt)
		if f += grant; f > max {
			f = max
		}
		st.focus, st.focusAt = f, at
	}
	if st.now > st.focusAt {
		f := st.focus + st.regen*float64(st.now-st.focusAt)
		if f > max {
			f = max
		}
		st.focus, st.focusAt = f, st.now
	}
}

// grantFocusOverTime queues Barbed Shot's focus: a grant every period for
// the buff's duration. Grants are kept in time order.
func (st *state) grantFocusOverTime() {
	st.settleFocus()
	if st.grantHead > 0 {
		n := copy(st.grants, st.grants[st.grantHead:])
		st.grants = st.grants[:n]
		st.grantHead = 0
	}
	p := st.sim.p.barbedFocusPeriod
	for i := int64(1); i <= st.sim.p.barbedFocusTicks; i++ {
		st.insertGrant(st.now + i*p)
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
	if st.focus += v; st.focus > st.sim.focusMax {
		st.focus = st.sim.focusMax
	}
}

func (st *state) currentFocus() float64 {
	st.settleFocus()
	return st.focus
}

// costOf is what casting sp costs now.
func (st *state) costOf(sp spellID) float64 {
	s := st.sim
	c := s.cost[sp]
	switch sp {
	case spMultiShot, spArcaneShot:
		if st.auras[auPreciseShots].end > st.now {
			c *= s.p.preciseCost
		}
	case spAimedShot:
		if st.auras[auLockAndLoad].end > st.now {
			return 0
		}
		if a := &st.auras[auStreamline]; a.end > st.now {
			c *= 1 + st.streamlineShare()*s.p.streamlineCost*float64(a.stacks)
		}
	}
	return c
}

// streamlineShare is how much of Streamline's effect applies now (Tensile
// Bowstring raises it during Trueshot).
func (st *state) streamlineShare() float64 {
	if st.auras[auTrueshot].end > st.now {
		return st.sim.p.tensileStreamline
	}
	return 1
}

// --- cooldowns -----------------------------------------------------------

// rechargeMs is how long the next charge of sp takes to come back now.
func (st *state) rechargeMs(sp spellID) int64 { return st.recharge[sp] }

// computeRecharge is rechargeMs from first principles; recomputeHaste
// caches it whenever haste or Trueshot change.
func (st *state) computeRecharge(sp spellID) int64 {
	s := st.sim
	d := s.baseCd[sp]
	if s.hastedCd(sp) {
		d /= st.haste
	}
	if (sp == spAimedShot || sp == spRapidFire) && st.auras[auTrueshot].end > st.now {
		d /= s.p.trueshotRecharge
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
	if d <= 0 {
		return
	}
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

// --- haste ---------------------------------------------------------------

// recomputeHaste must be called whenever haste or a recharge rate changes:
// pets, focus and the running recharges are brought up to date at the old
// rates first.
func (st *state) recomputeHaste() {
	st.settle()
	st.settleFocus()
	s := st.sim
	old := st.haste
	h := s.haste
	if st.auras[auBloodlust].end > st.now {
		h *= s.p.bloodlust
	}
	if st.auras[auSummonFenryr].end > st.now {
		h *= s.p.fenryrHaste
	}
	if st.auras[auHastedHooves].end > st.now {
		h *= 1 + s.p.pl2pcStat
	}
	if n := st.onTargetStacks(); n > 0 {
		h *= 1 + s.p.onTargetHaste*float64(n)
	}
	h *= st.trinketHaste()
	st.haste = h
	st.invalidate()
	st.gcd = ms(math.Max(s.p.gcdMin, s.p.gcdBase/h))
	st.autoShotMs = ms(s.autoShotBase / h)
	if old > 0 && old != h {
		for _, sp := range s.hastedCds {
			st.scaleCd(sp, old/h)
		}
	}
	for _, sp := range s.rateCds {
		st.recharge[sp] = st.computeRecharge(sp)
	}
	st.regen = st.regenRate()
}

// onTargetStacks counts the stacks of On Target now.
func (st *state) onTargetStacks() int {
	n := 0
	for _, end := range st.onTarget {
		if end > st.now {
			n++
		}
	}
	return n
}
