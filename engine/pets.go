// This file is the pets: the main pet and the Animal Companion, Call of
// the Wild's pets and the guardians (Dire Beasts, Hati, Fenryr, the Bear,
// Dark Hounds). Their swings are not events: settle carries them out in
// batches before anything they depend on changes.

package engine

import "math/bits"

type petKind uint8

const (
	petMain petKind = iota
	petCompanion
	petCotw
	petDireBeast
	petHati
	petFenryr
	petBear
	petDarkHound
)

const (
	slotMain      = 0
	slotCompanion = 1
	maxPets       = 16
)

type pet struct {
	kind     petKind
	next     int64   // time of its next swing
	expires  int64   // never: stays all fight
	swing    float64 // unhasted swing time, seconds
	hit      float64 // a swing's damage before multipliers
	mult     float64 // the pet's own damage multiplier (Dire Frenzy, the Bear's buff)
	cleave   int64   // end of the pet's own Beast Cleave
	melee    abilityID
	guardian bool
	base     float64 // hit times its line's static multiplier
	// every is the time between swings at the swing divisor every was
	// worked out for (haste, and Frenzy for the main pets): the divisor
	// changes far less often than the pets are settled.
	every    int64
	everyFor float64
}

// interval is the pet's time between swings at swing divisor div.
func (p *pet) interval(div float64) int64 {
	if div != p.everyFor {
		p.every, p.everyFor = max(250, ms(p.swing/div)), div
	}
	return p.every
}

// petWeaponPower is the attack power per second of swing a pet's melee
// deals: pets have no weapon, so a swing deals speed*AP/6 (the game's
// weapon-power rule, as for the hunter's Auto Shot).
const petWeaponPower = 1.0 / 6

// summonPet puts a pet of kind in the first free slot from first at time t
// and returns its slot, or -1 when every slot is taken.
func (st *state) summonPet(kind petKind, t, dur int64) int {
	first, last := slotCotwFirst, maxPets
	switch kind {
	case petMain:
		first, last = slotMain, slotMain+1
	case petCompanion:
		first, last = slotCompanion, slotCompanion+1
	}
	for i := first; i < last; i++ {
		if st.live&(1<<i) != 0 {
			continue
		}
		s := st.sim
		p := &st.pets[i]
		*p = pet{kind: kind, next: t, expires: never, mult: 1}
		if dur > 0 {
			p.expires = t + dur
		}
		switch kind {
		case petMain, petCompanion:
			p.swing, p.melee = s.p.petSwing, abPetMelee
			p.hit = s.petAp * s.p.petSwing * petWeaponPower
			if kind == petCompanion {
				p.melee = abCompanionMelee
			}
		case petCotw:
			p.swing, p.melee = s.p.petSwing, abCallOfTheWildMelee
			p.hit = s.petAp * s.p.petSwing * petWeaponPower
		case petDireBeast, petHati, petFenryr:
			p.swing, p.guardian = s.p.petSwing, true
			p.melee = abDireBeastMelee
			share := 1.0
			if kind != petDireBeast {
				share = s.p.hatiApShare
				p.melee = abHatiMelee
				if kind == petFenryr {
					p.melee = abFenryrMelee
				}
			}
			p.hit = s.ap * share * s.p.petSwing * petWeaponPower
			p.mult = s.direFrenzyDmg
			if s.has(tDireCleave) {
				p.cleave = t + s.p.direCleaveMs
			}
		case petBear:
			p.swing, p.guardian, p.melee = s.p.bearSwing, true, abBearMelee
			p.hit = s.ap * s.p.bearSwing * petWeaponPower * s.p.bearAutoMult
			p.mult = s.direFrenzyDmg * s.bearMult
			if st.auras[auLeadFromTheFront].end > t {
				p.mult = s.direFrenzyDmg * (s.bearMult + s.p.lftfBear)
			}
			if s.has(tDireCleave) {
				p.cleave = t + s.p.direCleaveMs
			}
		case petDarkHound:
			p.swing, p.guardian, p.melee = s.p.petSwing, true, abDarkHoundMelee
			p.hit = s.ap * s.p.darkHoundAp * s.p.petSwing * petWeaponPower
			p.cleave = p.expires
		}
		p.base = p.hit * s.static[p.melee]
		st.live |= 1 << i
		st.petDue = min(st.petDue, t)
		return i
	}
	return -1
}

