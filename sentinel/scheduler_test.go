package sentinel

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

func TestEligible(t *testing.T) {
	owner, other := "owner", "other"
	mine := store.NodeLoad{ID: "n1", UserID: owner}
	theirs := store.NodeLoad{ID: "n2", UserID: other}
	granted := store.NodeLoad{ID: "n3", UserID: other, GrantedTo: []string{owner}}
	unclaimed := store.NodeLoad{ID: "n4"}
	cases := []struct {
		access string
		node   store.NodeLoad
		want   bool
	}{
		{AccessPrivate, mine, true}, {AccessPrivate, theirs, false}, {AccessPrivate, granted, false},
		{AccessPublic, mine, true}, {AccessPublic, theirs, true}, {AccessPublic, unclaimed, false},
		{AccessUser, mine, true}, {AccessUser, theirs, false}, {AccessUser, granted, true},
		{AccessDiscord, theirs, false}, {AccessDiscord, mine, true},
	}
	for _, c := range cases {
		if got := Eligible(c.access, owner, c.node); got != c.want {
			t.Errorf("Eligible(%s, node %s) = %v, want %v", c.access, c.node.ID, got, c.want)
		}
	}
}

// chunkNodes maps chunk status per node for a job.
func (e *env) running(jobID string) map[string]int {
	per := map[string]int{}
	for _, c := range e.chunks(jobID) {
		if c.Status == protocol.StatusRunning {
			per[c.NodeID]++
		}
	}
	return per
}

