package sentinel

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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
	got := plan(work, nodes, 100, DefaultChunkTarget, time.Time{})
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
	if got := plan(pub, nodes, 3, DefaultChunkTarget, time.Time{}); len(got) != 3 || got[0].NodeID != "c" {
		t.Fatalf("limited public plan %v", got)
	}
	if got := plan(pub, nodes, 1000, DefaultChunkTarget, time.Time{}); len(got) != 4+1+16 {
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

func TestChunkIterations(t *testing.T) {
	for _, tc := range []struct {
		max  int
		tp   float64
		want int
	}{
		{0, 0, protocol.ChunkSize},                            // announces nothing
		{0, 160_000, protocol.ChunkSize},                      // a throughput without an offer
		{10_000_000, 0, protocol.ChunkSize},                   // no throughput measured yet
		{10_000_000, 160_000, 2_400_000},                      // 15 s of its throughput
		{1_000_000, 160_000, 1_000_000},                       // at most its largest chunk
		{10_000_000, 10, protocol.ChunkSize},                  // at least the protocol's size
		{10_000_000, 1e9, 10_000_000},                         // however fast it says it is
		{protocol.ChunkSize - 1, 160_000, protocol.ChunkSize}, // an offer below the protocol's size is none
	} {
		n := store.NodeLoad{ChunkMax: tc.max, Throughput: tc.tp}
		if got := ChunkIterations(n, DefaultChunkTarget); got != tc.want {
			t.Errorf("ChunkIterations(max %d, %g it/s) = %d, want %d", tc.max, tc.tp, got, tc.want)
		}
	}
}

// A node announcing sized chunks is given two chunks of 15 s of its
// throughput; a node announcing nothing keeps chunks of 1000, two per
// worker; bad offers are refused; a steady throughput is not written again.
func TestSizedChunks(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	fixed := e.onlineNode(u.ID, 2, 2)
	sized := e.newNode()
	reg := sized.register(8)
	if _, err := e.db.ClaimNode(t.Context(), store.Claim{NodeID: reg.ID, UserID: u.ID, MaxParallel: ptr(8)}); err != nil {
		t.Fatal(err)
	}
	sized.id = reg.ID
	beat := func(o *protocol.ChunkOffer) (int, string) {
		return sized.call(protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: protocol.NodeOnline, Chunks: o}, nil)
	}
	for _, bad := range []protocol.ChunkOffer{
		{MaxIterations: 999, Throughput: 1},
		{MaxIterations: protocol.MaxChunkIterations + 1, Throughput: 1},
		{MaxIterations: 1_000_000, Throughput: -1},
		{MaxIterations: 1_000_000, Throughput: 2e9},
	} {
		if code, body := beat(&bad); code != 400 || !strings.Contains(body, "chunks.") {
			t.Errorf("offer %+v: %d %s", bad, code, body)
		}
	}
	if code, body := beat(&protocol.ChunkOffer{MaxIterations: 5_000_000, Throughput: 160_000}); code != 200 {
		t.Fatalf("heartbeat: %d %s", code, body)
	}
	j := e.job(u.ID, 100_000_000, AccessPrivate)
	if got := e.schedule(); got != 4+2 {
		t.Fatalf("scheduled %d chunks, want 4 for the fixed node and 2 for the sized one", got)
	}
	per := map[string][]int{}
	for _, c := range e.chunks(j.JobID) {
		per[c.NodeID] = append(per[c.NodeID], c.Iterations)
	}
	if fmt.Sprint(per[fixed.id]) != "[1000 1000 1000 1000]" || fmt.Sprint(per[sized.id]) != "[2400000 2400000]" {
		t.Fatalf("chunk sizes per node: %v", per)
	}
	n, err := e.db.NodeByID(t.Context(), sized.id)
	if err != nil || n.ChunkMax != 5_000_000 || n.Throughput != 160_000 {
		t.Fatalf("stored offer %+v, %v", n, err)
	}
	// Within 10%: not stored again. Taken back: sized no more.
	beat(&protocol.ChunkOffer{MaxIterations: 5_000_000, Throughput: 170_000})
	if n, _ := e.db.NodeByID(t.Context(), sized.id); n.Throughput != 160_000 {
		t.Fatalf("a throughput 6%% away was stored: %v", n.Throughput)
	}
	beat(nil)
	if n, _ := e.db.NodeByID(t.Context(), sized.id); n.ChunkMax != 0 || n.Throughput != 0 {
		t.Fatalf("offer kept after a heartbeat without it: %+v", n)
	}
}

