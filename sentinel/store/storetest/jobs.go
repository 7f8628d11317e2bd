package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

func testCreateJob(f *fixture) {
	t := f.t
	u := f.user("alice")
	j := newJob(u.ID, 2500, "public", t0)
	j.Config = []byte(`{"b": 1, "a": [1, 2]}`)
	j.Job.ConfigHash = hashOf(string(j.Config))
	f.check(f.s.CreateJob(f.ctx, j))
	got := f.jobRow(j.Job.ID)
	if got.ID != j.Job.ID || got.UserID != u.ID || got.ConfigHash != j.Job.ConfigHash || got.TotalIterations != 2500 ||
		got.CompletedIterations != 0 || got.Status != protocol.StatusPending || got.Result != nil || !got.CreatedAt.Equal(t0) ||
		!got.CompletedAt.IsZero() || got.AccessType != "public" || got.DiscordServerID != "" || got.Error != "" {
		t.Fatalf("JobByID = %+v", got)
	}
	if len(j.Chunks) != 3 {
		t.Fatalf("fixture split into %d chunks", len(j.Chunks))
	}
	for k, c := range j.Chunks {
		got := f.chunk(c.ID)
		if got.JobID != j.Job.ID || got.NodeID != "" || got.ConfigHash != j.Job.ConfigHash || got.Iterations != c.Iterations ||
			got.SeedOffset != k*protocol.ChunkSize || got.Status != protocol.StatusPending || got.Result != nil ||
			!got.ClaimedAt.IsZero() || !got.CompletedAt.IsZero() || !got.CreatedAt.Equal(t0) || got.Attempts != 0 ||
			got.LastError != "" || len(got.PreviousNodeIDs) != 0 {
			t.Fatalf("chunk %d = %+v", k, got)
		}
	}

	// The stored config serves a job naming only its hash.
	again := newJob(u.ID, 10, "discord", t0.Add(time.Minute))
	again.Config, again.Job.ConfigHash, again.Job.DiscordServerID = nil, j.Job.ConfigHash, "123456"
	f.check(f.s.CreateJob(f.ctx, again))
	if got := f.jobRow(again.Job.ID); got.DiscordServerID != "123456" || got.AccessType != "discord" {
		t.Fatalf("second job %+v", got)
	}
	// Re-sending the config is an upsert, not a conflict.
	third := newJob(u.ID, 10, "private", t0.Add(2*time.Minute))
	third.Config, third.Job.ConfigHash = j.Config, j.Job.ConfigHash
	f.check(f.s.CreateJob(f.ctx, third))

	// An unknown config hash is ErrNotFound and stores nothing.
	missing := newJob(u.ID, 1500, "private", t0)
	missing.Config, missing.Job.ConfigHash = nil, hashOf("never stored")
	wantErr(t, "unknown config", f.s.CreateJob(f.ctx, missing), store.ErrNotFound)
	f.wantNoJob(missing)

	// A failing job stores nothing, not even its config.
	orphan := newJob(uuid.NewString(), 1000, "private", t0) // no such user
	if err := f.s.CreateJob(f.ctx, orphan); err == nil {
		t.Fatal("a job of an unknown user was stored")
	}
	f.wantNoJob(orphan)
	orphan.Job.UserID, orphan.Job.ID, orphan.Config = u.ID, uuid.NewString(), nil
	wantErr(t, "config of a refused job", f.s.CreateJob(f.ctx, orphan), store.ErrNotFound)

	bad := newJob(u.ID, 10, "private", t0)
	bad.Config = []byte(`{"unterminated": `)
	if err := f.s.CreateJob(f.ctx, bad); err == nil {
		t.Fatal("a job with malformed config JSON was stored")
	}
	f.wantNoJob(bad)

	_, err := f.s.JobByID(f.ctx, uuid.NewString())
	wantErr(t, "unknown job", err, store.ErrNotFound)
	_, err = f.s.JobByID(f.ctx, "not-a-uuid")
	wantErr(t, "malformed job id", err, store.ErrNotFound)
	_, err = f.s.ChunkByID(f.ctx, uuid.NewString())
	wantErr(t, "unknown chunk", err, store.ErrNotFound)
	_, err = f.s.ChunkByID(f.ctx, "not-a-uuid")
	wantErr(t, "malformed chunk id", err, store.ErrNotFound)

	// Configs in use are never deleted.
	n, err := f.s.DeleteUnusedConfigs(f.ctx, t0.Add(365*24*time.Hour))
	f.check(err)
	if n != 0 {
		t.Fatalf("deleted %d configs in use", n)
	}
	reuse := newJob(u.ID, 10, "private", t0)
	reuse.Config, reuse.Job.ConfigHash = nil, j.Job.ConfigHash
	f.check(f.s.CreateJob(f.ctx, reuse))
}

