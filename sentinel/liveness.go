package sentinel

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Liveness applies the liveness rules once: refresh nodes holding realtime
// presence on this instance, mark nodes silent for the offline limit
// offline, put the running chunks of nodes silent for the reclaim limit back
// to pending, fail-or-requeue chunks running longer than the chunk time
// limit, and forget expired replay signatures.
//
// The chunk time limit counts an attempt, so it judges only what this
// instance could watch: a chunk is overdue when it was claimed more than
// the limit ago, its node is alive (seen within the offline limit), and
// this instance has run its liveness passes for at least the limit without
// a store error and without a gap longer than the offline limit (the
// process stopped, suspended or starved). After a sentinel restart or a
// database outage every node gets a whole chunk time limit to deliver what
// it finished meanwhile, and a node that could not reach the sentinel is
// never charged for it: a silent node's chunks are reclaimed instead,
// which counts no attempt.
func (s *Service) Liveness(ctx context.Context) error {
	now := s.clock.Now()
	watched := s.watchedFor(now)
	var errs []error
	s.mu.Lock()
	var present []string
	if now.Sub(s.lastPresTouch) >= s.touchInterval() {
		for id := range s.present {
			present = append(present, id)
		}
		s.lastPresTouch = now
	}
	s.mu.Unlock()
	if len(present) > 0 {
		if err := s.touch(ctx, present...); err != nil {
			errs = append(errs, err)
		}
	}
	off, err := s.store.MarkNodesOffline(ctx, now.Add(-s.offlineAfter))
	if err != nil {
		errs = append(errs, err)
	} else if len(off) > 0 {
		s.log.Info("nodes offline", "nodes", off)
	}
	back, err := s.store.ReclaimSilent(ctx, now.Add(-s.reclaimAfter))
	if err != nil {
		errs = append(errs, err)
	} else if len(back) > 0 {
		s.metrics.chunksReclaimed.Add(float64(len(back)))
		s.log.Warn("reclaimed chunks of silent nodes", "chunks", len(back))
	}
	reachable := len(errs) == 0
	s.endWatch(now, reachable)
	if reachable && watched >= s.chunkTimeout {
		errs = append(errs, s.failOverdue(ctx, now)...)
	}
	s.replay.prune(now)
	if err := s.store.PruneSignatures(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if c, err := s.store.Counts(ctx); err == nil {
		s.metrics.nodesOnline.Set(float64(c.NodesOnline))
		s.metrics.chunksPending.Set(float64(c.ChunksPending))
	}
	return errors.Join(errs...)
}

// watchedFor returns how long this instance has watched the store up to
// now: since the first of the liveness passes that followed each other
// without a store error or a gap longer than the offline limit.
func (s *Service) watchedFor(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastWatch.IsZero() || now.Sub(s.lastWatch) > s.offlineAfter {
		s.watchStart = now
	}
	return now.Sub(s.watchStart)
}

// endWatch records a liveness pass that reached the store (ok) or not.
func (s *Service) endWatch(now time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.lastWatch = now
	} else {
		s.lastWatch = time.Time{}
	}
}

// failOverdue fails or requeues the overdue chunks of live nodes.
func (s *Service) failOverdue(ctx context.Context, now time.Time) []error {
	overdue, err := s.store.OverdueChunks(ctx, now.Add(-s.chunkTimeout), now.Add(-s.offlineAfter))
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, c := range overdue {
		msg := fmt.Sprintf("chunk ran longer than the %v limit", s.chunkTimeout)
		if _, err := s.failChunk(ctx, c, c.NodeID, msg); err != nil {
			errs = append(errs, err)
			continue
		}
		s.metrics.chunksReclaimed.Inc()
		s.log.Warn("chunk timed out", "chunk", c.ID, "node", c.NodeID)
	}
	return errs
}

// Maintenance removes stale rows, at most once per MaintenanceInterval
// across all instances: unclaimed registrations older than
// UnclaimedNodeTTL, offline nodes unseen for OfflineNodeTTL and configs
// unused for UnusedConfigTTL that no job references.
func (s *Service) Maintenance(ctx context.Context) error {
	now := s.clock.Now()
	_, err := s.store.RunExclusive(ctx, "maintenance", MaintenanceInterval, now, func(ctx context.Context) error {
		nodes, err := s.store.DeleteStaleNodes(ctx, now.Add(-UnclaimedNodeTTL), now.Add(-OfflineNodeTTL))
		if err != nil {
			return err
		}
		configs, err := s.store.DeleteUnusedConfigs(ctx, now.Add(-UnusedConfigTTL))
		if err != nil {
			return err
		}
		s.log.Info("maintenance done", "nodes_deleted", nodes, "configs_deleted", configs)
		return nil
	})
	return err
}
