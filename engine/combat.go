// This file is the damage pipeline: what a hit's damage is multiplied by,
// critical strikes, and the targets hit.

package engine

import "math"

// modifier flags of a breakdown line, set at compile time.
const (
	modPlayer    uint16 = 1 << iota // the hunter's own ability: Bestial Wrath, Wyvern's Cry, The Bell Tolls
	modPet                          // a pet's (not a guardian's) ability: the owner's pet multiplier
	modGuardian                     // a guardian's ability
	modThrill                       // Thrill of the Hunt's critical strike chance
	modBullseye                     // Bullseye's critical strike chance
	modTrueshot                     // Trueshot's critical damage
	modPenetrate                    // Penetrating Shots' critical damage
	modNoCrit                       // cannot critically strike
	modUnnatural                    // Unnatural Causes (periodic damage)
)

// targetMultAt is the multiplier of the primary target's debuffs on a hit of
// ab at time t: Hunter's Mark above 80% health, Lunar Storm, Kill Zone and
// Wild Instincts, and Unnatural Causes on periodic damage in execute range.
func (st *state) targetMultAt(ab abilityID, t int64) float64 {
	s := st.sim
	m := st.targetBaseAt(s.class[ab], t)
	if t >= s.executeAt {
		m *= s.executeMult[ab] // 1 but for Unnatural Causes' lines
	}
	return m
}

// targetBaseAt is targetMultAt for every line of hit class c.
func (st *state) targetBaseAt(c uint8, t int64) float64 {
	s := st.sim
	m := 1.0
	if t < s.markEnd {
		m *= s.huntersMark
	}
	if st.auras[auLunarStormDebuff].end > t {
		m *= s.p.lunarDebuff[c]
	}
	if st.auras[auKillZone].end > t {
		m *= s.p.killZone
	}
	if c == classPet {
		if a := &st.auras[auWildInstincts]; a.end > t {
			m *= 1 + s.p.wildInstincts*float64(a.stacks)
		}
	}
	return m
}

// deal adds one hit of amount (the ability's own multipliers applied) to
// the primary target at time t, rolls its critical strike with chance crit
// and critical damage multiplier critMul, and returns the damage done.
func (st *state) deal(ab abilityID, t int64, amount, crit, critMul float64) (float64, bool) {
	pre := amount * st.sim.static[ab]
	critical := st.rng.chance(crit)
	if critical {
		pre *= critMul
		st.ab[ab].crits++
	}
	st.lastPre, st.lastCrit = pre, critical
	d := pre * st.targetMultAt(ab, t)
	st.ab[ab].hits++
	st.ab[ab].dmg += d
	return d, critical
}

// dealPlain adds damage that neither crits nor takes the caster's
// multipliers (Beast Cleave, residual bleeds, Phantom Pain): only the
// line's static multipliers (versatility excluded) and the targets' debuffs.
func (st *state) dealPlain(ab abilityID, t int64, amount float64, targets float64) {
	d := amount * st.sim.static[ab] * targets
	if t >= st.sim.executeAt {
		d *= st.sim.executeMult[ab]
	}
	st.ab[ab].hits += int32(targets + 0.5)
	st.ab[ab].dmg += d
}

// aoe is the total damage multiplier of an area hit on n targets of which
// full lands on the first full: beyond that the game divides the damage by
// sqrt(n/full).
func aoe(n, full int) float64 {
	if full > 0 && n > full {
		return float64(n) * math.Sqrt(float64(full)/float64(n))
	}
	return float64(n)
}

// dealTargets deals amount to n targets (the primary first), rolling each
// hit's critical strike; full > 0 caps the targets that take full damage.
// It returns the primary target's damage and whether it crit.
func (st *state) dealTargets(ab abilityID, t int64, amount, crit, critMul float64, n, full int) (float64, bool) {
	if n <= 0 {
		return 0, false
	}
	if full > 0 && n > full {
		amount *= math.Sqrt(float64(full) / float64(n))
	}
	d, c := st.deal(ab, t, amount, crit, critMul)
	for range n - 1 {
		st.deal(ab, t, amount, crit, critMul)
	}
	return d, c
}