// wantNoJob fails when any row of j exists.
func (f *fixture) wantNoJob(j store.NewJob) {
	f.t.Helper()
	_, err := f.s.JobByID(f.ctx, j.Job.ID)
	wantErr(f.t, "job of a refused creation", err, store.ErrNotFound)
	for _, c := range j.Chunks {
		_, err := f.s.ChunkByID(f.ctx, c.ID)
		wantErr(f.t, "chunk of a refused creation", err, store.ErrNotFound)
	}
}

func testAssignPending(f *fixture) {
	t := f.t
	owner := f.user("owner")
	called := false
	spy := func(chunks []store.PendingChunk, nodes []store.NodeLoad) []store.Assignment {
		called = true
		return nil
	}
	if as, err := f.s.AssignPending(f.ctx, 10, t0, spy); err != nil || len(as) != 0 || called {
		t.Fatalf("nothing pending: %v, %v, planner called %v", as, err, called)
	}
	j1 := f.job(owner.ID, 2500, t0)
	j2 := f.job(owner.ID, 1000, t0.Add(time.Second))
	if as, err := f.s.AssignPending(f.ctx, 10, t0, spy); err != nil || len(as) != 0 || called {
		t.Fatalf("no node online: %v, %v, planner called %v", as, err, called)
	}

	a := f.online(owner.ID, 2, t0)
	b := f.online(owner.ID, 1, t0)
	f.claimed(owner.ID, 4, t0) // claimed, never online: not offered
	f.node(t0)                 // unclaimed: not offered
	gone := f.online(owner.ID, 4, t0)
	if _, err := f.s.MarkNodesOffline(f.ctx, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.TouchNodes(f.ctx, []string{a.ID, b.ID}, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	f.check(f.s.GrantNode(f.ctx, a.ID, "user", "friend"))
	f.check(f.s.GrantNode(f.ctx, a.ID, "user", "friend")) // idempotent
	f.check(f.s.GrantNode(f.ctx, a.ID, "discord", "guild"))
	if err := f.s.GrantNode(f.ctx, uuid.NewString(), "user", "friend"); err == nil {
		t.Fatal("granted an unknown node")
	}

	byID := []store.NodeLoad{
		{ID: a.ID, UserID: owner.ID, MaxParallel: 2, TotalCores: 8, GrantedTo: []string{"friend"}},
		{ID: b.ID, UserID: owner.ID, MaxParallel: 1, TotalCores: 8, GrantedTo: []string{}},
	}
	slices.SortFunc(byID, func(x, y store.NodeLoad) int { return strings.Compare(x.ID, y.ID) })

	t1 := t0.Add(time.Minute)
	var seenChunks []store.PendingChunk
	var seenNodes []store.NodeLoad
	record := func(chunks []store.PendingChunk, nodes []store.NodeLoad) []store.Assignment {
		seenChunks, seenNodes = chunks, nodes
		// a takes both; one is asked for twice: the store applies each
		// chunk once.
		return []store.Assignment{{ChunkID: chunks[0].ID, NodeID: a.ID}, {ChunkID: chunks[1].ID, NodeID: a.ID}, {ChunkID: chunks[0].ID, NodeID: a.ID}}
	}
	as, err := f.s.AssignPending(f.ctx, 2, t1, record)
	f.check(err)
	wantChunks := []store.PendingChunk{
		{ID: j1.Chunks[0].ID, JobID: j1.Job.ID, JobOwner: owner.ID, AccessType: "private", CreatedAt: t0, Iterations: j1.Chunks[0].Iterations},
		{ID: j1.Chunks[1].ID, JobID: j1.Job.ID, JobOwner: owner.ID, AccessType: "private", CreatedAt: t0, Iterations: j1.Chunks[1].Iterations},
	}
	if !samePending(seenChunks, wantChunks) {
		t.Fatalf("planner saw chunks %+v, want %+v (limit 2, oldest first, by seed offset)", seenChunks, wantChunks)
	}
	if !sameLoads(seenNodes, byID) {
		t.Fatalf("planner saw nodes %+v, want %+v", seenNodes, byID)
	}
	for _, n := range seenNodes {
		if n.ID == gone.ID {
			t.Fatal("an offline node was offered")
		}
	}
	if !sameAssignments(as, []store.Assignment{{ChunkID: j1.Chunks[0].ID, NodeID: a.ID}, {ChunkID: j1.Chunks[1].ID, NodeID: a.ID}}) {
		t.Fatalf("applied %+v", as)
	}
	for _, id := range []string{j1.Chunks[0].ID, j1.Chunks[1].ID} {
		if c := f.chunk(id); c.Status != protocol.StatusRunning || c.NodeID != a.ID || !c.ClaimedAt.Equal(t1) {
			t.Fatalf("assigned chunk %+v", c)
		}
	}
	if s := f.jobRow(j1.Job.ID).Status; s != protocol.StatusRunning {
		t.Fatalf("job with an assigned chunk is %q", s)
	}
	if s := f.jobRow(j2.Job.ID).Status; s != protocol.StatusPending {
		t.Fatalf("job without assigned chunks is %q", s)
	}

	// The next pass sees the load and the rest of the queue.
	as, err = f.s.AssignPending(f.ctx, 10, t1, func(chunks []store.PendingChunk, nodes []store.NodeLoad) []store.Assignment {
		seenChunks, seenNodes = chunks, nodes
		return capacityPlan(chunks, nodes)
	})
	f.check(err)
	if len(seenChunks) != 2 || seenChunks[0].ID != j1.Chunks[2].ID || seenChunks[1].ID != j2.Chunks[0].ID {
		t.Fatalf("second pass saw chunks %+v", seenChunks)
	}
	// a holds both chunks, given at t1; the latest of a moment is the one
	// of the highest seed offset.
	held := j1.Chunks[0].Iterations + j1.Chunks[1].Iterations
	wantLoad := map[string]store.NodeLoad{
		a.ID: {Running: 2, Held: held, LastClaimed: t1, LastIterations: j1.Chunks[1].Iterations},
		b.ID: {},
	}
	for _, n := range seenNodes {
		w := wantLoad[n.ID]
		if n.Running != w.Running || n.Held != w.Held || !n.LastClaimed.Equal(w.LastClaimed) || n.LastIterations != w.LastIterations {
			t.Fatalf("node %s holds %d chunks of %d iterations, the latest of %d given at %v; want %d of %d, %d at %v",
				n.ID, n.Running, n.Held, n.LastIterations, n.LastClaimed, w.Running, w.Held, w.LastIterations, w.LastClaimed)
		}
	}
	if !sameAssignments(as, []store.Assignment{{ChunkID: j1.Chunks[2].ID, NodeID: b.ID}}) {
		t.Fatalf("second pass applied %+v", as)
	}
	as, err = f.s.AssignPending(f.ctx, 10, t1, capacityPlan)
	f.check(err)
	if len(as) != 0 {
		t.Fatalf("assigned beyond capacity: %+v", as)
	}
	if c := f.chunk(j2.Chunks[0].ID); c.Status != protocol.StatusPending || c.NodeID != "" {
		t.Fatalf("unassigned chunk %+v", c)
	}
}

func samePending(a, b []store.PendingChunk) bool {
	return slices.EqualFunc(a, b, func(x, y store.PendingChunk) bool {
		tx, ty := x.CreatedAt, y.CreatedAt
		x.CreatedAt, y.CreatedAt = time.Time{}, time.Time{}
		return x == y && tx.Equal(ty)
	})
}

func sameLoads(a, b []store.NodeLoad) bool {
	return slices.EqualFunc(a, b, func(x, y store.NodeLoad) bool {
		return x.ID == y.ID && x.UserID == y.UserID && x.MaxParallel == y.MaxParallel && x.TotalCores == y.TotalCores &&
			x.Running == y.Running && x.Held == y.Held && x.LastIterations == y.LastIterations &&
			x.LastClaimed.Equal(y.LastClaimed) && sameIDs(x.GrantedTo, y.GrantedTo)
	})
}

func sameAssignments(a, b []store.Assignment) bool {
	key := func(as []store.Assignment) []string {
		out := make([]string, len(as))
		for i, x := range as {
			out[i] = x.ChunkID + ">" + x.NodeID
		}
		return out
	}
	return sameIDs(key(a), key(b))
}

// testAssignPendingConcurrent runs scheduling passes at once: no chunk is
// assigned twice and no node gets more than its capacity.
func testAssignPendingConcurrent(f *fixture) {
	t := f.t
	owner := f.user("owner")
	nodes := map[string]bool{}
	for range 3 {
		nodes[f.online(owner.ID, 2, t0).ID] = true
	}
	j := f.job(owner.ID, 10_000, t0)
	var mu sync.Mutex
	assigned := map[string]string{}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			for range 3 {
				as, err := f.s.AssignPending(f.ctx, 3, t0.Add(time.Minute), capacityPlan)
				if err != nil {
					errs[i] = err
					return
				}
				mu.Lock()
				for _, a := range as {
					if prev, ok := assigned[a.ChunkID]; ok {
						errs[i] = fmt.Errorf("chunk %s assigned to %s and %s", a.ChunkID, prev, a.NodeID)
					}
					assigned[a.ChunkID] = a.NodeID
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		f.check(err)
	}
	perNode := map[string]int{}
	for _, c := range j.Chunks {
		got := f.chunk(c.ID)
		if got.NodeID != assigned[c.ID] {
			t.Fatalf("chunk %s held by %q, reported assigned to %q", c.ID, got.NodeID, assigned[c.ID])
		}
		if got.NodeID != "" {
			perNode[got.NodeID]++
		}
	}
	if len(assigned) != 6 {
		t.Fatalf("assigned %d chunks, want 6 (3 nodes of 2)", len(assigned))
	}
	for n, k := range perNode {
		if !nodes[n] || k > 2 {
			t.Fatalf("node %s holds %d chunks", n, k)
		}
	}
}

func testCompleteChunk(f *fixture) {
	t := f.t
	owner := f.user("owner")
	a := f.online(owner.ID, 4, t0)
	b := f.online(owner.ID, 4, t0)
	j := f.job(owner.ID, 2500, t0)
	c0, c1, c2 := j.Chunks[0].ID, j.Chunks[1].ID, j.Chunks[2].ID
	t1 := t0.Add(time.Minute)
	f.assign(t1, a.ID, c0, c1, c2)

	var calls atomic.Int32
	var seen []protocol.ChunkResult
	agg := func(rs []protocol.ChunkResult) protocol.JobResult {
		calls.Add(1)
		seen = rs
		return sumAggregate(rs)
	}
	t2 := t1.Add(time.Minute)
	out, err := f.completeOne(store.Completion{ChunkID: c0, NodeID: a.ID, Result: result(1000, 100), Now: t2}, agg)
	f.check(err)
	if !out.Applied || out.ChunkStatus != protocol.StatusCompleted || out.JobComplete || out.Job.CompletedIterations != 1000 ||
		out.Job.ID != j.Job.ID || out.Job.Status != protocol.StatusRunning {
		t.Fatalf("first completion %+v", out)
	}
	c := f.chunk(c0)
	var stored protocol.ChunkResult
	if err := json.Unmarshal(c.Result, &stored); err != nil || stored != result(1000, 100) {
		t.Fatalf("stored result %s (%v)", c.Result, err)
	}
	if c.Status != protocol.StatusCompleted || c.NodeID != a.ID || !c.CompletedAt.Equal(t2) || !c.ClaimedAt.Equal(t1) || len(c.PreviousNodeIDs) != 0 {
		t.Fatalf("completed chunk %+v", c)
	}

	// A repeat changes nothing.
	out, err = f.completeOne(store.Completion{ChunkID: c0, NodeID: a.ID, Result: result(1000, 999), Now: t2.Add(time.Minute)}, agg)
	f.check(err)
	if out.Applied || out.ChunkStatus != protocol.StatusCompleted || out.JobComplete || out.Job.CompletedIterations != 1000 {
		t.Fatalf("repeat completion %+v", out)
	}
	c = f.chunk(c0)
	if err := json.Unmarshal(c.Result, &stored); err != nil || stored != result(1000, 100) || !c.CompletedAt.Equal(t2) {
		t.Fatalf("repeat changed the chunk: %+v", c)
	}

	// Another node's report is accepted and moves the chunk to it.
	out, err = f.completeOne(store.Completion{ChunkID: c1, NodeID: b.ID, Result: result(1000, 200), Now: t2}, agg)
	f.check(err)
	if !out.Applied || out.Job.CompletedIterations != 2000 {
		t.Fatalf("completion by another node %+v", out)
	}
	if c := f.chunk(c1); c.NodeID != b.ID || !slices.Equal(c.PreviousNodeIDs, []string{a.ID}) {
		t.Fatalf("chunk completed by another node %+v", c)
	}

	// A pending chunk (handed back) can be completed by its earlier holder.
	ok, err := f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: c2, NodeID: a.ID})
	if err != nil || !ok {
		t.Fatalf("requeue: %v %v", ok, err)
	}
	t3 := t2.Add(time.Minute)
	if calls.Load() != 0 {
		t.Fatal("aggregated before the last chunk")
	}
	out, err = f.completeOne(store.Completion{ChunkID: c2, NodeID: a.ID, Result: result(500, 300), Now: t3}, agg)
	f.check(err)
	if !out.Applied || !out.JobComplete || out.Job.Status != protocol.StatusCompleted || out.Job.CompletedIterations != 2500 || !out.Job.CompletedAt.Equal(t3) {
		t.Fatalf("last completion %+v", out)
	}
	if calls.Load() != 1 {
		t.Fatalf("aggregator called %d times", calls.Load())
	}
	if want := []protocol.ChunkResult{result(1000, 100), result(1000, 200), result(500, 300)}; !slices.Equal(seen, want) {
		t.Fatalf("aggregator got %+v, want the results in seed order %+v", seen, want)
	}
	var jr protocol.JobResult
	if err := json.Unmarshal(f.jobRow(j.Job.ID).Result, &jr); err != nil || jr != sumAggregate(seen) {
		t.Fatalf("job result %+v (%v)", jr, err)
	}
	if c := f.chunk(c2); !c.ClaimedAt.Equal(t3) || c.NodeID != a.ID || !slices.Equal(c.PreviousNodeIDs, []string{a.ID}) {
		t.Fatalf("pending chunk completed %+v", c)
	}

	out, err = f.completeOne(store.Completion{ChunkID: c2, NodeID: a.ID, Result: result(500, 300), Now: t3}, agg)
	f.check(err)
	if out.Applied || !out.JobComplete || calls.Load() != 1 {
		t.Fatalf("repeat of the last completion %+v, %d aggregations", out, calls.Load())
	}
	_, err = f.completeOne(store.Completion{ChunkID: uuid.NewString(), NodeID: a.ID, Result: result(1, 1), Now: t3}, agg)
	wantErr(t, "unknown chunk", err, store.ErrNotFound)
	_, err = f.completeOne(store.Completion{ChunkID: "not-a-uuid", NodeID: a.ID, Result: result(1, 1), Now: t3}, agg)
	wantErr(t, "malformed chunk id", err, store.ErrNotFound)
}

// testCompleteChunkConcurrent completes every chunk of a job twice at once:
// each applies once, the iterations add up and the job is aggregated once.
func testCompleteChunkConcurrent(f *fixture) {
	t := f.t
	owner := f.user("owner")
	var nodes []store.Node
	for range 2 {
		nodes = append(nodes, f.online(owner.ID, 8, t0))
	}
	j := f.job(owner.ID, 7500, t0)
	for i, c := range j.Chunks {
		f.assign(t0, nodes[i%2].ID, c.ID)
	}
	var calls, applied, completes atomic.Int32
	agg := func(rs []protocol.ChunkResult) protocol.JobResult {
		calls.Add(1)
		return sumAggregate(rs)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(j.Chunks))
	for i, c := range j.Chunks {
		for range 2 {
			wg.Go(func() {
				out, err := f.completeOne(store.Completion{ChunkID: c.ID, NodeID: nodes[i%2].ID, Result: result(c.Iterations, 50), Now: t0.Add(time.Minute)}, agg)
				if err != nil {
					errs <- err
					return
				}
				if out.Applied {
					applied.Add(1)
					if out.JobComplete {
						completes.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	job := f.jobRow(j.Job.ID)
	if int(applied.Load()) != len(j.Chunks) || calls.Load() != 1 || completes.Load() < 1 {
		t.Fatalf("applied %d of %d, aggregated %d times, %d applied completions saw the job complete",
			applied.Load(), len(j.Chunks), calls.Load(), completes.Load())
	}
	var jr protocol.JobResult
	if err := json.Unmarshal(job.Result, &jr); err != nil || job.Status != protocol.StatusCompleted || job.CompletedIterations != 7500 ||
		jr.TotalIterations != 7500 || jr.ChunksCompleted != len(j.Chunks) {
		t.Fatalf("job %+v result %+v (%v)", job, jr, err)
	}
}

// testCompleteChunksBatch completes the chunks of two jobs in one call,
// one of them named twice (by its holder, then by another node): outcomes
// come in order, each chunk applies once, the first of the batch, and each
// job completes once with every result.
func testCompleteChunksBatch(f *fixture) {
	t := f.t
	owner := f.user("owner")
	n := f.online(owner.ID, 8, t0)
	j1, j2 := f.job(owner.ID, 2000, t0), f.job(owner.ID, 3000, t0)
	var batch []store.Completion
	for _, j := range []store.NewJob{j1, j2} {
		for _, c := range j.Chunks {
			f.assign(t0, n.ID, c.ID)
			batch = append(batch, store.Completion{ChunkID: c.ID, NodeID: n.ID, Result: result(c.Iterations, 10), Now: t0.Add(time.Minute)})
		}
	}
	other := f.online(owner.ID, 8, t0)
	again := batch[0]
	again.NodeID, again.Result = other.ID, result(again.Result.Iterations, 99)
	batch = append(batch, again)
	var calls atomic.Int32
	agg := func(rs []protocol.ChunkResult) protocol.JobResult {
		calls.Add(1)
		return sumAggregate(rs)
	}
	outs, err := f.s.CompleteChunks(f.ctx, batch, agg)
	f.check(err)
	if len(outs) != len(batch) {
		t.Fatalf("%d outcomes for %d completions", len(outs), len(batch))
	}
	for i, out := range outs {
		want := j1.Job.ID
		if i >= len(j1.Chunks) && i < len(batch)-1 {
			want = j2.Job.ID
		}
		if out.Applied != (i < len(batch)-1) || out.ChunkStatus != protocol.StatusCompleted || !out.JobComplete || out.Job.ID != want {
			t.Fatalf("outcome %d: %+v", i, out)
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("aggregated %d times, want once per job", calls.Load())
	}
	if c := f.chunk(batch[0].ChunkID); c.NodeID != n.ID {
		t.Fatalf("the chunk named twice is %+v, want it completed by its first completion's node %s", c, n.ID)
	}
	for _, j := range []store.NewJob{j1, j2} {
		if row := f.jobRow(j.Job.ID); row.Status != protocol.StatusCompleted || row.CompletedIterations != row.TotalIterations {
			t.Fatalf("job %+v", row)
		}
	}
	// A batch naming an unknown chunk changes nothing of the others.
	j3 := f.job(owner.ID, 1000, t0)
	f.assign(t0, n.ID, j3.Chunks[0].ID)
	_, err = f.s.CompleteChunks(f.ctx, []store.Completion{
		{ChunkID: j3.Chunks[0].ID, NodeID: n.ID, Result: result(1000, 1), Now: t0},
		{ChunkID: uuid.NewString(), NodeID: n.ID, Result: result(1, 1), Now: t0},
	}, agg)
	wantErr(t, "a batch with an unknown chunk", err, store.ErrNotFound)
	if c := f.chunk(j3.Chunks[0].ID); c.Status != protocol.StatusRunning {
		t.Fatalf("the failed batch left its other chunk %+v", c)
	}
}

func testRequeueChunk(f *fixture) {
	t := f.t
	owner := f.user("owner")
	a := f.online(owner.ID, 4, t0)
	b := f.online(owner.ID, 4, t0)
	j := f.job(owner.ID, 1000, t0)
	c := j.Chunks[0].ID
	f.assign(t0, a.ID, c)

	ok, err := f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: c, NodeID: b.ID, CountAttempt: true, Error: "not yours"})
	if err != nil || ok {
		t.Fatalf("requeue by a node not holding it: %v %v", ok, err)
	}
	if got := f.chunk(c); got.Status != protocol.StatusRunning || got.NodeID != a.ID || got.Attempts != 0 || got.LastError != "" {
		t.Fatalf("refused requeue changed %+v", got)
	}
	ok, err = f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: c, NodeID: a.ID, CountAttempt: true, Error: "boom"})
	if err != nil || !ok {
		t.Fatalf("requeue by the holder: %v %v", ok, err)
	}
	got := f.chunk(c)
	if got.Status != protocol.StatusPending || got.NodeID != "" || !got.ClaimedAt.IsZero() || got.Attempts != 1 || got.LastError != "boom" ||
		!slices.Equal(got.PreviousNodeIDs, []string{a.ID}) {
		t.Fatalf("requeued %+v", got)
	}
	if ok, err := f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: c, NodeID: a.ID}); err != nil || ok {
		t.Fatalf("requeue of a pending chunk: %v %v", ok, err)
	}
	// A hand-back counts no attempt and keeps the last error.
	f.assign(t0, a.ID, c)
	if ok, err := f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: c, NodeID: a.ID}); err != nil || !ok {
		t.Fatalf("hand-back: %v %v", ok, err)
	}
	got = f.chunk(c)
	if got.Attempts != 1 || got.LastError != "boom" || !slices.Equal(got.PreviousNodeIDs, []string{a.ID, a.ID}) {
		t.Fatalf("handed back %+v", got)
	}
	_, err = f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: "not-a-uuid", NodeID: a.ID})
	wantErr(t, "malformed chunk id", err, store.ErrNotFound)
}

