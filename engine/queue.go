package engine

import "math/bits"

// eventKind says what an event does when it fires.
type eventKind uint8

const (
	evCastDone      eventKind = iota // a cast finished: a = spell
	evChannelTick                    // a channel shot: a = spell, b = shots left, gen = channel generation
	evAuraExpire                     // a = aura, gen: auras whose end changes haste, regen or recharge rates
	evCotwTick                       // Call of the Wild summons another pet; gen = the buff's
	evBarbedTick                     // Barbed Shot's bleed ticks; gen = the dot's
	evBoarCharge                     // the Boar charges again
	evExplosive                      // Explosive Shot explodes; gen = the dot's
	evVolleyTick                     // Volley's arrows fall
	evLunarStorm                     // Lunar Storm strikes
	evLunarReady                     // Lunar Storm's cooldown ends
	evSentinel                       // a Sentinel implosion ticks
	evCrescentSteel                  // Crescent Steel applies a stack of Sentinel
	evWitheringTick                  // Withering Fire grants Deathblow (beast mastery); gen = the buff's
	evBloodlust                      // Bloodlust begins
	evOnTargetEnd                    // a stack of On Target ends
	evAimedEcho                      // a Double Tap or Aspect of the Hydra Aimed Shot fires; a = 1 for Double Tap
	evTrinketEnd                     // a trinket's buff ends: a = slot index
)

// event is one scheduled happening of the queue. The few things that recur
// all fight long (the player's next decision, Auto Shot, the main pet's
// swings) are timers in the state instead: see step. Events at the same time
// fire in the order they were scheduled (seq), which keeps every run
// deterministic.
type event struct {
	key  uint64 // time<<32 | seq: the heap order in one comparison
	kind eventKind
	a    uint8
	b    uint8
	gen  uint32
}

// queue is a binary min-heap of events ordered by (at, seq). It reuses its
// backing array across iterations, so steady state allocates nothing.
type queue struct {
	items []event
	seq   uint32
}

func (q *queue) reset() {
	q.items = q.items[:0]
	q.seq = 0
}

// push queues e at time at (milliseconds since the fight began).
func (q *queue) push(at int64, e event) {
	e.key = uint64(at)<<32 | uint64(q.seq)
	q.seq++
	h := append(q.items, e)
	q.items = h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].key <= e.key {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

func (q *queue) pop() event {
	top := q.items[0]
	q.removeTop()
	return top
}

// removeTop drops the earliest event.
func (q *queue) removeTop() {
	n := len(q.items) - 1
	last := q.items[n]
	q.items = q.items[:n]
	if n > 0 {
		q.down(last)
	}
}

// replaceTop puts e, due at time at, in place of the earliest event: one
// sift instead of a removal and an insertion, for the common case of an
// event that reschedules itself.
func (q *queue) replaceTop(at int64, e event) {
	e.key = uint64(at)<<32 | uint64(q.seq)
	q.seq++
	q.down(e)
}

// down places e, which takes the root's place, where it belongs.
func (q *queue) down(e event) {
	h := q.items
	n := len(h)
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].key < h[l].key {
			m = r
		}
		if e.key <= h[m].key {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = e
}

// rng is a small, fast generator (wyrand) seeded per iteration, so every
// iteration's numbers depend only on its seed.
type rng struct{ state uint64 }

func (r *rng) seed(s uint64) {
	// splitmix64 scrambles consecutive seeds into unrelated states.
	s += 0x9e3779b97f4a7c15
	s = (s ^ (s >> 30)) * 0xbf58476d1ce4e5b9
	s = (s ^ (s >> 27)) * 0x94d049bb133111eb
	r.state = s ^ (s >> 31)
}

func (r *rng) next() uint64 {
	r.state += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.state, r.state^0xe7037ed1a0b428db)
	return hi ^ lo
}

// float returns a number in [0, 1).
func (r *rng) float() float64 {
	// The signed conversion is one instruction; the value fits in 53 bits.
	return float64(int64(r.next()>>11)) * (1.0 / (1 << 53))
}

// chance reports true with probability p, comparing integers: the same
// outcome as float() < p without a conversion of the random number.
func (r *rng) chance(p float64) bool {
	return int64(r.next()>>11) < int64(p*(1<<53))
}
