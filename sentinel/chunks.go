package sentinel

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// maxErrorLen bounds a failure text stored from a node.
const maxErrorLen = 4000

// chunkOf returns a chunk and whether node held it now (current) or
// before a reclaim (earlier). A node that never held it is refused 403.
func (s *Service) chunkOf(ctx context.Context, nodeID, chunkID string) (c store.Chunk, current bool, err error) {
	c, err = s.store.ChunkByID(ctx, chunkID)
	if errors.Is(err, store.ErrNotFound) {
		return c, false, refuse(KindNotFound, "Chunk not found")
	}
	if err != nil {
		return c, false, fmt.Errorf("read chunk: %w", err)
	}
	current = c.NodeID == nodeID
	if !current && !slices.Contains(c.PreviousNodeIDs, nodeID) {
		return c, false, refuse(KindForbidden, "Chunk is not assigned to this node")
	}
	return c, current, nil
}

// CompleteChunk records a node's result for a chunk. A repeat answers
// AlreadyCompleted; a node that held the chunk before a reclaim is accepted
// while the chunk is not completed (results are deterministic by seed).
// The last chunk of a job completes it with the aggregated result.
func (s *Service) CompleteChunk(ctx context.Context, pub ed25519.PublicKey, req protocol.CompleteRequest) (protocol.CompleteResponse, error) {
	n, err := s.claimedNode(ctx, pub)
	if err != nil {
		return protocol.CompleteResponse{}, err
	}
	c, _, err := s.chunkOf(ctx, n.ID, req.ChunkID)
	if err != nil {
		return protocol.CompleteResponse{}, err
	}
	if c.Status == protocol.StatusFailed {
		return protocol.CompleteResponse{}, refuse(KindConflict, "Chunk has failed: %s", c.LastError)
	}
	if c.Status != protocol.StatusCompleted {
		if err := req.Result.Validate(c.Iterations); err != nil {
			return protocol.CompleteResponse{}, refuse(KindInvalid, "Invalid result: %v", err)
		}
	}
	out, err := s.completions.complete(ctx, store.Completion{ChunkID: c.ID, NodeID: n.ID, Result: req.Result, Now: s.clock.Now()})
	if err != nil {
		return protocol.CompleteResponse{}, fmt.Errorf("complete chunk: %w", err)
	}
	if !out.Applied {
		if out.ChunkStatus == protocol.StatusFailed {
			return protocol.CompleteResponse{}, refuse(KindConflict, "Chunk has failed")
		}
		return protocol.CompleteResponse{Success: true, JobComplete: out.JobComplete, AlreadyCompleted: true}, nil
	}
	s.metrics.chunksCompleted.Inc()
	if out.JobComplete {
		s.metrics.jobDuration.Observe(out.Job.CompletedAt.Sub(out.Job.CreatedAt).Seconds())
		s.log.Info("job completed", "job", out.Job.ID, "iterations", out.Job.TotalIterations)
	}
	s.Kick() // the node has a free slot now
	return protocol.CompleteResponse{Success: true, JobComplete: out.JobComplete}, nil
}

// aggregate merges chunk results exactly (PROTOCOL section 8).
func aggregate(results []protocol.ChunkResult) protocol.JobResult {
	var sum protocol.Summary
	for _, r := range results {
		sum.Add(r)
	}
	return sum.Result()
}

// FailChunk records that a node could not simulate a chunk: it goes back
// to pending for another node, and after protocol.MaxChunkAttempts failed
// attempts the chunk and its job fail with the message.
func (s *Service) FailChunk(ctx context.Context, pub ed25519.PublicKey, req protocol.FailRequest) (protocol.FailResponse, error) {
	msg := strings.TrimSpace(req.Error)
	if msg == "" {
		return protocol.FailResponse{}, refuse(KindInvalid, "error must be a non-empty text")
	}
	if err := checkText("error", msg); err != nil {
		return protocol.FailResponse{}, err
	}
	if len(msg) > maxErrorLen {
		msg = strings.ToValidUTF8(msg[:maxErrorLen], "")
	}
	n, err := s.claimedNode(ctx, pub)
	if err != nil {
		return protocol.FailResponse{}, err
	}
	c, current, err := s.chunkOf(ctx, n.ID, req.ChunkID)
	if err != nil {
		return protocol.FailResponse{}, err
	}
	if c.Status == protocol.StatusCompleted || c.Status == protocol.StatusFailed {
		return protocol.FailResponse{}, refuse(KindConflict, "Chunk is %s", c.Status)
	}
	if !current || c.Status != protocol.StatusRunning {
		return protocol.FailResponse{Requeued: false}, nil // already taken away from this node
	}
	return s.failChunk(ctx, c, n.ID, msg)
}

func (s *Service) failChunk(ctx context.Context, c store.Chunk, nodeID, msg string) (protocol.FailResponse, error) {
	s.metrics.chunksFailed.Inc()
	if c.Attempts+1 >= protocol.MaxChunkAttempts {
		ok, err := s.store.FailChunk(ctx, store.Failure{ChunkID: c.ID, NodeID: nodeID, Error: msg, Now: s.clock.Now()})
		if err != nil {
			return protocol.FailResponse{}, fmt.Errorf("fail chunk: %w", err)
		}
		if ok {
			s.log.Warn("job failed", "job", c.JobID, "chunk", c.ID, "error", msg)
		}
		return protocol.FailResponse{Requeued: false}, nil
	}
	ok, err := s.store.RequeueChunk(ctx, store.Requeue{ChunkID: c.ID, NodeID: nodeID, CountAttempt: true, Error: msg})
	if err != nil {
		return protocol.FailResponse{}, fmt.Errorf("requeue chunk: %w", err)
	}
	s.Kick()
	return protocol.FailResponse{Requeued: ok}, nil
}

// ReleaseChunk hands a running chunk back at once, without counting a
// failure (a node shutting down).
func (s *Service) ReleaseChunk(ctx context.Context, pub ed25519.PublicKey, req protocol.ReleaseRequest) (protocol.ReleaseResponse, error) {
	n, err := s.claimedNode(ctx, pub)
	if err != nil {
		return protocol.ReleaseResponse{}, err
	}
	c, current, err := s.chunkOf(ctx, n.ID, req.ChunkID)
	if err != nil {
		return protocol.ReleaseResponse{}, err
	}
	if c.Status == protocol.StatusCompleted || c.Status == protocol.StatusFailed {
		return protocol.ReleaseResponse{}, refuse(KindConflict, "Chunk is %s", c.Status)
	}
	if current && c.Status == protocol.StatusRunning {
		if _, err := s.store.RequeueChunk(ctx, store.Requeue{ChunkID: c.ID, NodeID: n.ID}); err != nil {
			return protocol.ReleaseResponse{}, fmt.Errorf("release chunk: %w", err)
		}
		s.Kick()
	}
	return protocol.ReleaseResponse{Released: true}, nil
}