// critMul is the critical damage multiplier: the base bonus of 100% is
// multiplied by bonus, and the whole critical hit by player (the game's
// critical damage bonus multiplier and critical damage multiplier).
func critMul(bonus, player float64) float64 { return 1 + (2*player-1)*bonus }

// --- multipliers that change during the fight --------------------------

// healthPctAt is the targets' health fraction at time t: it falls evenly
// from full to zero over the fight.
func (st *state) healthPctAt(t int64) float64 { return 1 - float64(t)/float64(st.end) }

func (st *state) healthPct() float64 { return st.healthPctAt(st.now) }

// masteryMult is the multiplier of a mastery coefficient (a fraction per point).
func (st *state) masteryMult(coef float64) float64 { return 1 + st.mastery*coef }

// wyvernStacksAt is Wyvern's Cry's stack count at time t. The main pets'
// swings add stacks and are settled lazily, so while the aura can still
// grow the swings since the last settle are counted: within the current
// pet window their times are known; past its end the pets are settled (a call
// from inside a settle finds them done).
func (st *state) wyvernStacksAt(t int64) int8 {
	a := &st.auras[auWyvernsCry]
	if a.end <= t {
		return 0
	}
	top := st.sim.auraMax[auWyvernsCry]
	upTo := min(t, st.now)
	if a.stacks >= top || upTo <= st.settledAt {
		return a.stacks
	}
	if !st.winOK || st.winFrom > st.settledAt || upTo >= st.win.until {
		st.settleUntil(upTo)
		return a.stacks
	}
	// The hits of one moment ask again and again: keep the last answer.
	m := &st.wyMemo
	if m.at == upTo && m.settled == st.settledAt && m.base == a.stacks {
		return m.stacks
	}
	n := int64(a.stacks)
	for i := slotMain; i <= slotCompanion; i++ {
		if p := &st.pets[i]; st.live&(1<<i) != 0 && p.next <= upTo && p.next < a.end {
			n += (min(upTo, p.expires-1)-p.next)/mainInterval(p, &st.win) + 1
		}
	}
	*m = wyvernMemo{at: upTo, settled: st.settledAt, base: a.stacks, stacks: int8(min(n, int64(top)))}
	return m.stacks
}

// wyvernMemo is wyvernStacksAt's last answer: stacks at time at, counted
// from base stacks settled up to settled.
type wyvernMemo struct {
	at, settled  int64
	base, stacks int8
}

// wyvernAt is Wyvern's Cry's damage multiplier at time t.
func (st *state) wyvernAt(t int64) float64 {
	if st.auras[auWyvernsCry].end <= t {
		return 1
	}
	return 1 + st.sim.p.wyvernStack*float64(st.wyvernStacksAt(t))
}

// playerMultAt is the multiplier of the hunter's own damage at time t.
func (st *state) playerMultAt(t int64) float64 {
	s := st.sim
	m := st.wyvernAt(t)
	if st.auras[auBestialWrath].end > t {
		m *= s.p.bwPlayer
	}
	if s.has(tTheBellTolls) {
		if n := st.bellTollsAt(t); n > 0 {
			m *= 1 + s.p.bellTolls*float64(n)
		}
	}
	return m
}

// playerHit is the amount of a hunter ability's hit before critical
// strikes: base times the hunter's multipliers and the ability's mastery.
func (st *state) playerHit(ab abilityID, base float64) float64 {
	return base * st.playerMultAt(st.now) * st.masteryMult(st.sim.mastCoef[ab])
}

// bellTollsAt counts the stacks of The Bell Tolls at time t. The count
// holds from the last stack's end at or before t to the next end after
// it; the hunter's and the pets' hits ask within that stretch again and
// again, so it is kept until t leaves it or a stack is added.
func (st *state) bellTollsAt(t int64) int {
	m := &st.bellMemo
	if t >= m.from && t < m.until {
		return m.n
	}
	n, from, until := 0, int64(math.MinInt64), int64(never)
	for _, end := range st.bellTolls {
		if end > t {
			n++
			until = min(until, end)
		} else {
			from = max(from, end)
		}
	}
	*m = stackMemo{from: from, until: until, n: n}
	return n
}