const slotCotwFirst = 2

// petSwingMs is a pet's swing time at time t at the current haste.
func (st *state) petSwingMs(p *pet, t int64) int64 {
	s := st.sim
	d := p.swing / st.haste
	if p.kind <= petCompanion {
		d /= s.petSpeed
		if a := &st.auras[auFrenzy]; a.end > t {
			d /= 1 + s.p.frenzySpeed*float64(a.stacks)
		}
	}
	return max(250, ms(d))
}

// petMultAt is everything a pet's hit is multiplied by at time t besides
// its ability's own modifiers.
func (st *state) petMultAt(p *pet, t int64) float64 {
	s := st.sim
	m := p.mult * st.petOwnerMultAt(t, p.guardian)
	switch {
	case p.kind <= petCompanion:
		if st.auras[auBestialWrath].end > t {
			m *= s.p.bwPet
		}
		if p.kind == petMain {
			m *= s.solitary
		}
	case p.guardian && p.kind != petDarkHound:
		if s.has(tWildspeaker) && st.auras[auBestialWrath].end > t {
			m *= s.p.wildspeakerBW
		}
	}
	return m
}

// settle carries out the pets' swings and basic attacks and the lazily
// ticked periodic effects that fell due up to now.
func (st *state) settle() { st.settleUntil(st.now) }

// settleUntil settles up to upTo. The check is apart from the work so that
// it inlines: a spell and its effects often settle several times at once.
func (st *state) settleUntil(upTo int64) {
	if upTo > st.settledAt {
		st.settleFrom(upTo)
	}
}

// settleFrom is settleUntil's work once there is some.
func (st *state) settleFrom(upTo int64) {
	from := max(st.settledAt, 0)
	st.settledAt = upTo
	for {
		progressed := st.dotDue <= upTo && st.settleDots(upTo)
		if st.petDue <= upTo && st.settlePets(from, upTo) {
			progressed = true
		}
		if !progressed {
			return
		}
	}
}

// petWindow holds what the pets' swings are multiplied by in a stretch of
// time in which none of the auras it depends on begins or ends, so that
// the swings of the stretch can be done in tight loops. Wyvern's Cry, which
// the main pets' swings build up, is apart.
type petWindow struct {
	until          int64   // the stretch ends before this time
	main, pet      float64 // damage multipliers: main pets, other pets
	guardian       float64 // guardians' damage multiplier (Wildspeaker apart)
	wildBW         float64 // guardians' factor from Wildspeaker during Bestial Wrath
	critMain, crit float64 // critical strike chances: main pets, the others
	critMulMain    float64
	swingMain      float64 // main pets' swing divisor (haste, Frenzy)
}

// boundaryAfter is the first time after t at which an aura that pets'
// damage depends on ends (or never).
func (st *state) boundaryAfter(t int64) int64 {
	s := st.sim
	b := int64(never)
	for _, a := range s.petAuras {
		if e := st.auras[a].end; e > t {
			b = min(b, e)
		}
	}
	if s.has(tTheBellTolls) {
		st.bellTollsAt(t)
		b = min(b, st.bellMemo.until)
	}
	if m := s.markEnd; m > t {
		b = min(b, m)
	}
	return b
}

// petAuras are the auras whose ends change a pet's swing.
var petAuras = [...]auraID{auBestialWrath, auLeadFromTheFront, auSummonHati, auSerpentineBlessing,
	auTrueshot, auSharpenedFangs, auThrill, auFrenzy, auWildInstincts, auLunarStormDebuff, auKillZone}