func testFailChunk(f *fixture) {
	t := f.t
	owner := f.user("owner")
	a := f.online(owner.ID, 4, t0)
	b := f.online(owner.ID, 4, t0)
	j := f.job(owner.ID, 3000, t0)
	c0, c1, c2 := j.Chunks[0].ID, j.Chunks[1].ID, j.Chunks[2].ID
	f.assign(t0, a.ID, c0, c1)
	if _, err := f.completeOne(store.Completion{ChunkID: c1, NodeID: a.ID, Result: result(1000, 1), Now: t0}, sumAggregate); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.FailChunk(f.ctx, store.Failure{ChunkID: c0, NodeID: b.ID, Error: "x", Now: t0}); err != nil || ok {
		t.Fatalf("fail by a node not holding it: %v %v", ok, err)
	}
	t1 := t0.Add(time.Minute)
	if ok, err := f.s.FailChunk(f.ctx, store.Failure{ChunkID: c0, NodeID: a.ID, Error: "crash", Now: t1}); err != nil || !ok {
		t.Fatalf("fail by the holder: %v %v", ok, err)
	}
	if c := f.chunk(c0); c.Status != protocol.StatusFailed || c.Attempts != 1 || c.LastError != "crash" || !c.CompletedAt.Equal(t1) {
		t.Fatalf("failed chunk %+v", c)
	}
	if job := f.jobRow(j.Job.ID); job.Status != protocol.StatusFailed || job.Error != "crash" || !job.CompletedAt.Equal(t1) {
		t.Fatalf("failed job %+v", job)
	}
	if c := f.chunk(c2); c.Status != protocol.StatusFailed || c.LastError != "job failed: crash" || !c.CompletedAt.Equal(t1) || c.Attempts != 0 {
		t.Fatalf("pending chunk of the failed job %+v", c)
	}
	if c := f.chunk(c1); c.Status != protocol.StatusCompleted {
		t.Fatalf("completed chunk of the failed job %+v", c)
	}
	if ok, err := f.s.FailChunk(f.ctx, store.Failure{ChunkID: c0, NodeID: a.ID, Error: "again", Now: t1}); err != nil || ok {
		t.Fatalf("second failure: %v %v", ok, err)
	}
	out, err := f.completeOne(store.Completion{ChunkID: c0, NodeID: a.ID, Result: result(1000, 1), Now: t1}, sumAggregate)
	if err != nil || out.Applied || out.ChunkStatus != protocol.StatusFailed || out.JobComplete || out.Job.Status != protocol.StatusFailed {
		t.Fatalf("completion of a failed chunk %+v, %v", out, err)
	}
	// A failed job's chunks are never offered again.
	called := false
	if _, err := f.s.AssignPending(f.ctx, 10, t1, func([]store.PendingChunk, []store.NodeLoad) []store.Assignment {
		called = true
		return nil
	}); err != nil || called {
		t.Fatalf("failed job scheduled: planner called %v, %v", called, err)
	}
	_, err = f.s.FailChunk(f.ctx, store.Failure{ChunkID: "not-a-uuid", NodeID: a.ID, Error: "x", Now: t1})
	wantErr(t, "malformed chunk id", err, store.ErrNotFound)
}

