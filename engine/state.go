package engine

import (
	"math"

	"wowlab/engine/rotation"
)

const never = math.MaxInt64

// ms converts seconds to the engine's millisecond clock, rounding to the
// nearest millisecond.
func ms(seconds float64) int64 { return int64(math.Round(seconds * 1000)) }

// cooldown tracks the charges of one spell. A recharge runs while charges
// are below the maximum and completes at end.
type cooldown struct {
	charges, max int8
	end          int64
}

// aura is a buff or debuff. It is active while end lies in the future;
// gen invalidates events scheduled for an earlier application.
type aura struct {
	end    int64
	stacks int8
	gen    uint32
}

type petKind uint8

const (
	petMain petKind = iota
	petCompanion
	petDireBeast
	petCallOfTheWild
)

const (
	slotMain      = 0
	slotCompanion = 1
	maxPets       = 12
)

type pet struct {
	kind    petKind
	active  bool
	expires int64 // 0: stays all fight
	gen     uint32
}

// state is one simulating goroutine's fight: everything an iteration
// changes. reset makes it ready for the next iteration without allocating.
type state struct {
	sim  *Sim
	prog *rotation.Program
	rng  rng
	q    queue

	now, end int64
	events   int64

	focus, regen float64
	focusAt      int64
	haste        float64 // current haste multiplier (1 + haste)

	gcdEnd, castEnd, busyUntil int64
	wakeAt                     int64 // time of the pending wake-up decision, or never
	wake                       int64 // earliest time a refused cast could succeed, during Decide
	idle                       bool
	changed                    bool // something the rotation reads changed outside a decision
	gcd                        int64
	recharge                   [numSpells]int64 // see rechargeMs
	channelGen                 uint32
	steadyInRow                int8
	cotwSummons                int8

	cds   [numSpells]cooldown
	auras [numAuras]aura
	pets  [maxPets]pet
	dmg   [numAbilities]float64
	casts [numAbilities]int32
}

func newState(s *Sim) (*state, error) {
	st := &state{sim: s}
	st.q.items = make([]event, 0, 256)
	prog, err := rotation.Compile(s.rotation, env{st})
	if err != nil {
		return nil, err
	}
	st.prog = prog
	return st, nil
}

// reset prepares the fight of one iteration with the given RNG seed.
func (st *state) reset(seed uint64) {
	s := st.sim
	st.rng.seed(seed)
	st.q.reset()
	st.prog.Reset()
	st.now, st.end, st.events = 0, s.durationMs, 0
	st.focus, st.focusAt = s.cfg.Player.Resources.Initial, 0
	st.gcdEnd, st.castEnd, st.busyUntil = 0, 0, 0
	st.wakeAt, st.wake, st.idle = never, never, false
	st.channelGen, st.steadyInRow, st.cotwSummons = 0, 0, 0
	for i := range st.cds {
		st.cds[i] = cooldown{charges: s.charges[i], max: s.charges[i]}
	}
	st.auras = [numAuras]aura{}
	st.pets = [maxPets]pet{}
	st.dmg = [numAbilities]float64{}
	st.casts = [numAbilities]int32{}
	st.recomputeHaste()

	st.schedule(0, event{kind: evAutoShot})
	st.schedule(0, event{kind: evDecide})
	if s.spec == bm {
		st.summon(slotMain, petMain, 0)
	}
}

// schedule queues e to fire at time at.
func (st *state) schedule(at int64, e event) { st.q.push(at, e) }

// run simulates one fight and returns its DPS.
func (st *state) run(seed uint64) float64 {
	st.reset(seed)
	for len(st.q.items) > 0 {
		if int64(st.q.items[0].key>>32) > st.end {
			break
		}
		e := st.q.pop()
		st.now = int64(e.key >> 32)
		st.events++
		st.changed = false
		st.handle(&e)
		if st.changed && st.idle && st.now >= st.busyUntil {
			st.act()
		}
	}
	var total float64
	for _, d := range st.dmg {
		total += d
	}
	return total / st.sim.cfg.Duration
}

func (st *state) handle(e *event) {
	switch e.kind {
	case evDecide:
		if st.now == st.wakeAt {
			st.wakeAt = never
		}
		st.act()
	case evCastDone:
		st.finishCast(spellID(e.a))
	case evChannelTick:
		if e.gen == st.channelGen {
			st.channelShot(spellID(e.a), int(e.b))
		}
	case evAutoShot:
		st.autoShot()
	case evPetMelee:
		st.petMelee(int(e.a), e.gen)
	case evPetBasic:
		st.petBasic(int(e.a), e.gen)
	case evDotTick:
		st.dotTick(auraID(e.a), e.gen)
	case evFocusTick:
		st.gainFocus(barbedFocusTick)
		if e.b > 1 {
			st.schedule(st.now+ms(barbedTick), event{kind: evFocusTick, b: e.b - 1})
		}
	case evAuraExpire:
		if a := &st.auras[e.a]; a.gen == e.gen {
			st.auraExpired(auraID(e.a))
		}
	case evSummon:
		st.cotwSummon(int(e.b))
	}
}

// act lets the rotation choose while the player is free. Off-GCD spells
// let it choose again at once; the guard bounds that loop.
func (st *state) act() {
	for guard := 0; guard < 8; guard++ {
		if st.now < st.busyUntil {
			return
		}
		st.wake = never
		d := st.prog.Decide()
		wake := st.wake
		switch d.Kind {
		case rotation.Cast:
			st.idle = false
			st.startCast(spellID(d.Spell))
			if st.now < st.busyUntil {
				st.schedule(st.busyUntil, event{kind: evDecide})
				return
			}
		case rotation.Wait:
			st.idle = false
			st.busyUntil = st.now + max(1, ms(d.Seconds))
			st.schedule(st.busyUntil, event{kind: evDecide})
			return
		default:
			st.idle = true
			if wake != never && wake > st.now && wake < st.wakeAt {
				st.wakeAt = wake
				st.schedule(wake, event{kind: evDecide})
			}
			return
		}
	}
}
