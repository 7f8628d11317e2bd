package sentinel

import (
	"context"
	"fmt"
	"slices"

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
	return w + Prefetch(w)
}

// Prefetch is how many chunks beyond its workers a node is given: one per
// worker. Chunks of a job are of equal size, so a node's workers tend to
// finish together; with one queued chunk each, none waits.
func Prefetch(workers int) int { return max(workers, 0) }

// plan gives each chunk, oldest first, to the eligible node with the most
// free capacity (ties to the lowest id), never beyond capacity.
func plan(chunks []store.PendingChunk, nodes []store.NodeLoad) []store.Assignment {
	free := make([]int, len(nodes))
	total := 0
	for i, n := range nodes {
		free[i] = max(Capacity(n)-n.Running, 0)
		total += free[i]
	}
	var out []store.Assignment
	for _, c := range chunks {
		if total == 0 {
			break
		}
		best := -1
		for i, n := range nodes {
			if free[i] == 0 || !Eligible(c.AccessType, c.JobOwner, n) {
				continue
			}
			if best < 0 || free[i] > free[best] {
				best = i
			}
		}
		if best < 0 {
			continue
		}
		free[best]--
		total--
		out = append(out, store.Assignment{ChunkID: c.ID, NodeID: nodes[best].ID})
	}
	return out
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
		assigned, err := s.store.AssignPending(ctx, scheduleBatch, now, func(chunks []store.PendingChunk, nodes []store.NodeLoad) []store.Assignment {
			as := plan(chunks, nodes)
			created := make(map[string]float64, len(chunks))
			for _, c := range chunks {
				created[c.ID] = now.Sub(c.CreatedAt).Seconds()
			}
			latencies = latencies[:0]
			for _, a := range as {
				latencies = append(latencies, created[a.ChunkID])
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
		if len(assigned) < scheduleBatch {
			return total, nil
		}
	}
}
