package storetest

import (
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// rangeJob creates a job of owner that is a range only: no chunk rows.
func (f *fixture) rangeJob(owner string, iterations int, now time.Time) store.NewJob {
	f.t.Helper()
	j := newRange(owner, iterations, "private", now)
	f.check(f.s.CreateJob(f.ctx, j))
	return j
}

// carve runs one AssignPending pass whose plan gives each node in turn
// chunks of the sizes asked, from the job's unassigned rest, and returns
// what the store applied.
func (f *fixture) carve(now time.Time, jobID string, asks ...carveAsk) []store.Assignment {
	f.t.Helper()
	as, err := f.s.AssignPending(f.ctx, 100, now, func([]store.PendingChunk, []store.NodeLoad) []store.Assignment {
		out := make([]store.Assignment, len(asks))
		for i, a := range asks {
			out[i] = store.Assignment{JobID: jobID, NodeID: a.node, Iterations: a.n}
		}
		return out
	})
	f.check(err)
	return as
}

type carveAsk struct {
	node string
	n    int
}

// rests returns the job rests the planner is offered.
func (f *fixture) rests() []store.PendingChunk {
	f.t.Helper()
	var seen []store.PendingChunk
	_, err := f.s.AssignPending(f.ctx, 100, t0, func(work []store.PendingChunk, _ []store.NodeLoad) []store.Assignment {
		for _, w := range work {
			if w.ID == "" {
				seen = append(seen, w)
			}
		}
		return nil
	})
	f.check(err)
	return seen
}

// testJobRanges: a job without rows is offered as its unassigned rest,
// carved into chunks of the sizes planned (the last cut to what is left),
// rows appear only as work is handed out, and the job completes with every
// iteration counted once.
func testJobRanges(f *fixture) {
	t := f.t
	owner := f.user("owner")
	a := f.online(owner.ID, 4, t0)
	b := f.online(owner.ID, 4, t0)
	j := f.rangeJob(owner.ID, 25_000, t0)
	if rs := f.rests(); len(rs) != 1 || rs[0].JobID != j.Job.ID || rs[0].Iterations != 25_000 || rs[0].JobOwner != owner.ID ||
		rs[0].AccessType != "private" || !rs[0].CreatedAt.Equal(t0) {
		t.Fatalf("offered rests %+v", rs)
	}
	t1 := t0.Add(time.Minute)
	as := f.carve(t1, j.Job.ID, carveAsk{a.ID, 1000}, carveAsk{b.ID, 15_000}, carveAsk{a.ID, 1000}, carveAsk{"not-offered", 10})
	if len(as) != 3 {
		t.Fatalf("carved %+v", as)
	}
	wantOffsets := []int{0, 1000, 16_000}
	wantSizes := []int{1000, 15_000, 1000}
	wantNodes := []string{a.ID, b.ID, a.ID}
	for i, x := range as {
		c := f.chunk(x.ChunkID)
		if c.JobID != j.Job.ID || c.NodeID != wantNodes[i] || c.Status != protocol.StatusRunning || c.SeedOffset != wantOffsets[i] ||
			c.Iterations != wantSizes[i] || x.Iterations != wantSizes[i] || c.ConfigHash != j.Job.ConfigHash || !c.ClaimedAt.Equal(t1) {
			t.Fatalf("carved chunk %d: %+v (assignment %+v)", i, c, x)
		}
	}
	if s := f.jobRow(j.Job.ID).Status; s != protocol.StatusRunning {
		t.Fatalf("job with carved chunks is %q", s)
	}
	if rs := f.rests(); len(rs) != 1 || rs[0].Iterations != 8000 {
		t.Fatalf("rest after carving 17000: %+v", rs)
	}
	// More than is left: the last chunk holds the rest, and the job has no
	// rest any more.
	last := f.carve(t1, j.Job.ID, carveAsk{b.ID, 20_000}, carveAsk{a.ID, 1000})
	if len(last) != 1 || last[0].Iterations != 8000 || f.chunk(last[0].ChunkID).SeedOffset != 17_000 {
		t.Fatalf("last carve %+v", last)
	}
	if rs := f.rests(); len(rs) != 0 {
		t.Fatalf("a fully carved job is offered: %+v", rs)
	}
	all := append(as, last...)
	for i, x := range all {
		out, err := f.completeOne(store.Completion{ChunkID: x.ChunkID, NodeID: x.NodeID, Result: result(x.Iterations, 100), Now: t1}, sumAggregate)
		f.check(err)
		if out.JobComplete != (i == len(all)-1) {
			t.Fatalf("completion %d: %+v", i, out)
		}
	}
	done := f.jobRow(j.Job.ID)
	if done.Status != protocol.StatusCompleted || done.CompletedIterations != 25_000 {
		t.Fatalf("job %+v", done)
	}
	if n := len(f.jobChunks(owner.ID, j.Job.ID)); n != 4 {
		t.Fatalf("job has %d chunk rows, want the 4 handed out", n)
	}
}

// jobChunks lists the chunk rows of a job of owner by seed offset.
func (f *fixture) jobChunks(owner, jobID string) []store.Chunk {
	f.t.Helper()
	rows := f.selectRows(store.Query{Table: "jobs_chunks", Columns: []string{"id"}, Limit: 1000, Access: store.Access{Role: store.AccessUser, UserID: owner},
		Filters: []store.Filter{{Column: "job_id", Op: store.OpEq, Values: []string{jobID}}}})
	out := make([]store.Chunk, len(rows))
	for i, r := range rows {
		out[i] = f.chunk(r["id"].(string))
	}
	slices.SortFunc(out, func(x, y store.Chunk) int { return x.SeedOffset - y.SeedOffset })
	return out
}

// testRangeReturns: a requeued chunk's range goes back as a pending row;
// given in part to a node taking smaller chunks, its rest stays pending as
// a new row with the row's history, so the job's range is still covered
// exactly once; a failed job offers no rest.
func testRangeReturns(f *fixture) {
	t := f.t
	owner := f.user("owner")
	a := f.online(owner.ID, 4, t0)
	b := f.online(owner.ID, 4, t0)
	j := f.rangeJob(owner.ID, 50_000, t0)
	t1 := t0.Add(time.Minute)
	big := f.carve(t1, j.Job.ID, carveAsk{a.ID, 15_000})[0]
	if ok, err := f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: big.ChunkID, NodeID: a.ID, CountAttempt: true, Error: "boom"}); err != nil || !ok {
		t.Fatalf("requeue: %v %v", ok, err)
	}
	var offered []store.PendingChunk
	as, err := f.s.AssignPending(f.ctx, 100, t1, func(work []store.PendingChunk, _ []store.NodeLoad) []store.Assignment {
		offered = work
		return []store.Assignment{{ChunkID: big.ChunkID, NodeID: b.ID, Iterations: 1000}}
	})
	f.check(err)
	if len(offered) != 2 || offered[0].ID != big.ChunkID || offered[0].Iterations != 15_000 || !offered[0].Held ||
		offered[1].ID != "" || offered[1].Iterations != 35_000 || offered[1].Held {
		t.Fatalf("offered %+v: the returned row first (held before), then the rest", offered)
	}
	if len(as) != 1 || as[0].ChunkID != big.ChunkID || as[0].Iterations != 1000 || as[0].JobID != j.Job.ID {
		t.Fatalf("applied %+v", as)
	}
	cs := f.jobChunks(owner.ID, j.Job.ID)
	if len(cs) != 2 {
		t.Fatalf("rows after the split: %+v", cs)
	}
	given, rest := cs[0], cs[1]
	if given.ID != big.ChunkID || given.Iterations != 1000 || given.SeedOffset != 0 || given.NodeID != b.ID || given.Status != protocol.StatusRunning {
		t.Fatalf("given part %+v", given)
	}
	if rest.Iterations != 14_000 || rest.SeedOffset != 1000 || rest.Status != protocol.StatusPending || rest.NodeID != "" ||
		rest.Attempts != 1 || rest.LastError != "boom" || len(rest.PreviousNodeIDs) != 0 || rest.ConfigHash != j.Job.ConfigHash {
		t.Fatalf("rest row %+v: the row's attempts, and no holder (none held it)", rest)
	}
	// A row given whole (no size, or more than it holds) is not split.
	as, err = f.s.AssignPending(f.ctx, 100, t1, func([]store.PendingChunk, []store.NodeLoad) []store.Assignment {
		return []store.Assignment{{ChunkID: rest.ID, NodeID: a.ID, Iterations: 1 << 40}}
	})
	f.check(err)
	if len(as) != 1 || as[0].Iterations != 14_000 || len(f.jobChunks(owner.ID, j.Job.ID)) != 2 {
		t.Fatalf("whole row: %+v", as)
	}
	if ok, err := f.s.FailChunk(f.ctx, store.Failure{ChunkID: rest.ID, NodeID: a.ID, Error: "poison", Now: t1}); err != nil || !ok {
		t.Fatalf("fail: %v %v", ok, err)
	}
	if rs := f.rests(); len(rs) != 0 {
		t.Fatalf("a failed job offers its rest: %+v", rs)
	}
	if as := f.carve(t1, j.Job.ID, carveAsk{b.ID, 1000}); len(as) != 0 {
		t.Fatalf("carved from a failed job: %+v", as)
	}
}

