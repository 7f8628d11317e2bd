// This file is casting: what can be cast, what it costs, the GCD, cast and
// channel times, and the dispatch of each spell's effects.

package engine

import "math"

// CanCast reports whether spell id can be started now (rotation.Env). The
// check is written out here rather than called: the rotation asks it several
// times per decision, mostly of spells on cooldown. Cheapest refusals come
// first.
func (e env) CanCast(id int) bool {
	st, sp := e.st, spellID(id)
	s := st.sim
	if !s.known[sp] {
		return false
	}
	if c := &st.cds[sp]; c.charges == 0 && c.max > 0 {
		if st.now < c.end {
			st.wake = min(st.wake, c.end)
			return false
		}
		st.syncCd(sp)
	}
	switch sp {
	case spKillShot, spBlackArrow:
		if !st.executeReady(sp) {
			return false
		}
	case spRapidFire, spAimedShot, spSteadyShot:
		if st.castEnd > st.now {
			return false
		}
	}
	cost := s.cost[sp]
	if s.dynamicCost[sp] {
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

// executeReady reports whether Kill Shot (or Black Arrow) may be cast at
// the targets' health now, noting when it next could.
func (st *state) executeReady(sp spellID) bool {
	s := st.sim
	if st.auras[auDeathblow].end > st.now {
		return true
	}
	if st.now >= s.executeAt {
		return true
	}
	if sp == spBlackArrow && st.now < s.markEnd {
		return true
	}
	st.wake = min(st.wake, s.executeAt)
	return false
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

// gcdOf is the global cooldown sp triggers now.
func (st *state) gcdOf(sp spellID) int64 {
	s := st.sim
	switch sp {
	case spArcaneShot, spMultiShot:
		if s.spec == mm && st.auras[auPreciseShots].end > st.now {
			return max(ms(s.p.gcdMin), int64(float64(st.gcd)*s.p.preciseGcd))
		}
	case spKillShot:
		if s.has(tHeadshot) && st.auras[auPreciseShots].end > st.now {
			return max(ms(s.p.gcdMin), int64(float64(st.gcd)*s.p.preciseGcd))
		}
	}
	return st.gcd
}

// castMs is the cast or channel time of sp now.
func (st *state) castMs(sp spellID) int64 {
	s := st.sim
	switch sp {
	case spAimedShot:
		if st.auras[auLockAndLoad].end > st.now {
			return 0
		}
		t := s.p.aimedCast / st.haste
		if a := &st.auras[auStreamline]; a.end > st.now {
			t *= 1 + st.streamlineShare()*s.streamlineCast*float64(a.stacks)
		}
		return ms(t)
	case spSteadyShot:
		return ms(s.p.steadyCast / st.haste)
	case spRapidFire:
		shots, tick := st.rapidFireShape()
		return int64(shots-1) * tick
	}
	return 0
}

// rapidFireShape is the number of Rapid Fire's shots and the time between
// them now: the first shot is at once.
func (st *state) rapidFireShape() (int, int64) {
	s := st.sim
	shots := s.rapidFireShots
	tick := s.rapidFireTick / st.haste
	if st.auras[auDoubleTap].end > st.now {
		shots = 1 + int(float64(shots-1)*s.p.doubleTapShots)
		tick *= s.p.doubleTapTick
	}
	return shots, max(1, ms(tick))
}

// startCast begins sp: pays its cost, uses a charge, starts the GCD and
// either resolves it at once or schedules the end of its cast or channel.
func (st *state) startCast(sp spellID) {
	s := st.sim
	d := &castables[sp]
	cost := st.costOf(sp)
	ct := st.castMs(sp)
	st.settleFocus()
	st.focus -= cost
	if s.charges[sp] > 0 {
		st.useCharge(sp)
	}
	if !d.offGCD {
		st.gcdEnd = st.now + st.gcdOf(sp)
	}
	st.ab[d.ability].casts++
	if s.trinketProcs {
		st.trinketProc()
	}
	switch {
	case sp == spRapidFire:
		st.castEnd = st.now + ct
		st.channelGen++
		st.rapidFireStart()
		shots, tick := st.rapidFireShape()
		st.channelTick = tick
		st.channelShot(shots)
	case ct > 0:
		st.castEnd = st.now + ct
		st.schedule(st.castEnd, event{kind: evCastDone, a: uint8(sp)})
	default:
		st.execute(sp)
	}
	st.busyUntil = max(st.gcdEnd, st.castEnd)
}

// execute resolves sp's effects.
func (st *state) execute(sp spellID) {
	switch sp {
	case spKillCommand:
		st.killCommand()
	case spBarbedShot:
		st.barbedShot()
	case spCobraShot:
		st.cobraShot(false)
	case spMultiShot:
		if st.sim.spec == bm {
			st.multiShotBM()
		} else {
			st.multiShotMM()
		}
	case spKillShot:
		if st.sim.has(tBlackArrow) {
			st.blackArrow()
		} else {
			st.killShot()
		}
	case spBlackArrow:
		st.blackArrow()
	case spBestialWrath:
		st.bestialWrath()
	case spCallOfTheWild:
		st.callOfTheWild()
	case spBloodshed:
		st.bloodshed()
	case spExplosiveShot:
		st.explosiveShot()
	case spAimedShot:
		st.aimedShot()
	case spArcaneShot:
		st.arcaneShot()
	case spSteadyShot:
		st.steadyShot()
	case spTrueshot:
		st.trueshot()
	case spVolley:
		st.volley()
	}
}

// channelShot fires one Rapid Fire shot and schedules the next; left counts
// this shot.
func (st *state) channelShot(left int) {
	st.rapidFireShot()
	if left > 1 {
		st.schedule(st.now+st.channelTick, event{kind: evChannelTick, b: uint8(min(left-1, 255)), gen: st.channelGen})
		return
	}
	st.rapidFireEnd()
}
