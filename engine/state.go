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
	grants       []int64 // due times of pending Barbed Shot focus grants, ascending from grantHead
	grantHead    int

	trinkets [maxTrinkets]trinketState

	haste   float64 // current haste multiplier (1 + haste)
	mastery float64 // current mastery points

	gcdEnd, castEnd, busyUntil int64
	wake                       int64 // earliest time a refused cast could succeed, during Decide
	idle                       bool
	changed                    bool // something the rotation reads changed outside a decision
	topPending                 bool // the handled event still occupies the queue's root
	gcd                        int64
	recharge                   [idSpace]int64 // current recharge of each spell's next charge
	autoShotMs                 int64
	channelGen                 uint32
	channelTick                int64
	timer                      [numTimers]int64

	cds     [idSpace]cooldown
	auras   [idSpace]aura
	pets    [maxPets]pet
	live    uint16 // bit i: pets[i] is active
	dots    [idSpace]dot
	dotLive uint16 // bit d: lazily ticked effect d is ticking

	settledAt  int64 // time settle last reached
	petDue     int64 // no pet acts before this time
	dotDue     int64 // no lazily ticked effect ticks before this time
	win        petWindow
	winOK      bool  // win is still valid (see invalidate)
	winFrom    int64 // the time win was worked out at
	petFocus   float64
	petFocusAt int64
	basicReady int64   // the main pet's basic attack is off cooldown
	lastPre    float64 // the last hit's damage before the target's debuffs (what cleaves copy)
	lastCrit   bool    // whether the last hit crit

	// Hero and talent state of the fight.
	howlNext         uint8 // the beast the next Howl of the Pack Leader brings
	howlRunning      bool  // Howl of the Pack Leader's cooldown runs
	huntmaster       int8  // Dire Beasts towards Hati or Fenryr
	wyvernExtended   int64 // Fury of the Wyvern extension given to the current Wyvern's Cry
	wyMemo           wyvernMemo
	tensileExtended  int64     // Tensile Bowstring extension given to the current Trueshot
	sentinelWatchCut int64     // Sentinel Watch reduction given since the last Trueshot
	bellTolls        [10]int64 // expiry of each stack of The Bell Tolls
	bellMemo         stackMemo // bellTollsAt's last count
	onTarget         [4]int64  // expiry of each stack of On Target
	blighted         int8      // Blighted Quiver stacks the current Withering Fire fires
	sentinelStacks   int8
	sentinelBusy     bool
	targetAcqReady   int64
	overwatchReady   int64 // Overwatch may implode the target again from this time
	boarLeft         int8
	lunarLeft        int16
	volleyLeft       int8
	salvoUsed        bool

	ab [idSpace]abTotals // what each breakdown line did this iteration
}

func newState(s *Sim) (*state, error) {
	st := &state{sim: s}
	st.q.items = make([]event, 0, 256)
	st.grants = make([]int64, 0, 64)
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
	st.channelGen = 0
	for i := range st.cds[:numSpells] {
		st.cds[i] = cooldown{charges: s.charges[i], max: s.charges[i]}
	}
	clear(st.auras[:numAuras])
	st.pets = [maxPets]pet{}
	st.trinkets = [maxTrinkets]trinketState{}
	st.live = 0
	clear(st.dots[:numDots])
	st.dotLive = 0
	st.settledAt, st.petDue, st.dotDue = -1, never, never
	st.invalidate()
	st.petFocus, st.petFocusAt, st.basicReady = 100, 0, 0
	st.howlNext, st.huntmaster, st.howlRunning = howlWyvern, 0, false
	st.wyvernExtended, st.tensileExtended, st.sentinelWatchCut = 0, 0, 0
	st.wyMemo = wyvernMemo{at: -1}
	st.bellTolls = [10]int64{}
	st.bellMemo = stackMemo{}
	st.onTarget = [4]int64{}
	st.blighted, st.sentinelStacks, st.sentinelBusy = 0, 0, false
	st.targetAcqReady, st.overwatchReady = 0, 0
	st.boarLeft, st.lunarLeft, st.volleyLeft, st.salvoUsed = 0, 0, 0, false
	clear(st.ab[:numAbilities])
	st.mastery = s.masteryPts
	st.haste = 0
	st.recomputeHaste()
	for sp := range st.recharge[:numSpells] {
		st.recharge[sp] = st.computeRecharge(spellID(sp))
	}

	st.timer = [numTimers]int64{timerDecide: 0, timerAutoShot: s.firstAutoShot}
	st.startFight()
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
	st.now = st.end
	st.settleUntil(st.end)
	var total float64
	for _, a := range st.ab[:numAbilities] {
		total += a.dmg
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

// act lets the rotation choose while the player is free. Off-GCD spells
// let it choose again at once; the guard bounds that loop.
func (st *state) act() {
	st.howlSync()
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
		case rotation.Use:
			st.idle = false
			st.trinketBuff(int(d.Item))
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