// A job smaller than the fleet's chunks is spread over the fleet: each of
// four sized nodes gets a quarter, not the first node all of it.
func TestPlanSpreadsSmallJobs(t *testing.T) {
	var nodes []store.NodeLoad
	for i := range 4 {
		nodes = append(nodes, store.NodeLoad{ID: fmt.Sprint(i), UserID: "u", MaxParallel: 8, TotalCores: 8, ChunkMax: 10_000_000, Throughput: 160_000})
	}
	got := plan([]store.PendingChunk{{JobID: "j", JobOwner: "u", AccessType: AccessPrivate, Iterations: 4_000_000}}, nodes, 100, DefaultChunkTarget, time.Time{})
	if len(got) != 4 {
		t.Fatalf("plan %v, want one chunk per node", got)
	}
	for _, a := range got {
		if a.Iterations != 1_000_000 {
			t.Fatalf("plan %v, want 1000000 each", got)
		}
	}
}

// Near a job's end a sized node's chunk takes it as long as the rest takes
// all the eligible sized nodes, in proportion to its throughput, so the
// nodes finish together; far from it, chunks are of the target duration;
// none is shorter than an eighth of the target.
func TestPlanShrinksChunksNearTheEnd(t *testing.T) {
	nodes := []store.NodeLoad{
		{ID: "slow", UserID: "u", MaxParallel: 8, TotalCores: 8, ChunkMax: 100_000_000, Throughput: 100_000},
		{ID: "fast", UserID: "u", MaxParallel: 8, TotalCores: 8, ChunkMax: 100_000_000, Throughput: 300_000},
		{ID: "fixed", UserID: "u", MaxParallel: 1, TotalCores: 8},
	}
	sizes := func(rest int) map[string][]int {
		got := map[string][]int{}
		for _, a := range plan([]store.PendingChunk{{JobID: "j", JobOwner: "u", AccessType: AccessPrivate, Iterations: rest}}, nodes, 100, 16*time.Second, time.Time{}) {
			got[a.NodeID] = append(got[a.NodeID], a.Iterations)
		}
		return got
	}
	for _, tc := range []struct {
		rest             int
		slow, fast, fixd []int
	}{
		// 4e6 at 400 000 per second: 10 s of the sized nodes, shared in
		// proportion; nothing is left for the second slots.
		{4_000_000, []int{1_000_000}, []int{3_000_000}, nil},
		// Far from the end: 16 s chunks, and the fixed node's 1000s.
		{1_000_000_000, []int{1_600_000, 1_600_000}, []int{4_800_000, 4_800_000}, []int{1000, 1000}},
		// 400 000 is 1 s of them: chunks of the floor, 2 s, and the rest.
		{400_000, []int{200_000}, []int{200_000}, nil},
	} {
		got := sizes(tc.rest)
		if !slices.Equal(got["slow"], tc.slow) || !slices.Equal(got["fast"], tc.fast) || !slices.Equal(got["fixed"], tc.fixd) {
			t.Errorf("rest %d: %v, want slow %v, fast %v, fixed %v", tc.rest, got, tc.slow, tc.fast, tc.fixd)
		}
	}
}

