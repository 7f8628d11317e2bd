package sentinel

import (
	"fmt"
	"testing"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

func TestPlanCarvesRangesAndSplitsRows(t *testing.T) {
	nodes := []store.NodeLoad{
		{ID: "a", UserID: "u", MaxParallel: 2, TotalCores: 2},             // capacity 4
		{ID: "b", UserID: "u", MaxParallel: 1, TotalCores: 1, Running: 1}, // capacity 2, 1 free
		{ID: "c", UserID: "other", MaxParallel: 8, TotalCores: 8},         // not eligible for private work of u
	}
	work := []store.PendingChunk{
		{ID: "row", JobID: "j1", JobOwner: "u", AccessType: AccessPrivate, Iterations: 5000}, // a returned 5000
		{JobID: "j2", JobOwner: "u", AccessType: AccessPrivate, Iterations: 2500},            // a job's rest
		{JobID: "j3", JobOwner: "u", AccessType: AccessPrivate, Iterations: 1_000_000},
	}
	got := plan(work, nodes, 100)
	want := []store.Assignment{
		{ChunkID: "row", JobID: "j1", NodeID: "a", Iterations: protocol.ChunkSize}, // split: the rest waits
		{JobID: "j2", NodeID: "a", Iterations: 1000},                               // most free first, ties to the earlier node
		{JobID: "j2", NodeID: "a", Iterations: 1000},
		{JobID: "j2", NodeID: "a", Iterations: 500}, // what is left
		{JobID: "j3", NodeID: "b", Iterations: 1000},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plan\n got %v\nwant %v", got, want)
	}
	// The limit bounds one pass; public work goes to any claimed node.
	pub := []store.PendingChunk{{JobID: "j4", JobOwner: "u", AccessType: AccessPublic, Iterations: 1 << 40}}
	if got := plan(pub, nodes, 3); len(got) != 3 || got[0].NodeID != "c" {
		t.Fatalf("limited public plan %v", got)
	}
	if got := plan(pub, nodes, 1000); len(got) != 4+1+16 {
		t.Fatalf("public plan gave %d chunks, want every free slot (21)", len(got))
	}
}

// A job of 10^9 iterations writes rows for the work handed out, not for
// its size: one node of 2 workers holds 4 chunks of 1000 and the job 4
// rows; its results complete the rows, new ones are carved in their
// place, and when the job fails nothing more is carved.
func TestHugeJobRowsFollowWork(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	n := e.onlineNode(u.ID, 2, 2)
	j := e.job(u.ID, 1_000_000_000, AccessPrivate)
	if got := e.schedule(); got != 4 {
		t.Fatalf("scheduled %d chunks, want 4 (2 workers and 2 queued)", got)
	}
	cs := e.chunks(j.JobID)
	if len(cs) != 4 {
		t.Fatalf("%d rows after the first pass", len(cs))
	}
	for k, c := range cs {
		if c.SeedOffset != k*protocol.ChunkSize || c.Iterations != protocol.ChunkSize || c.Status != protocol.StatusRunning {
			t.Fatalf("chunk %d: %+v", k, c)
		}
	}
	for _, c := range cs[:2] {
		var resp protocol.CompleteResponse
		if code, body := n.call(protocol.PathComplete, completeReq(c.ID, c.Iterations), &resp); code != 200 || !resp.Success || resp.JobComplete {
			t.Fatalf("complete: %d %s", code, body)
		}
	}
	if got := e.schedule(); got != 2 {
		t.Fatalf("refilled %d, want 2", got)
	}
	if cs := e.chunks(j.JobID); len(cs) != 6 || cs[5].SeedOffset != 5*protocol.ChunkSize {
		t.Fatalf("rows after refill: %d (last %+v)", len(cs), cs[len(cs)-1])
	}
	job, err := e.svc.Job(t.Context(), u.ID, j.JobID)
	if err != nil || job.CompletedIterations != 2000 || job.TotalIterations != 1_000_000_000 || job.Status != protocol.StatusRunning {
		t.Fatalf("progress %+v, %v", job, err)
	}
	for range protocol.MaxChunkAttempts {
		live := e.chunks(j.JobID)
		var fail protocol.FailResponse
		for _, c := range live {
			if c.Status == protocol.StatusRunning {
				n.call(protocol.PathFail, protocol.FailRequest{ChunkID: c.ID, Error: "poison"}, &fail)
				break
			}
		}
		e.schedule()
	}
	job, err = e.svc.Job(t.Context(), u.ID, j.JobID)
	if err != nil || job.Status != protocol.StatusFailed {
		t.Fatalf("job after a poison chunk: %+v, %v", job, err)
	}
	rows := len(e.chunks(j.JobID))
	if e.schedule() != 0 || len(e.chunks(j.JobID)) != rows || rows > 8 {
		t.Fatalf("a failed job has %d rows and is still carved", rows)
	}
}