// stackMemo is a count of stacks with their own timers and the stretch of
// time [from, until) in which it holds.
type stackMemo struct {
	from, until int64
	n           int
}

// critAt is the hunter's critical strike chance at time t for ab.
func (st *state) critAt(ab abilityID, t int64) float64 {
	s := st.sim
	f := s.mods[ab]
	if f&modNoCrit != 0 {
		return 0
	}
	c := st.critBaseAt(t) + s.critBonus[ab]
	if f&modThrill != 0 {
		if a := &st.auras[auThrill]; a.end > t {
			c += s.p.thrillCrit * float64(a.stacks)
		}
	}
	if f&modBullseye != 0 {
		if a := &st.auras[auBullseye]; a.end > t {
			c += s.p.bullseyeCrit * float64(a.stacks)
		}
	}
	return c
}

// critBaseAt is the critical strike chance at time t the hunter and every
// pet share.
func (st *state) critBaseAt(t int64) float64 {
	s := st.sim
	c := s.crit
	if st.auras[auTrueshot].end > t {
		c += s.p.trueshotCrit
	}
	if st.auras[auSharpenedFangs].end > t {
		c += s.p.pl2pcStat
	}
	return c
}

// playerRoll is a hunter ability's critical strike chance now and its
// critical damage multiplier, bonus multiplying the critical damage bonus.
func (st *state) playerRoll(ab abilityID, bonus float64) (chance, mul float64) {
	s := st.sim
	f := s.mods[ab]
	chance = st.critAt(ab, st.now)
	if f&modTrueshot != 0 && st.auras[auTrueshot].end > st.now {
		bonus *= s.p.trueshotCritDmg
	}
	player := s.critDmg
	if f&modPenetrate != 0 {
		player *= 1 + s.p.penetrating*chance
	}
	return chance, critMul(bonus, player)
}

// shoot deals one hit of a hunter ability to its primary target now and
// returns the damage and whether it crit.
func (st *state) shoot(ab abilityID, base float64) (float64, bool) {
	chance, critM := st.playerRoll(ab, 1)
	return st.deal(ab, st.now, st.playerHit(ab, base), chance, critM)
}

// petOwnerMultAt is the owner's multiplier on pet (guardian=false) or
// guardian damage at time t.
func (st *state) petOwnerMultAt(t int64, guardian bool) float64 {
	s := st.sim
	if guardian {
		return s.guardianStatic * st.masteryMult(s.p.masteryPet)
	}
	return st.ownerBaseAt(t) * st.wyvernAt(t)
}

// ownerBaseAt is the owner's multiplier on pet damage at time t but for
// Wyvern's Cry, which the main pets' swings build up.
func (st *state) ownerBaseAt(t int64) float64 {
	s := st.sim
	m := s.petStatic * st.masteryMult(s.p.masteryPet)
	if st.auras[auSummonHati].end > t {
		m *= s.p.hati
	}
	if st.auras[auSerpentineBlessing].end > t {
		m *= s.p.serpentineBlessing
	}
	if st.auras[auLeadFromTheFront].end > t {
		m *= s.p.lftfPet
	}
	if s.has(tTheBellTolls) && s.spec == bm {
		if n := st.bellTollsAt(t); n > 0 {
			m *= 1 + s.p.bellTolls*float64(n)
		}
	}
	return m
}

// petCritAt is a pet's critical strike chance at time t: the owner's, and
// Thrill of the Hunt's for the main pet and the Animal Companion.
func (st *state) petCritAt(t int64, thrill bool) float64 {
	c := st.critBaseAt(t)
	if thrill {
		if a := &st.auras[auThrill]; a.end > t {
			c += st.sim.p.thrillCrit * float64(a.stacks)
		}
	}
	return c
}

// petCritMulAt is a pet's critical damage multiplier at time t.
func (st *state) petCritMulAt(t int64, main bool) float64 {
	s := st.sim
	player := s.critDmg
	if main && s.has(tPiercingFangs) && st.auras[auBestialWrath].end > t {
		player *= s.p.piercingFangs
	}
	return critMul(1, player)
}
