package sentinel

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// Eligible reports whether a chunk of a job owned by owner with the given
// access type may run on node: always on the owner's nodes; on any node
// for public jobs; for user jobs on nodes whose owner granted the job's
// owner; private (and anything else) only on the owner's. The node must
// be claimed; the store only offers online ones.
func Eligible(accessType, owner string, node store.NodeLoad) bool {
	if node.UserID == "" {
		return false
	}
	if node.UserID == owner {
		return true
	}
	switch accessType {
	case AccessPublic:
		return true
	case AccessUser:
		return slices.Contains(node.GrantedTo, owner)
	default:
		return false
	}
}

// Capacity is how many chunks a node may hold at once: the chunks it runs,
// min(max_parallel, total_cores) (max_parallel when cores are unknown),
// and no more than the capacity of its last heartbeat when it reported one
// (0 while it is paused or finishing), plus a small queue of Prefetch of
// them, so that a worker finishing a chunk starts the next one at once
// instead of waiting for the round trip of completion, assignment and
// notification.
func Capacity(n store.NodeLoad) int {
	w := n.MaxParallel
	if n.TotalCores > 0 {
		w = min(w, n.TotalCores)
	}
	if n.Capacity != nil {
		w = min(w, *n.Capacity)
	}
	w = max(w, 0)
	if n.ChunkMax > 0 && w > 0 {
		// A sized chunk runs on all the node's workers: one at a time,
		// and one queued.
		return 1 + Prefetch(1)
	}
	return w + Prefetch(w)
}

// Prefetch is how many chunks beyond its workers a node is given: one per
// worker. Chunks of a job are of equal size, so a node's workers tend to
// finish together; with one queued chunk each, none waits.
func Prefetch(workers int) int { return max(workers, 0) }

// ChunkIterations is the size of the chunks a node is given: what takes it
// target at the throughput it announced, between protocol.ChunkSize and
// its largest chunk; protocol.ChunkSize for a node that announces no
// sized chunks, or no throughput yet.
func ChunkIterations(n store.NodeLoad, target time.Duration) int {
	if !sized(n) {
		return protocol.ChunkSize
	}
	want := n.Throughput * target.Seconds()
	if want >= float64(n.ChunkMax) {
		return n.ChunkMax
	}
	return max(protocol.ChunkSize, int(want))
}

// plan gives work to nodes, oldest work first and never beyond a node's
// capacity nor beyond limit assignments: each pending row goes whole to
// the eligible node with the most free capacity (ties to the earliest
// node), split when it holds more than that node's chunk size (the rest
// waits for the next pass) unless a node held it before and the receiving
// node takes it whole; a job's unassigned rest is carved into chunks
// of each receiving node's size, one node after the other by free
// capacity, until it runs out. Near a job's end its chunks shrink (see
// tailShare), so that its nodes finish together; a node whose chunks
// already take it past that end gets none.
func plan(work []store.PendingChunk, nodes []store.NodeLoad, limit int, target time.Duration, now time.Time) []store.Assignment {
	free := make([]int, len(nodes))
	left := make([]float64, len(nodes))
	total := 0
	for i, n := range nodes {
		free[i] = Capacity(n) - n.Running
		if free[i] < 0 {
			free[i] = 0
		}
		total += free[i]
		left[i] = heldLeft(n, now)
	}
	var out []store.Assignment
	for _, w := range work {
		if total == 0 || len(out) >= limit {
			break
		}
		h := &byFree{free: free}
		for i, n := range nodes {
			if free[i] > 0 && Eligible(w.AccessType, w.JobOwner, n) {
				h.idx = append(h.idx, i)
			}
		}
		heap.Init(h)
		end := finishAt(w, nodes, left)
		for rest := w.Iterations; rest > 0 && h.Len() > 0 && len(out) < limit; {
			best := h.idx[0]
			share := tailShare(rest, nodes[best], left[best], end, target)
			if share == 0 {
				heap.Pop(h) // busy past the job's end already
				continue
			}
			size := min(ChunkIterations(nodes[best], target), share)
			if w.Held && takesWhole(nodes[best], w.Iterations) {
				// Split, the row would name other iterations than the
				// result its earlier holder may still deliver.
				size = w.Iterations
			}
			out = append(out, store.Assignment{ChunkID: w.ID, JobID: w.JobID, NodeID: nodes[best].ID, Iterations: size})
			rest -= size
			left[best] += float64(size)
			free[best]--
			total--
			if free[best] == 0 {
				heap.Pop(h)
			} else {
				heap.Fix(h, 0)
			}
			if w.ID != "" {
				break // a row is given once
			}
		}
	}
	return out
}

// heldLeft is how many iterations of the chunks it holds a sized node has
// yet to run at now. A node runs its chunks one after the other, oldest
// first; with one queued, the one it runs began about when the latest was
// given to it (given for the slot the one before freed), so it has run
// for that long, up to all but the latest. Holding a single chunk, the
// node may have begun it any time since it was given: none of it counts as
// run.
func heldLeft(n store.NodeLoad, now time.Time) float64 {
	if !sized(n) || n.Held <= 0 {
		return 0
	}
	held := float64(n.Held)
	if n.Running < 2 || n.LastClaimed.IsZero() {
		return held
	}
	ran := n.Throughput * now.Sub(n.LastClaimed).Seconds()
	return held - min(max(ran, 0), float64(n.Held-n.LastIterations))
}