// testRangeJobLimits: a job may hold 10^12 iterations and costs one row;
// first chunks that do not start the range are refused.
func testRangeJobLimits(f *fixture) {
	t := f.t
	owner := f.user("owner")
	a := f.online(owner.ID, 4, t0)
	const huge = 1_000_000_000_000
	j := f.rangeJob(owner.ID, huge, t0)
	as := f.carve(t0, j.Job.ID, carveAsk{a.ID, 1_000_000})
	if len(as) != 1 || as[0].Iterations != 1_000_000 {
		t.Fatalf("carved %+v", as)
	}
	if rs := f.rests(); len(rs) != 1 || rs[0].Iterations != huge-1_000_000 {
		t.Fatalf("rest %+v", rs)
	}
	if got := f.jobRow(j.Job.ID).TotalIterations; got != huge {
		t.Fatalf("total iterations %d", got)
	}
	bad := newRange(owner.ID, 5000, "private", t0)
	bad.Chunks = []store.Chunk{{ID: uuid.NewString(), SeedOffset: 1000, Iterations: 1000}}
	if err := f.s.CreateJob(f.ctx, bad); err == nil {
		t.Fatal("a job whose first chunk starts at 1000 was stored")
	}
	f.wantNoJob(bad)
}

// testCarveConcurrent carves one job from several passes at once: the
// chunks cover its range exactly once, however the passes interleave.
func testCarveConcurrent(f *fixture) {
	t := f.t
	owner := f.user("owner")
	var nodes []string
	for range 4 {
		nodes = append(nodes, f.online(owner.ID, 100, t0).ID)
	}
	j := f.rangeJob(owner.ID, 37_000, t0)
	var mu sync.Mutex
	var got []store.Assignment
	carved := 0
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Go(func() {
			// A pass skips a rest another pass holds locked: go on until
			// the whole range is carved (bounded, in case it never is).
			for range 1000 {
				mu.Lock()
				finished := carved == 37_000
				mu.Unlock()
				if finished {
					return
				}
				as, err := f.s.AssignPending(f.ctx, 100, t0, func([]store.PendingChunk, []store.NodeLoad) []store.Assignment {
					return []store.Assignment{{JobID: j.Job.ID, NodeID: n, Iterations: 500 + 250*i}, {JobID: j.Job.ID, NodeID: n, Iterations: 700}}
				})
				if err != nil {
					errs[i] = err
					return
				}
				mu.Lock()
				got = append(got, as...)
				for _, a := range as {
					carved += a.Iterations
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		f.check(err)
	}
	cs := f.jobChunks(owner.ID, j.Job.ID)
	if len(cs) != len(got) {
		t.Fatalf("%d rows for %d assignments", len(cs), len(got))
	}
	next := 0
	for _, c := range cs {
		if c.SeedOffset != next {
			t.Fatalf("chunk at %d, want %d: the range has a gap or an overlap", c.SeedOffset, next)
		}
		next += c.Iterations
	}
	if next != 37_000 {
		t.Fatalf("chunks cover [0, %d), want [0, 37000)", next)
	}
}