func TestSchedulingEligibilityCases(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.user("alice")
	bob, _ := e.user("bob")
	carol, _ := e.user("carol")
	bobNode := e.onlineNode(bob.ID, 4, 4)
	grantNode := e.onlineNode(carol.ID, 4, 4)
	if err := e.svc.GrantNode(context.Background(), carol.ID, grantNode.id, alice.ID); err != nil {
		t.Fatal(err)
	}
	unclaimed := e.newNode()
	unclaimed.register(16)

	private := e.job(alice.ID, 1000, AccessPrivate)
	user := e.job(alice.ID, 1000, AccessUser)
	public := e.job(alice.ID, 1000, AccessPublic)
	e.schedule()
	if got := e.running(private.JobID); len(got) != 0 {
		t.Errorf("private job ran on others' nodes: %v", got)
	}
	if got := e.running(user.JobID); got[grantNode.id] != 1 {
		t.Errorf("user job: %v, want on granted node", got)
	}
	if got := e.running(public.JobID); got[bobNode.id]+got[grantNode.id] != 1 {
		t.Errorf("public job: %v", got)
	}
	if _, err := e.svc.CreateJob(context.Background(), alice.ID, JobRequest{Config: []byte(`{}`), Iterations: 5, AccessType: AccessDiscord}); KindOf(err) != KindInvalid {
		t.Errorf("discord job: %v", err)
	}

	// The owner's node, while offline, gets nothing; once online it does.
	aliceNode := e.onlineNode(alice.ID, 2, 2)
	e.clock.Add(DefaultOfflineAfter + time.Second)
	bobNode.heartbeat()
	grantNode.heartbeat()
	if err := e.svc.Liveness(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.db.NodeByID(context.Background(), aliceNode.id); n.Status != protocol.NodeOffline {
		t.Fatalf("silent node is %s", n.Status)
	}
	e.schedule()
	if got := e.running(private.JobID); len(got) != 0 {
		t.Fatalf("private job ran while its owner's node is offline: %v", got)
	}
	aliceNode.heartbeat()
	e.schedule()
	if got := e.running(private.JobID); got[aliceNode.id] != 1 {
		t.Fatalf("private job: %v, want on the owner's node", got)
	}
	if job, _ := e.db.JobByID(context.Background(), private.JobID); job.Status != protocol.StatusRunning {
		t.Fatalf("job status %s", job.Status)
	}
}

func TestAssignmentNeverExceedsCapacity(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	small := e.onlineNode(u.ID, 2, 8)  // 2 cores bound it: 2 workers + 2 queued
	large := e.onlineNode(u.ID, 16, 3) // max_parallel bounds it: 3 workers + 3 queued
	j := e.job(u.ID, 20_000, AccessPrivate)
	if n := e.schedule(); n != 10 {
		t.Fatalf("assigned %d, want 10", n)
	}
	if n := e.schedule(); n != 0 {
		t.Fatalf("second pass assigned %d", n)
	}
	got := e.running(j.JobID)
	if got[small.id] != 4 || got[large.id] != 6 {
		t.Fatalf("per node %v", got)
	}
	// Completing one frees exactly one slot.
	c := e.chunkOn(j.JobID, small.id)
	small.complete(c, resultFor(c.Iterations, 100))
	if n := e.schedule(); n != 1 {
		t.Fatalf("after completion assigned %d, want 1", n)
	}
}

func (e *env) chunkOn(jobID, nodeID string) store.Chunk {
	e.t.Helper()
	for _, c := range e.chunks(jobID) {
		if c.NodeID == nodeID && c.Status == protocol.StatusRunning {
			return c
		}
	}
	e.t.Fatalf("no running chunk of job %s on node %s", jobID, nodeID)
	return store.Chunk{}
}

func resultFor(n int, base float64) protocol.ChunkResult {
	return protocol.ChunkResult{Iterations: n, MeanDps: base, StdDps: 1, MinDps: base - 1, MaxDps: base + 1}
}

func (n *testNode) complete(c store.Chunk, r protocol.ChunkResult) protocol.CompleteResponse {
	n.e.t.Helper()
	var resp protocol.CompleteResponse
	if st, body := n.call(protocol.PathComplete, protocol.CompleteRequest{ChunkID: c.ID, Result: r}, &resp); st != 200 {
		n.e.t.Fatalf("complete: %d %s", st, body)
	}
	return resp
}

func TestReclaimAfterSilence(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	a := e.onlineNode(u.ID, 1, 1)
	j := e.job(u.ID, 1000, AccessPrivate)
	e.schedule()
	c := e.chunkOn(j.JobID, a.id)
	b := e.onlineNode(u.ID, 1, 1)
	for _, step := range []time.Duration{20 * time.Second, 20 * time.Second, 21 * time.Second} {
		e.clock.Add(step)
		b.heartbeat()
		if err := e.svc.Liveness(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := e.db.ChunkByID(context.Background(), c.ID)
	if got.Status != protocol.StatusPending || got.NodeID != "" || len(got.PreviousNodeIDs) != 1 || got.PreviousNodeIDs[0] != a.id || got.Attempts != 0 {
		t.Fatalf("after 61 s of silence: %+v", got)
	}
	e.schedule()
	if got := e.chunkOn(j.JobID, b.id); got.ID != c.ID {
		t.Fatalf("reassigned %s", got.ID)
	}
	// The earlier holder's late result is still accepted.
	if r := a.complete(c, resultFor(1000, 50)); !r.Success || !r.JobComplete {
		t.Fatalf("late completion %+v", r)
	}
	if r := b.complete(c, resultFor(1000, 50)); !r.AlreadyCompleted || !r.JobComplete {
		t.Fatalf("second holder %+v", r)
	}
}

func TestCompletionRules(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	a := e.onlineNode(u.ID, 1, 1)
	other := e.onlineNode(u.ID, 1, 1)
	j := e.job(u.ID, 1500, AccessPrivate)
	e.schedule()
	c := e.chunkOn(j.JobID, a.id)
	req := protocol.CompleteRequest{ChunkID: c.ID, Result: resultFor(c.Iterations, 10)}
	if st, body := other.call(protocol.PathComplete, req, nil); st != 403 {
		t.Fatalf("non-holder: %d %s", st, body)
	}
	if st, body := a.call(protocol.PathComplete, protocol.CompleteRequest{ChunkID: "00000000-0000-0000-0000-000000000001", Result: req.Result}, nil); st != 404 || body != `{"error":"Chunk not found"}` {
		t.Fatalf("unknown chunk: %d %s", st, body)
	}
	bad := req
	bad.Result.Iterations++
	if st, _ := a.call(protocol.PathComplete, bad, nil); st != 400 {
		t.Fatalf("wrong iterations: %d", st)
	}
	if r := a.complete(c, req.Result); !r.Success || r.AlreadyCompleted || r.JobComplete {
		t.Fatalf("first %+v", r)
	}
	var raw map[string]any
	if st, body := a.call(protocol.PathComplete, req, &raw); st != 200 || raw["alreadyCompleted"] != true || raw["success"] != true {
		t.Fatalf("repeat: %d %s", st, body)
	}
	job, _ := e.db.JobByID(context.Background(), j.JobID)
	if job.CompletedIterations != c.Iterations {
		t.Fatalf("completed_iterations %d counted twice?", job.CompletedIterations)
	}
}

// Forged results that would change the job's result are refused and
// change nothing: a result lacking its figures (which counted as zeros) and
// a spread no set of values between its min and max can have. The attack
// run's 5-chunk job then showed minDps 0, meanDps 80 and stdDps 4.5e11
// instead of 100, 100 and 0.
func TestForgedResultsRefused(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	a := e.onlineNode(u.ID, 8, 8)
	j := e.job(u.ID, 5000, AccessPrivate)
	if n := e.schedule(); n != 5 {
		t.Fatalf("assigned %d", n)
	}
	chunks := e.chunks(j.JobID)
	forged := []struct {
		name string
		body json.RawMessage
		want string
	}{
		{"iterations alone", json.RawMessage(`{"chunkId":"` + chunks[0].ID + `","result":{"iterations":1000}}`), "lacks meanDps"},
		{"null figure", json.RawMessage(`{"chunkId":"` + chunks[0].ID + `","result":{"iterations":1000,"meanDps":100,"stdDps":null,"minDps":100,"maxDps":100}}`), "lacks stdDps"},
		{"no result", json.RawMessage(`{"chunkId":"` + chunks[0].ID + `"}`), "0 iterations"},
		{"spread without range", json.RawMessage(`{"chunkId":"` + chunks[0].ID + `","result":{"iterations":1000,"meanDps":100,"stdDps":1e12,"minDps":100,"maxDps":100}}`), "impossible"},
	}
	for _, f := range forged {
		if st, body := a.call(protocol.PathComplete, f.body, nil); st != 400 || !strings.Contains(body, f.want) {
			t.Errorf("%s: %d %s, want 400 with %q", f.name, st, body, f.want)
		}
	}
	if c, _ := e.db.ChunkByID(context.Background(), chunks[0].ID); c.Status != protocol.StatusRunning || c.Result != nil {
		t.Fatalf("a refused result changed the chunk: %+v", c)
	}
	for _, c := range chunks {
		a.complete(c, protocol.ChunkResult{Iterations: c.Iterations, MeanDps: 100, MinDps: 100, MaxDps: 100})
	}
	job, _ := e.db.JobByID(context.Background(), j.JobID)
	var res protocol.JobResult
	if err := json.Unmarshal(job.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res != (protocol.JobResult{MeanDps: 100, MinDps: 100, MaxDps: 100, TotalIterations: 5000, ChunksCompleted: 5}) {
		t.Fatalf("job result %+v", res)
	}
}

// perIteration makes deterministic per-iteration values for chunk k.
func perIteration(k, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = 40000 + 5000*math.Sin(float64(k*1000+i)*0.37) + float64((k*7919+i*104729)%997)
	}
	return xs
}

func summarize(xs []float64) protocol.ChunkResult {
	r := protocol.ChunkResult{Iterations: len(xs), MinDps: math.Inf(1), MaxDps: math.Inf(-1)}
	for _, x := range xs {
		r.MeanDps += x
		r.MinDps, r.MaxDps = math.Min(r.MinDps, x), math.Max(r.MaxDps, x)
	}
	r.MeanDps /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - r.MeanDps) * (x - r.MeanDps)
	}
	r.StdDps = math.Sqrt(ss / float64(len(xs)-1))
	return r
}

func TestAggregationConcurrentCompletions(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	var nodes []*testNode
	for range 4 {
		nodes = append(nodes, e.onlineNode(u.ID, 4, 4))
	}
	j := e.job(u.ID, 7321, AccessPrivate)
	e.schedule()
	cs := e.chunks(j.JobID)
	var all []float64
	var wg sync.WaitGroup
	completes := make(chan bool, len(cs))
	for k, c := range cs {
		xs := perIteration(k, c.Iterations)
		all = append(all, xs...)
		var holder *testNode
		for _, n := range nodes {
			if n.id == c.NodeID {
				holder = n
			}
		}
		wg.Go(func() {
			var resp protocol.CompleteResponse
			raw, _ := jsonBody(protocol.CompleteRequest{ChunkID: c.ID, Result: summarize(xs)})
			h := protocol.Sign(holder.key, e.clock.Now().Unix(), "POST", protocol.PathComplete, raw)
			if st, body := e.do(protocol.PathComplete, raw, h, &resp); st != 200 {
				t.Errorf("complete %d: %d %s", k, st, body)
			}
			completes <- resp.JobComplete
		})
	}
	wg.Wait()
	close(completes)
	n := 0
	for c := range completes {
		if c {
			n++
		}
	}
	if n < 1 {
		t.Fatal("no completion reported the job complete")
	}
	job, _ := e.db.JobByID(context.Background(), j.JobID)
	var got protocol.JobResult
	if err := jsonUnmarshal(job.Result, &got); err != nil || job.Status != protocol.StatusCompleted {
		t.Fatalf("job %+v %v", job, err)
	}
	want := summarize(all)
	rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Abs(b) }
	if got.TotalIterations != 7321 || got.ChunksCompleted != 8 || job.CompletedIterations != 7321 {
		t.Fatalf("counts %+v, completed_iterations %d", got, job.CompletedIterations)
	}
	if got.MinDps != want.MinDps || got.MaxDps != want.MaxDps || rel(got.MeanDps, want.MeanDps) > 1e-9 || rel(got.StdDps, want.StdDps) > 1e-9 {
		t.Fatalf("result %+v, want %+v", got, want)
	}
}

