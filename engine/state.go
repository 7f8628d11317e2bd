package engine

import (
	"math"

	"wowlab/engine/rotation"
)

const never = math.MaxInt64

// ms converts a duration in seconds (never negative) to the engine's
// millisecond clock, rounding half up.
func ms(seconds float64) int64 { return int64(seconds*1000 + 0.5) }

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
	next    int64 // time of its next swing
}

// Recurring happenings kept out of the event queue.
const (
	timerDecide   = iota // the player's next decision
	timerAutoShot        // the hunter's ranged swing
	numTimers
)

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
	grants       []int64 // due times of pending focus grants, ascending from grantHead
	grantHead    int
	haste        float64 // current haste multiplier (1 + haste)

	gcdEnd, castEnd, busyUntil int64
	wake                       int64 // earliest time a refused cast could succeed, during Decide
	idle                       bool
	changed                    bool // something the rotation reads changed outside a decision
	topPending                 bool // the handled event still occupies the queue's root
	gcd                        int64
	recharge                   [numSpells]int64           // see rechargeMs
	autoShotMs                 int64                      // Auto Shot swing time at the current haste
	petSwingMs                 [frenzyMaxStacks + 1]int64 // pet swing time by Frenzy stacks
	channelGen                 uint32
	steadyInRow                int8

	timer [numTimers]int64 // when each recurring happening is next due, or never

	basicNext int64  // the main pet's next basic attack (see settle)
	dotNext   int64  // the bleed's next tick, or never
	settledAt int64  // time settle last reached
	tempPets  uint16 // bit i: pet slot i holds an active temporary pet

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
	st.topPending = false
	st.prog.Reset()
	st.now, st.end, st.events = 0, s.durationMs, 0
	st.focus, st.focusAt = s.cfg.Player.Resources.Initial, 0
	st.grants, st.grantHead = st.grants[:0], 0
	st.gcdEnd, st.castEnd, st.busyUntil = 0, 0, 0
	st.wake, st.idle = never, false
	st.channelGen, st.steadyInRow = 0, 0
	for i := range st.cds {
		st.cds[i] = cooldown{charges: s.charges[i], max: s.charges[i]}
	}
	st.auras = [numAuras]aura{}
	st.pets = [maxPets]pet{}
	st.dmg = [numAbilities]float64{}
	st.casts = [numAbilities]int32{}
	st.basicNext, st.dotNext, st.settledAt, st.tempPets = never, never, -1, 0
	for sp := range st.recharge {
		st.recharge[sp] = max(1, ms(spells[sp].cooldown))
	}
	st.recomputeHaste()

	st.timer = [numTimers]int64{timerDecide: 0, timerAutoShot: 0}
	if s.spec == bm {
		st.summon(slotMain, petMain, 0)
	}
}

// schedule queues e to fire at time at. While an event is being handled
// its queue slot is still taken; the first event scheduled reuses it.
func (st *state) schedule(at int64, e event) {
	if st.topPending {
		st.topPending = false
		st.q.replaceTop(at, e)
		return
	}
	st.q.push(at, e)
}

// run simulates one fight and returns its DPS.
func (st *state) run(seed uint64) float64 {
	st.reset(seed)
	for st.step() {
	}
	st.settleUntil(st.end)
	var total float64
	for _, d := range st.dmg {
		total += d
	}
	return total / st.sim.cfg.Duration
}

// step fires the next timer or queued event and reports false once the
// fight is over. At equal times timers fire first, in index order, then
// events in the order they were scheduled.
func (st *state) step() bool {
	k, tk := timerDecide, st.timer[timerDecide]
	if st.timer[timerAutoShot] < tk {
		k, tk = timerAutoShot, st.timer[timerAutoShot]
	}
	st.changed = false
	if len(st.q.items) == 0 || tk <= int64(st.q.items[0].key>>32) {
		if tk > st.end {
			return false
		}
		st.now = tk
		st.events++
		st.timer[k] = never
		st.fire(k)
	} else {
		e := st.q.items[0]
		if int64(e.key>>32) > st.end {
			return false
		}
		st.now = int64(e.key >> 32)
		st.events++
		st.topPending = true
		st.handle(&e)
		if st.topPending {
			st.topPending = false
			st.q.removeTop()
		}
	}
	if st.changed && st.idle && st.now >= st.busyUntil {
		st.act()
	}
	return true
}

func (st *state) fire(timer int) {
	switch timer {
	case timerDecide:
		st.act()
	case timerAutoShot:
		st.autoShot()
	}
}

func (st *state) handle(e *event) {
	switch e.kind {
	case evCastDone:
		st.finishCast(spellID(e.a))
	case evChannelTick:
		if e.gen == st.channelGen {
			st.channelShot(spellID(e.a), int(e.b))
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
			st.timer[timerDecide] = st.busyUntil
			return
		}
		st.wake = never
		d := st.prog.Decide()
		switch d.Kind {
		case rotation.Cast:
			st.idle = false
			st.startCast(spellID(d.Spell))
		case rotation.Wait:
			st.idle = false
			st.busyUntil = st.now + max(1, ms(d.Seconds))
		default:
			st.idle = true
			if st.wake > st.now && st.wake < st.timer[timerDecide] {
				st.timer[timerDecide] = st.wake
			}
			return
		}
	}
	// Off-GCD casts used up the guard: look again a moment later.
	st.timer[timerDecide] = st.now + 1
}