func testReclaimSilent(f *fixture) {
	t := f.t
	owner := f.user("owner")
	silent := f.online(owner.ID, 4, t0)
	alive := f.online(owner.ID, 4, t0.Add(time.Minute))
	j := f.job(owner.ID, 3000, t0)
	f.assign(t0, silent.ID, j.Chunks[0].ID)
	f.assign(t0, alive.ID, j.Chunks[1].ID)
	ids, err := f.s.ReclaimSilent(f.ctx, t0.Add(30*time.Second))
	f.check(err)
	if !sameIDs(ids, []string{j.Chunks[0].ID}) {
		t.Fatalf("reclaimed %v, want [%s]", ids, j.Chunks[0].ID)
	}
	if c := f.chunk(j.Chunks[0].ID); c.Status != protocol.StatusPending || c.NodeID != "" || !c.ClaimedAt.IsZero() ||
		c.Attempts != 0 || !slices.Equal(c.PreviousNodeIDs, []string{silent.ID}) {
		t.Fatalf("reclaimed chunk %+v", c)
	}
	if c := f.chunk(j.Chunks[1].ID); c.Status != protocol.StatusRunning || c.NodeID != alive.ID {
		t.Fatalf("chunk of a live node %+v", c)
	}
	if ids, _ := f.s.ReclaimSilent(f.ctx, t0.Add(30*time.Second)); len(ids) != 0 {
		t.Fatalf("reclaimed again: %v", ids)
	}
}