func TestFailThreeTimesFailsJob(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	a := e.onlineNode(u.ID, 2, 2)
	j := e.job(u.ID, 2000, AccessPrivate)
	for attempt := 1; attempt <= 3; attempt++ {
		e.schedule()
		c := e.chunks(j.JobID)[0]
		if c.NodeID != a.id || c.Status != protocol.StatusRunning {
			t.Fatalf("attempt %d: chunk %+v", attempt, c)
		}
		var resp protocol.FailResponse
		if st, body := a.call(protocol.PathFail, protocol.FailRequest{ChunkID: c.ID, Error: "engine exploded"}, &resp); st != 200 {
			t.Fatalf("fail: %d %s", st, body)
		}
		if resp.Requeued != (attempt < 3) {
			t.Fatalf("attempt %d: requeued %v", attempt, resp.Requeued)
		}
	}
	job, _ := e.db.JobByID(context.Background(), j.JobID)
	if job.Status != protocol.StatusFailed || job.Error != "engine exploded" {
		t.Fatalf("job %+v", job)
	}
	for _, c := range e.chunks(j.JobID) {
		if c.Status != protocol.StatusFailed || c.LastError == "" {
			t.Fatalf("chunk %+v", c)
		}
	}
	if n := e.schedule(); n != 0 {
		t.Fatalf("assigned %d chunks of a failed job", n)
	}
}