// finishAt is when (in seconds from now) the sized nodes eligible for w
// would finish w's iterations and the work they hold, sharing all of it in
// proportion to their throughputs; +Inf without such nodes.
func finishAt(w store.PendingChunk, nodes []store.NodeLoad, left []float64) float64 {
	rate, work := 0.0, float64(w.Iterations)
	for i, n := range nodes {
		if sized(n) && Capacity(n) > 0 && Eligible(w.AccessType, w.JobOwner, n) {
			rate += n.Throughput
			work += left[i]
		}
	}
	if !(rate > 0) {
		return math.Inf(1)
	}
	return work / rate
}

// tailFloor is the shortest chunk tailShare makes, as a part of the chunk
// target: chunks much shorter than the time an assignment takes to come
// would leave their nodes waiting more than working.
const tailFloor = 8

// tailShare bounds the chunk a sized node holding left iterations is given
// of work holding rest iterations, that the eligible sized nodes finish
// with what they hold end seconds from now (see finishAt): what keeps the
// node busy until then, but not less than an eighth of the chunk target
// (then none if it holds work already), nor less than protocol.ChunkSize.
// Far from a job's end that is more than the target; near it, chunks
// shrink with the rest and with the work nodes hold (guided
// self-scheduling, weighted by throughput), so the nodes finish together
// instead of one holding a long chunk while the others are done, and a job
// smaller than the fleet's chunks is spread over the fleet. Nodes of fixed
// chunks are not bounded (theirs are the smallest).
func tailShare(rest int, n store.NodeLoad, left, end float64, target time.Duration) int {
	if !sized(n) || math.IsInf(end, 1) {
		return rest
	}
	share := n.Throughput*end - left
	if floor := n.Throughput * target.Seconds() / tailFloor; share < floor {
		if left > 0 {
			return 0
		}
		share = floor
	}
	if share >= float64(rest) {
		return rest
	}
	return max(protocol.ChunkSize, int(math.Ceil(share)))
}

// takesWhole reports whether a node takes a chunk of n iterations.
func takesWhole(node store.NodeLoad, n int) bool {
	return n <= protocol.ChunkSize || node.ChunkMax >= n
}

// sized reports whether a node takes sized chunks and announced its
// throughput.
func sized(n store.NodeLoad) bool { return n.ChunkMax >= protocol.ChunkSize && n.Throughput > 0 }

// byFree is a heap of node indexes, the one with the most free capacity
// (then the lowest index) on top.
type byFree struct {
	idx  []int
	free []int
}

func (h *byFree) Len() int { return len(h.idx) }
func (h *byFree) Less(a, b int) bool {
	fa, fb := h.free[h.idx[a]], h.free[h.idx[b]]
	return fa > fb || (fa == fb && h.idx[a] < h.idx[b])
}
func (h *byFree) Swap(a, b int) { h.idx[a], h.idx[b] = h.idx[b], h.idx[a] }
func (h *byFree) Push(x any)    { h.idx = append(h.idx, x.(int)) }
func (h *byFree) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}

// Schedule assigns pending chunks to eligible online nodes with free
// capacity until nothing more can be assigned, and returns how many it
// assigned. Safe to run on any number of instances at once: the store
// locks chunks with SKIP LOCKED and nodes while it applies the plan.
func (s *Service) Schedule(ctx context.Context) (int, error) {
	total := 0
	for {
		now := s.clock.Now()
		var latencies []float64
		assigned, err := s.store.AssignPending(ctx, scheduleBatch, now, func(work []store.PendingChunk, nodes []store.NodeLoad) []store.Assignment {
			as := plan(work, nodes, passAssignments, s.chunkTarget, now)
			// Work waited since it became pending (a job's rest: since the
			// job was created).
			waited := make(map[[2]string]float64, len(work))
			for _, w := range work {
				waited[[2]string{w.ID, w.JobID}] = now.Sub(w.CreatedAt).Seconds()
			}
			latencies = latencies[:0]
			for _, a := range as {
				latencies = append(latencies, waited[[2]string{a.ChunkID, a.JobID}])
			}
			return as
		})
		if err != nil {
			return total, fmt.Errorf("assign chunks: %w", err)
		}
		s.mu.Lock()
		s.lastSchedule = now
		s.mu.Unlock()
		if len(assigned) == len(latencies) {
			for _, l := range latencies {
				s.metrics.assignLatency.Observe(max(l, 0))
			}
		}
		s.metrics.chunksAssigned.Add(float64(len(assigned)))
		total += len(assigned)
		if len(assigned) > 0 {
			s.log.Debug("assigned chunks", "count", len(assigned))
		}
		// Another full batch may be waiting behind this one.
		if len(assigned) < passAssignments {
			return total, nil
		}
	}
}