func testOverdueChunks(f *fixture) {
	t := f.t
	owner := f.user("owner")
	a := f.online(owner.ID, 4, t0)
	quiet := f.online(owner.ID, 4, t0.Add(-time.Minute)) // seen before t0
	j := f.job(owner.ID, 4000, t0)
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	f.assign(t2, a.ID, j.Chunks[1].ID)
	f.assign(t1, a.ID, j.Chunks[0].ID)
	f.assign(t1, quiet.ID, j.Chunks[2].ID)
	got, err := f.s.OverdueChunks(f.ctx, t2, t0)
	f.check(err)
	if len(got) != 1 || got[0].ID != j.Chunks[0].ID || got[0].NodeID != a.ID || !got[0].ClaimedAt.Equal(t1) {
		t.Fatalf("overdue before t2 on nodes seen since t0: %+v", got)
	}
	got, err = f.s.OverdueChunks(f.ctx, t2.Add(time.Second), t0)
	f.check(err)
	if len(got) != 2 || got[0].ID != j.Chunks[0].ID || got[1].ID != j.Chunks[1].ID {
		t.Fatalf("overdue after t2 (oldest claim first): %+v", got)
	}
	// The quiet node's chunk counts once the quiet node does.
	got, err = f.s.OverdueChunks(f.ctx, t2, t0.Add(-time.Minute))
	f.check(err)
	if len(got) != 2 || !sameIDs([]string{got[0].ID, got[1].ID}, []string{j.Chunks[0].ID, j.Chunks[2].ID}) {
		t.Fatalf("overdue on nodes seen since t0-1m: %+v", got)
	}
	if got, _ := f.s.OverdueChunks(f.ctx, t2, t0.Add(time.Second)); len(got) != 0 {
		t.Fatalf("overdue on nodes seen since after both were last seen: %+v", got)
	}
}

func testCounts(f *fixture) {
	owner := f.user("owner")
	a := f.online(owner.ID, 4, t0)
	f.online(owner.ID, 4, t0)
	f.claimed(owner.ID, 4, t0)
	j := f.job(owner.ID, 3000, t0)
	f.assign(t0, a.ID, j.Chunks[0].ID)
	c, err := f.s.Counts(f.ctx)
	f.check(err)
	if c != (store.Counts{NodesOnline: 2, ChunksPending: 2, ChunksRunning: 1}) {
		f.t.Fatalf("counts %+v", c)
	}
}