func TestReleaseIsNotAFailure(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	a := e.onlineNode(u.ID, 1, 1)
	j := e.job(u.ID, 100, AccessPrivate)
	e.schedule()
	c := e.chunkOn(j.JobID, a.id)
	var resp protocol.ReleaseResponse
	if st, body := a.call(protocol.PathRelease, protocol.ReleaseRequest{ChunkID: c.ID}, &resp); st != 200 || !resp.Released {
		t.Fatalf("release: %d %s", st, body)
	}
	got, _ := e.db.ChunkByID(context.Background(), c.ID)
	if got.Status != protocol.StatusPending || got.Attempts != 0 || got.NodeID != "" {
		t.Fatalf("released chunk %+v", got)
	}
}

// TestTwoInstancesAssignOnce runs two services on one database, each with
// its own connection pool, scheduling concurrently for 50 nodes and 200
// chunks: every chunk is assigned exactly once, no node beyond capacity.
func TestTwoInstancesAssignOnce(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	nodes := map[string]bool{}
	for range 50 {
		nodes[e.onlineNode(u.ID, 4, 4).id] = true
	}
	other := e.instance(openStore(t, e.dsn))
	var jobs []string
	for range 4 {
		jobs = append(jobs, e.job(u.ID, 50_000, AccessPrivate).JobID)
	}
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, svc := range []*Service{e.svc, other} {
		wg.Go(func() {
			for range 5 {
				n, err := svc.Schedule(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				counts[i] += n
			}
		})
	}
	wg.Wait()
	if counts[0]+counts[1] != 200 {
		t.Fatalf("assigned %v, want 200 in total", counts)
	}
	perNode := map[string]int{}
	for _, j := range jobs {
		for _, c := range e.chunks(j) {
			if c.Status != protocol.StatusRunning || !nodes[c.NodeID] {
				t.Fatalf("chunk %+v", c)
			}
			perNode[c.NodeID]++
		}
	}
	for id, n := range perNode {
		if n > 4 {
			t.Fatalf("node %s runs %d chunks", id, n)
		}
	}
	var assigned int
	e.dbQueryRow("SELECT count(*) FROM jobs_chunks WHERE status = 'running'").Scan(&assigned)
	if assigned != 200 {
		t.Fatalf("%d running", assigned)
	}
}

// The capacity a node heartbeats limits what it is given: 0 (paused) gets
// nothing, a smaller count fewer, none (an original node) only
// max_parallel and its cores; a bad one is refused and changes nothing.
func TestHeartbeatCapacityLimitsAssignment(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	a := e.onlineNode(u.ID, 8, 4)
	capacity := func(n int) *int { return &n }
	beat := func(c *int) (int, string) {
		return a.call(protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: protocol.NodeOnline, Capacity: c}, nil)
	}
	if st, body := beat(capacity(0)); st != 200 {
		t.Fatalf("heartbeat: %d %s", st, body)
	}
	j := e.job(u.ID, 20_000, AccessPrivate)
	if n := e.schedule(); n != 0 {
		t.Fatalf("a paused node was given %d chunks", n)
	}
	for _, bad := range []string{`{"status":"online","capacity":-1}`, `{"status":"online","capacity":5000}`, `{"status":"online","capacity":"2"}`, `{"status":"online","capacity":1.5}`} {
		if st, body := a.call(protocol.PathHeartbeat, json.RawMessage(bad), nil); st != 400 {
			t.Errorf("heartbeat %s: %d %s", bad, st, body)
		}
	}
	if n := e.schedule(); n != 0 {
		t.Fatalf("after refused heartbeats the paused node was given %d chunks", n)
	}
	beat(capacity(1)) // one worker and its queued chunk
	if n := e.schedule(); n != 2 {
		t.Fatalf("capacity 1: assigned %d, want 2", n)
	}
	beat(nil) // no capacity: max_parallel 4 bounds it, 4 + 4
	if n := e.schedule(); n != 6 {
		t.Fatalf("no capacity: assigned %d more, want 6", n)
	}
	if got := e.running(j.JobID)[a.id]; got != 8 {
		t.Fatalf("running %d, want 8", got)
	}
}
