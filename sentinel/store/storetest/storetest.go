// Package storetest is the conformance suite of store.Store: the contract
// every implementation (PostgreSQL, SQLite) must keep, as the sentinel
// relies on it. An implementation's tests call Run with a function opening
// a fresh, migrated store whose change feed is live.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// t0 is the suite's starting time; whole seconds, far from now.
var t0 = time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC)

// Harness is a store under test.
type Harness struct {
	// Store is a fresh, migrated store of the case's own, with its change
	// feed live (for PostgreSQL: Listen running and connected), closed by
	// the test's cleanup.
	Store store.Store
}

// Run runs every case of the suite, each in a parallel subtest on the
// harness open returns.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	cases := []struct {
		name string
		fn   func(*fixture)
	}{
		{"Schema", testSchema},
		{"Users", testUsers},
		{"RegisterNode", testRegisterNode},
		{"ClaimNode", testClaimNode},
		{"ClaimChecks", testClaimChecks},
		{"ListNodes", testListNodes},
		{"TouchAndMarkOffline", testTouchAndMarkOffline},
		{"NodeCapacity", testNodeCapacity},
		{"DeleteStaleNodes", testDeleteStaleNodes},
		{"CreateJob", testCreateJob},
		{"AssignPending", testAssignPending},
		{"AssignPendingConcurrent", testAssignPendingConcurrent},
		{"JobRanges", testJobRanges},
		{"RangeReturns", testRangeReturns},
		{"RangeJobLimits", testRangeJobLimits},
		{"CarveConcurrent", testCarveConcurrent},
		{"CompleteChunk", testCompleteChunk},
		{"CompleteChunkConcurrent", testCompleteChunkConcurrent},
		{"CompleteChunksBatch", testCompleteChunksBatch},
		{"RequeueChunk", testRequeueChunk},
		{"FailChunk", testFailChunk},
		{"ReclaimSilent", testReclaimSilent},
		{"OverdueChunks", testOverdueChunks},
		{"Counts", testCounts},
		{"RememberSignature", testRememberSignature},
		{"RunExclusive", testRunExclusive},
		{"UpdateAndDeleteNode", testUpdateAndDeleteNode},
		{"CancelJob", testCancelJob},
		{"OnlineNodes", testOnlineNodes},
		{"RotationWrites", testRotationWrites},
		{"Feed", testFeed},
		{"ReadRows", testReadRows},
		{"SelectAccess", testSelectAccess},
		{"SelectOperators", testSelectOperators},
		{"SelectOrderAndPaging", testSelectOrderAndPaging},
		{"SelectRefusals", testSelectRefusals},
		{"SelectShapes", testSelectShapes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := open(t)
			c.fn(&fixture{t: t, s: h.Store, ctx: t.Context()})
		})
	}
}

// fixture is one case's store with helpers building rows through it.
type fixture struct {
	t   *testing.T
	s   store.Store
	ctx context.Context
}