// window works out the pets' multipliers at time t, valid until the next
// boundary or until an aura, haste or mastery changes (see invalidate).
func (st *state) window(t int64) petWindow {
	s := st.sim
	w := petWindow{until: st.boundaryAfter(t), wildBW: 1}
	w.pet = st.ownerBaseAt(t) * st.targetBaseAt(classPet, t)
	w.main = w.pet
	if st.auras[auBestialWrath].end > t {
		w.main *= s.p.bwPet
		if s.has(tWildspeaker) {
			w.wildBW = s.p.wildspeakerBW
		}
	}
	w.guardian = st.petOwnerMultAt(t, true) * st.targetBaseAt(classGuardian, t)
	w.critMain = st.petCritAt(t, true)
	w.crit = st.petCritAt(t, false)
	w.critMulMain = st.petCritMulAt(t, true)
	w.swingMain = st.haste * s.petSpeed
	if a := &st.auras[auFrenzy]; a.end > t {
		w.swingMain *= 1 + s.p.frenzySpeed*float64(a.stacks)
	}
	return w
}

// hit classes sort breakdown lines by which of the targets' debuffs apply.
const (
	classPlayer uint8 = iota
	classPet
	classGuardian
)

// invalidate drops the pet window: an aura, haste or mastery changed.
func (st *state) invalidate() { st.winOK = false }

// settlePets runs every pet's swings from from up to upTo and reports
// whether any swung. Within a stretch without aura changes the swings of
// each pet are done in turn.
func (st *state) settlePets(from, upTo int64) bool {
	any := false
	t0 := from
	for t0 <= upTo {
		if !st.winOK || t0 >= st.win.until || t0 < st.winFrom {
			st.win = st.window(t0)
			st.winOK, st.winFrom = true, t0
		}
		w := &st.win
		end := min(upTo+1, w.until)
		wy := st.wyvernRun(t0, w)
		for live := st.live; live != 0; live &= live - 1 {
			i := bits.TrailingZeros16(live)
			if st.pets[i].next < end && st.swings(i, w, &wy, end) {
				any = true
			}
		}
		if wy.growing() {
			st.auras[auWyvernsCry].stacks = int8(wy.stacksBefore(end))
		}
		if st.sim.mainBasic && st.live&1 != 0 {
			for t := st.basicDue(); t < end; t = st.basicDue() {
				st.basicAttack(t, false)
				any = true
			}
		}
		t0 = end
	}
	st.petDue = st.nextPetDue()
	return any
}

// mainInterval is a main pet's time between swings within window w.
func mainInterval(p *pet, w *petWindow) int64 { return p.interval(w.swingMain) }

// wyvernCry is Wyvern's Cry over a stretch of swings: each swing of a main
// pet while it lasts adds a stack, which every later swing of the main
// pets and the other pets of the stable is multiplied by.
type wyvernCry struct {
	end, stacks, top int64
	first            [2]int64 // each main pet's first swing in the stretch (never: none)
	every            [2]int64 // and the time between its swings
	stack            float64  // damage per stack
}

// wyvernRun is Wyvern's Cry over the stretch of window w from t0.
func (st *state) wyvernRun(t0 int64, w *petWindow) wyvernCry {
	a := &st.auras[auWyvernsCry]
	r := wyvernCry{end: a.end, stacks: int64(a.stacks), top: int64(st.sim.auraMax[auWyvernsCry]),
		first: [2]int64{never, never}, stack: st.sim.p.wyvernStack}
	if a.end <= t0 {
		r.end = 0
		return r
	}
	for j := range 2 {
		if p := &st.pets[slotMain+j]; st.live&(1<<(slotMain+j)) != 0 {
			r.first[j], r.every[j] = p.next, mainInterval(p, w)
		}
	}
	return r
}

// growing reports whether the main pets' swings still add stacks.
func (r *wyvernCry) growing() bool { return r.end > 0 && r.stacks < r.top }

// stacksBefore is the stack count once the main pets' swings before t
// (and before the aura's end) have added theirs.
func (r *wyvernCry) stacksBefore(t int64) int64 {
	n := r.stacks
	if n >= r.top {
		return n
	}
	t = min(t, r.end)
	for j := range 2 {
		if f := r.first[j]; t > f {
			n += (t-f-1)/r.every[j] + 1
		}
	}
	return min(n, r.top)
}

