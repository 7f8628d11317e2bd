package engine

import "math/bits"

// eventKind says what an event does when it fires.
type eventKind uint8

const (
	evDecide      eventKind = iota // the player may act
	evCastDone                     // a cast finished: a = spell
	evChannelTick                  // a channel shot: a = spell, b = shots left, gen = channel generation
	evAutoShot                     // the hunter's ranged swing
	evPetMelee                     // a = pet slot
	evPetBasic                     // a = pet slot
	evDotTick                      // a = aura, gen
	evFocusTick                    // Barbed Shot focus: b = ticks left
	evAuraExpire                   // a = aura, gen: auras whose end changes haste or regen
	evSummon                       // Call of the Wild summons another pet
)

// event is one scheduled happening. Events at the same time fire in the
// order they were scheduled (seq), which keeps every run deterministic.
type event struct {
	key  uint64 // time<<32 | seq: the heap order in one comparison
	kind eventKind
	a    int16
	b    int16
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
	h := q.items
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h = h[:n]
	q.items = h
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
		if last.key <= h[m].key {
			break
		}
		h[i] = h[m]
		i = m
	}
	if n > 0 {
		h[i] = last
	}
	return top
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
	return float64(r.next()>>11) * (1.0 / (1 << 53))
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }
