package node

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// coreGate shares the node's cores among the chunks it runs. Every chunk
// runs on as many goroutines as the computer has cores, and each goroutine
// holds a slot of the gate for a batch of iterations (the engine's Gate).
// The gate's limit is the cores the policies allow, so a running chunk
// speeds up when another one ends or the volunteer grants more cores, and
// slows down within a batch when fewer are allowed. A freed slot goes to
// the oldest chunk waiting for one, so chunks finish in the order they
// started and the one queued behind them starts as they end.
//
// The gate also counts the core time spent in its slots, from which the
// node measures its speed per core (see speedometer).
type coreGate struct {
	mu      sync.Mutex
	limit   int
	used    int
	waiters gateQueue
	arrived uint64
	epoch   time.Time
	busy    time.Duration // core time of the released slots, minus the start of the held ones
}

func newCoreGate(limit int) *coreGate {
	return &coreGate{limit: max(1, limit), epoch: time.Now()}
}

// gateWaiter is a goroutine waiting for a slot: the chunk's order, then its
// arrival, decide who is served first.
type gateWaiter struct {
	order, arrival uint64
	granted        chan struct{}
	index          int
}

// setLimit changes how many slots may be held; at least one, so that
// chunks a paused node lets finish keep running.
func (g *coreGate) setLimit(n int) {
	g.mu.Lock()
	g.limit = max(1, n)
	g.grantLocked()
	g.mu.Unlock()
}

// acquire takes a slot for a goroutine of the chunk of the given order
// (lower first).
func (g *coreGate) acquire(ctx context.Context, order uint64) error {
	g.mu.Lock()
	if g.used < g.limit {
		g.takeLocked()
		g.mu.Unlock()
		return nil
	}
	w := &gateWaiter{order: order, arrival: g.arrived, granted: make(chan struct{})}
	g.arrived++
	heap.Push(&g.waiters, w)
	g.mu.Unlock()
	select {
	case <-w.granted:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	select {
	case <-w.granted: // granted as the context ended: give it on
		g.releaseLocked()
	default:
		heap.Remove(&g.waiters, w.index)
	}
	g.mu.Unlock()
	return ctx.Err()
}

func (g *coreGate) release() {
	g.mu.Lock()
	g.releaseLocked()
	g.mu.Unlock()
}

func (g *coreGate) takeLocked() {
	g.used++
	g.busy -= time.Since(g.epoch)
}

func (g *coreGate) releaseLocked() {
	g.used--
	g.busy += time.Since(g.epoch)
	g.grantLocked()
}

// grantLocked hands free slots to the first waiters.
func (g *coreGate) grantLocked() {
	for g.used < g.limit && g.waiters.Len() > 0 {
		w := heap.Pop(&g.waiters).(*gateWaiter)
		g.takeLocked()
		close(w.granted)
	}
}

// busyTime is the core time spent in slots so far, the slots held now
// included.
func (g *coreGate) busyTime() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.busy + time.Duration(g.used)*time.Since(g.epoch)
}

// chunkGate is the gate as one chunk's run sees it (engine.Gate).
type chunkGate struct {
	g     *coreGate
	order uint64
}

func (c chunkGate) Acquire(ctx context.Context) error { return c.g.acquire(ctx, c.order) }
func (c chunkGate) Release()                          { c.g.release() }

// gateQueue is a heap of waiters, the lowest order (then arrival) on top.
type gateQueue []*gateWaiter

func (q gateQueue) Len() int { return len(q) }
func (q gateQueue) Less(i, j int) bool {
	if q[i].order != q[j].order {
		return q[i].order < q[j].order
	}
	return q[i].arrival < q[j].arrival
}
func (q gateQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *gateQueue) Push(x any) {
	w := x.(*gateWaiter)
	w.index = len(*q)
	*q = append(*q, w)
}
func (q *gateQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return w
}

// speedometer measures the node's speed per core: iterations simulated per
// second of core time in the gate's slots. Idle time does not count, so a
// node that waited for work is not taken for a slow one, and the node's
// throughput follows the cores it is allowed at once (speed times cores).
// The first estimate is taken as soon as any work is done, so that the
// sentinel sizes the next chunks from it; later ones over at least
// speedSpan of core time, each averaged with the one before, so one odd
// chunk does not swing it.
type speedometer struct {
	mu         sync.Mutex
	iterations int64         // at the last estimate
	busy       time.Duration // at the last estimate
	perCore    float64       // iterations per core-second; 0 before any work
}

const speedSpan = 2 * time.Second

// sample takes the node's iterations and core time so far and returns the
// speed per core.
func (s *speedometer) sample(iterations int64, busy time.Duration) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	di, db := iterations-s.iterations, busy-s.busy
	if di <= 0 || db <= 0 || (s.perCore > 0 && db < speedSpan) {
		return s.perCore
	}
	r := float64(di) / db.Seconds()
	if s.perCore > 0 {
		r = (r + s.perCore) / 2
	}
	s.iterations, s.busy, s.perCore = iterations, busy, r
	return r
}