// factorAt is the damage multiplier at time t.
func (r *wyvernCry) factorAt(t int64) float64 {
	if t >= r.end {
		return 1
	}
	return 1 + r.stack*float64(r.stacksBefore(t))
}

// nextPetDue is the earliest time a pet swings or the main pet uses its
// basic attack (never without pets).
func (st *state) nextPetDue() int64 {
	due := int64(never)
	for live := st.live; live != 0; live &= live - 1 {
		if n := st.pets[bits.TrailingZeros16(live)].next; n < due {
			due = n
		}
	}
	if st.sim.mainBasic && st.live&1 != 0 {
		due = min(due, st.basicDue())
	}
	return due
}

// swings runs pets[i]'s swings due before end, within window w.
func (st *state) swings(i int, w *petWindow, wy *wyvernCry, end int64) bool {
	s := st.sim
	p := &st.pets[i]
	ab := p.melee
	main := p.kind <= petCompanion
	var mult, crit, critMul float64
	var interval int64
	switch {
	case main:
		mult, crit, critMul = w.main, w.critMain, w.critMulMain
		if p.kind == petMain {
			mult *= s.solitary
		}
		interval = mainInterval(p, w)
	case p.guardian:
		mult, crit, critMul = w.guardian*p.mult, w.crit, 1
		if p.kind != petDarkHound {
			mult *= w.wildBW
		}
		interval = p.interval(st.haste)
	default:
		mult, crit, critMul = w.pet, w.crit, 1
		interval = p.interval(st.haste)
	}
	amount := p.base * mult
	// Wyvern's Cry: a constant factor unless it grows or ends in the stretch.
	wyvern := false
	if !p.guardian && wy.end > p.next {
		if wy.growing() || wy.end < end {
			wyvern = true
		} else {
			amount *= 1 + wy.stack*float64(wy.stacks)
		}
	}
	cleave := s.targets > 1 && p.cleave > p.next
	lacerate := main && s.has(tLaceration)
	n, crits := int32(0), int32(0)
	dmg := 0.0
	next, stop := p.next, min(end, p.expires)
	for next < stop {
		t := next
		d := amount
		if wyvern {
			d *= wy.factorAt(t)
		}
		if st.rng.chance(crit) {
			d *= critMul
			crits++
			if lacerate {
				st.applyResidual(dotLaceration, t, d*s.p.laceration)
			}
		}
		dmg += d
		n++
		if cleave && p.cleave > t {
			st.dealPlain(abBeastCleave, t, d/st.targetMultAt(ab, t)*s.p.beastCleave, aoe(s.targets-1, s.p.beastCleaveFull))
		}
		next = t + interval
	}
	p.next = next
	st.ab[ab].dmg += dmg
	st.ab[ab].hits += n
	st.ab[ab].casts += n
	st.ab[ab].crits += crits
	if next >= p.expires {
		st.live &^= 1 << i
	}
	return n > 0
}

// petHitEffects are what a pet's hit of damage d triggers: Beast Cleave
// and Laceration.
func (st *state) petHitEffects(p *pet, t int64, d float64, crit bool) {
	s := st.sim
	if s.targets > 1 && p.cleave > t {
		st.dealPlain(abBeastCleave, t, st.lastPre*s.p.beastCleave, aoe(s.targets-1, s.p.beastCleaveFull))
	}
	if crit && p.kind <= petCompanion && s.has(tLaceration) {
		st.applyResidual(dotLaceration, t, d*s.p.laceration)
	}
}

// basicDue is when the main pet's next basic attack happens: when its
// cooldown is over and it has the focus, after the pet's reaction delay.
func (st *state) basicDue() int64 {
	s := st.sim
	p := &st.pets[slotMain]
	if p.next >= p.expires {
		return never
	}
	t := st.basicReady
	rate := st.regen * s.p.petRegenShare
	f := st.petFocus + rate*float64(t-st.petFocusAt)
	if f < s.p.basicCost && rate > 0 {
		t = st.petFocusAt + int64((s.p.basicCost-st.petFocus)/rate) + 1
	}
	return t + s.p.basicDelayMs
}

// petFocusAt brings the main pet's focus to time t.
func (st *state) petFocusTo(t int64) {
	f := st.petFocus + st.regen*st.sim.p.petRegenShare*float64(t-st.petFocusAt)
	st.petFocus, st.petFocusAt = min(f, 100), t
}

// basicAttack is the main pet's Claw at time t; free is a Claw that costs
// nothing and keeps the cooldown (Brutal Companion, No Mercy).
func (st *state) basicAttack(t int64, free bool) {
	s := st.sim
	p := &st.pets[slotMain]
	m := s.p.basicMult
	if !free {
		st.petFocusTo(t)
		cost := s.p.basicCost
		if st.petFocus > s.p.wildHuntAbove {
			m *= s.p.wildHunt
			cost *= s.p.wildHuntCost
		}
		st.petFocus = max(0, st.petFocus-cost)
		st.basicReady = t + s.p.basicCdMs
	}
	d, crit := st.deal(abPetClaw, t, s.p.clawCoef*s.petAp*m*st.petMultAt(p, t), st.petCritAt(t, true), st.petCritMulAt(t, true))
	st.ab[abPetClaw].casts++
	st.petHitEffects(p, t, d, crit)
}

// petAbility deals a main pet or Animal Companion ability now and applies
// its Beast Cleave (or Kill Cleave) and Laceration.
func (st *state) petAbility(slot int, ab, cleaveAb abilityID, base, critBonusMul float64) (float64, bool) {
	s := st.sim
	p := &st.pets[slot]
	t := st.now
	d, crit := st.deal(ab, t, base*st.petMultAt(p, t), st.petCritAt(t, true), critMul(critBonusMul, st.petCritPlayerMul(t)))
	if s.targets > 1 && p.cleave > t && cleaveAb != 0 {
		share, full := s.p.beastCleave, s.p.beastCleaveFull
		if cleaveAb == abKillCleave {
			share, full = s.p.killCleave, s.p.killCleaveFull
		}
		st.dealPlain(cleaveAb, t, st.lastPre*share, aoe(s.targets-1, full))
	}
	if crit && s.has(tLaceration) {
		st.applyResidual(dotLaceration, t, d*s.p.laceration)
	}
	return d, crit
}

// petCritPlayerMul is the main pets' critical damage multiplier (Piercing
// Fangs during Bestial Wrath).
func (st *state) petCritPlayerMul(t int64) float64 {
	if st.sim.has(tPiercingFangs) && st.auras[auBestialWrath].end > t {
		return st.sim.p.piercingFangs
	}
	return 1
}

// mainPets calls f for the main pet and the Animal Companion, if out.
func (st *state) mainPets(f func(slot int)) {
	for slot := slotMain; slot <= slotCompanion; slot++ {
		if st.live&(1<<slot) != 0 {
			f(slot)
		}
	}
}

// stablePets calls f for every pet of the hunter's stable that is out: the
// main pet, the Animal Companion and Call of the Wild's pets.
func (st *state) stablePets(f func(slot int)) {
	for live := st.live; live != 0; live &= live - 1 {
		i := bits.TrailingZeros16(live)
		if k := st.pets[i].kind; k <= petCotw && st.pets[i].expires > st.now {
			f(i)
		}
	}
}

// stomp makes the pet in slot stomp at effectiveness f: the primary target
// and every other target.
func (st *state) stomp(slot int, f float64) {
	s := st.sim
	p := &st.pets[slot]
	t := st.now
	base := s.p.stompCoef * s.petAp * f * st.petMultAt(p, t)
	st.deal(abPetStomp, t, base, st.petCritAt(t, p.kind <= petCompanion), st.petCritMulAt(t, p.kind <= petCompanion))
	if s.targets > 1 {
		st.dealTargets(abPetStomp, t, base*s.p.stompCleaveCoef/s.p.stompCoef, st.petCritAt(t, false), critMul(1, 1), s.targets-1, 0)
	}
	st.ab[abPetStomp].casts++
}