func (f *fixture) check(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// completeOne completes one chunk (a batch of one).
func (f *fixture) completeOne(c store.Completion, agg store.Aggregator) (store.CompletionOutcome, error) {
	outs, err := f.s.CompleteChunks(f.ctx, []store.Completion{c}, agg)
	if err != nil {
		return store.CompletionOutcome{}, err
	}
	if len(outs) != 1 {
		f.t.Fatalf("CompleteChunks of one gave %d outcomes", len(outs))
	}
	return outs[0], nil
}

// user creates a user.
func (f *fixture) user(name string) store.User {
	f.t.Helper()
	u := store.User{ID: uuid.NewString(), Name: name, TokenHash: hashOf(name + uuid.NewString()), CreatedAt: t0}
	f.check(f.s.CreateUser(f.ctx, u))
	return u
}

// node registers a node with a fresh key at now.
func (f *fixture) node(now time.Time) store.Node {
	f.t.Helper()
	n, created, err := f.s.RegisterNode(f.ctx, store.NewNode{PublicKey: "key-" + uuid.NewString(), ClaimCode: "CODE-" + uuid.NewString()[:8],
		Version: "1.0.0", Platform: "linux-x86_64", TotalCores: 8, Now: now}, store.NodeUpdate{Version: "1.0.0", Platform: "linux-x86_64", TotalCores: 8})
	f.check(err)
	if !created {
		f.t.Fatal("a fresh key was not created")
	}
	return n
}

// claimed registers a node at now and gives it to owner with maxParallel.
func (f *fixture) claimed(owner string, maxParallel int, now time.Time) store.Node {
	f.t.Helper()
	n := f.node(now)
	n, err := f.s.ClaimNode(f.ctx, store.Claim{NodeID: n.ID, UserID: owner, MaxParallel: &maxParallel})
	f.check(err)
	return n
}

// online is claimed plus a touch at now.
func (f *fixture) online(owner string, maxParallel int, now time.Time) store.Node {
	f.t.Helper()
	n := f.claimed(owner, maxParallel, now)
	_, err := f.s.TouchNodes(f.ctx, []string{n.ID}, now)
	f.check(err)
	n, err = f.s.NodeByID(f.ctx, n.ID)
	f.check(err)
	return n
}

// newJob describes a job of owner with all of its range split into rows
// of protocol.ChunkSize created with it.
func newJob(owner string, iterations int, access string, now time.Time) store.NewJob {
	j := newRange(owner, iterations, access, now)
	for k := 0; k*protocol.ChunkSize < iterations; k++ {
		j.Chunks = append(j.Chunks, store.Chunk{ID: uuid.NewString(), SeedOffset: k * protocol.ChunkSize,
			Iterations: min(protocol.ChunkSize, iterations-k*protocol.ChunkSize)})
	}
	return j
}

// newRange describes a job of owner that is a range only, as the sentinel
// creates them: no rows until work is handed out.
func newRange(owner string, iterations int, access string, now time.Time) store.NewJob {
	config := []byte(`{"spec":"bm","id":"` + uuid.NewString() + `"}`)
	return store.NewJob{
		Job: store.Job{ID: uuid.NewString(), UserID: owner, ConfigHash: hashOf(string(config)), TotalIterations: iterations,
			Status: protocol.StatusPending, AccessType: access},
		Config: config,
		Now:    now,
	}
}

// job creates a job of owner at now.
func (f *fixture) job(owner string, iterations int, now time.Time) store.NewJob {
	f.t.Helper()
	j := newJob(owner, iterations, "private", now)
	f.check(f.s.CreateJob(f.ctx, j))
	return j
}

// chunk reads a chunk.
func (f *fixture) chunk(id string) store.Chunk {
	f.t.Helper()
	c, err := f.s.ChunkByID(f.ctx, id)
	f.check(err)
	return c
}

// jobRow reads a job.
func (f *fixture) jobRow(id string) store.Job {
	f.t.Helper()
	j, err := f.s.JobByID(f.ctx, id)
	f.check(err)
	return j
}

// assign assigns the given chunks to node at now through AssignPending and
// fails unless exactly those were applied.
func (f *fixture) assign(now time.Time, node string, chunks ...string) {
	f.t.Helper()
	got, err := f.s.AssignPending(f.ctx, 1000, now, func([]store.PendingChunk, []store.NodeLoad) []store.Assignment {
		as := make([]store.Assignment, len(chunks))
		for i, c := range chunks {
			as[i] = store.Assignment{ChunkID: c, NodeID: node}
		}
		return as
	})
	f.check(err)
	if len(got) != len(chunks) {
		f.t.Fatalf("assigned %v, want %d chunks to %s", got, len(chunks), node)
	}
}

// capacityPlan fills each node up to MaxParallel, nodes in the given order.
func capacityPlan(chunks []store.PendingChunk, nodes []store.NodeLoad) []store.Assignment {
	var as []store.Assignment
	free := make([]int, len(nodes))
	for i, n := range nodes {
		free[i] = n.MaxParallel - n.Running
	}
	for _, c := range chunks {
		for i, n := range nodes {
			if free[i] > 0 {
				free[i]--
				as = append(as, store.Assignment{ChunkID: c.ID, NodeID: n.ID})
				break
			}
		}
	}
	return as
}

// result is a valid chunk result for n iterations with mean m.
func result(n int, m float64) protocol.ChunkResult {
	return protocol.ChunkResult{Iterations: n, MeanDps: m, StdDps: 1, MinDps: m - 2, MaxDps: m + 2}
}

// sumAggregate is a simple aggregator: iterations summed, chunks counted.
func sumAggregate(rs []protocol.ChunkResult) protocol.JobResult {
	var out protocol.JobResult
	for _, r := range rs {
		out.TotalIterations += r.Iterations
		out.ChunksCompleted++
		out.MeanDps += r.MeanDps
	}
	return out
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wantErr fails unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// sameIDs reports whether a and b hold the same ids in any order.
func sameIDs(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func testSchema(f *fixture) {
	f.check(f.s.Ping(f.ctx))
	f.check(f.s.CheckSchema(f.ctx))
	f.check(f.s.Migrate(f.ctx))
	f.check(f.s.CheckSchema(f.ctx))
}