// A row a node held before goes whole to a node that takes it whole, even
// one that announced no throughput yet (just restarted): split, it would
// name other iterations than the result its earlier holder may deliver. A
// node of fixed chunks still gets its 1000 of it.
func TestPlanGivesHeldRowsWhole(t *testing.T) {
	held := []store.PendingChunk{{ID: "c", JobID: "j", JobOwner: "u", AccessType: AccessPrivate, Iterations: 58_000, Held: true}}
	sized := store.NodeLoad{ID: "n", UserID: "u", MaxParallel: 2, TotalCores: 2, ChunkMax: 50_000_000}
	if got := plan(held, []store.NodeLoad{sized}, 100, DefaultChunkTarget, time.Time{}); len(got) != 1 || got[0].Iterations != 58_000 {
		t.Fatalf("held row to a sized node: %v", got)
	}
	fresh := []store.PendingChunk{{ID: "c", JobID: "j", JobOwner: "u", AccessType: AccessPrivate, Iterations: 58_000}}
	if got := plan(fresh, []store.NodeLoad{sized}, 100, DefaultChunkTarget, time.Time{}); len(got) != 1 || got[0].Iterations != 1000 {
		t.Fatalf("a row never held, to a node of no throughput yet: %v", got)
	}
	fixed := store.NodeLoad{ID: "f", UserID: "u", MaxParallel: 2, TotalCores: 2}
	if got := plan(held, []store.NodeLoad{fixed}, 100, DefaultChunkTarget, time.Time{}); len(got) != 1 || got[0].Iterations != 1000 {
		t.Fatalf("held row to a fixed node: %v", got)
	}
}

// A sized node's held chunks count towards the job's end: near it, a node
// that holds work past that end gets none and the idle nodes take the
// rest, instead of the work queuing behind a long chunk.
func TestPlanCountsTheWorkNodesHold(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	sized := func(id string) store.NodeLoad {
		return store.NodeLoad{ID: id, UserID: "u", MaxParallel: 8, TotalCores: 8, ChunkMax: 100_000_000, Throughput: 100_000}
	}
	idle, busy := sized("idle"), sized("busy")
	busy.Running, busy.Held, busy.LastClaimed, busy.LastIterations = 1, 1_600_000, now.Add(-4*time.Second), 1_600_000
	job := func(n int) []store.PendingChunk {
		return []store.PendingChunk{{JobID: "j", JobOwner: "u", AccessType: AccessPrivate, Iterations: n}}
	}
	sizes := func(rest int) map[string][]int {
		got := map[string][]int{}
		for _, a := range plan(job(rest), []store.NodeLoad{idle, busy}, 100, 16*time.Second, now) {
			got[a.NodeID] = append(got[a.NodeID], a.Iterations)
		}
		return got
	}
	// 1e6 and the busy node's 16 s end together in 13 s: the idle node
	// takes it all and is done in 10 s, the busy node in its 16 s.
	if got := sizes(1_000_000); !slices.Equal(got["idle"], []int{1_000_000}) || got["busy"] != nil {
		t.Errorf("rest 1e6: %v, want all on the idle node", got)
	}
	// 5e6: an end 33 s away; chunks of the 16 s target on both, the idle
	// node's two first.
	if got := sizes(5_000_000); !slices.Equal(got["idle"], []int{1_600_000, 1_600_000}) || !slices.Equal(got["busy"], []int{1_600_000}) {
		t.Errorf("rest 5e6: %v", got)
	}
}

// A node holding a queued chunk runs the older one since about when the
// latest was given to it, up to all but the latest; holding one chunk,
// none of it counts as run.
func TestHeldLeft(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	n := store.NodeLoad{ChunkMax: 100_000_000, Throughput: 100_000, Running: 2, Held: 3_200_000, LastIterations: 1_600_000}
	for _, tc := range []struct {
		running int
		ago     time.Duration
		want    float64
	}{
		{2, 4 * time.Second, 2_800_000},
		{2, 40 * time.Second, 1_600_000},
		{2, -time.Second, 3_200_000}, // a clock step back counts nothing as run
		{1, 4 * time.Second, 3_200_000},
	} {
		n.Running, n.LastClaimed = tc.running, now.Add(-tc.ago)
		if got := heldLeft(n, now); got != tc.want {
			t.Errorf("running %d, given %v ago: %v left, want %v", tc.running, tc.ago, got, tc.want)
		}
	}
	if got := heldLeft(store.NodeLoad{Running: 2, Held: 2000}, now); got != 0 {
		t.Errorf("fixed-chunk node: %v left, want 0", got)
	}
}
