package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"wowlab/node/policy"
	"wowlab/protocol"
)

// latchSim stands in for the engine: every run reports its seed offset on
// started and waits until the test opens its latch (then it succeeds) or
// its context ends.
type latchSim struct {
	started chan int
	mu      sync.Mutex
	latches map[int]chan struct{}
}

func newLatchSim() *latchSim {
	return &latchSim{started: make(chan int, 100), latches: map[int]chan struct{}{}}
}

func (g *latchSim) latch(offset int) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, ok := g.latches[offset]
	if !ok {
		ch = make(chan struct{})
		g.latches[offset] = ch
	}
	return ch
}

// open lets the runs at offsets finish (an open latch stays open).
func (g *latchSim) open(offsets ...int) {
	for _, o := range offsets {
		ch := g.latch(o)
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
}

func (g *latchSim) run(ctx context.Context, r simRun) (protocol.ChunkResult, error) {
	g.started <- r.offset
	r.progress(1)
	select {
	case <-g.latch(r.offset):
		r.progress(r.n)
		return fakeResult(r.offset, r.n), nil
	case <-ctx.Done():
		return protocol.ChunkResult{}, fmt.Errorf("offset %d: %w", r.offset, ctx.Err())
	}
}

// waitStarted returns the offsets of the next n runs to start.
func (g *latchSim) waitStarted(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	timeout := time.After(60 * time.Second)
	for len(out) < n {
		select {
		case o := <-g.started:
			out = append(out, o)
		case <-timeout:
			t.Fatalf("only %d of %d runs started (%v)", len(out), n, out)
		}
	}
	sort.Ints(out)
	return out
}

// noneStarted checks that no run started beyond those received.
func (g *latchSim) noneStarted(t *testing.T) {
	t.Helper()
	select {
	case o := <-g.started:
		t.Fatalf("the chunk at offset %d started", o)
	default:
	}
}

// controlNode starts a claimed node with a latchSim on cores cores (the
// sentinel's max_parallel does not limit it) and waits for its chunk
// subscription.
func controlNode(t *testing.T, cores int) (*testNode, *backend, *latchSim, string) {
	t.Helper()
	b, hash := claimedBackend(t)
	b.set(func(b *backend) { b.maxParallel = 16 })
	sim := newLatchSim()
	n := startNode(t, b, "", func(o *Options) {
		o.sim = sim
		o.Host = Host{Hostname: "test-host", TotalCores: 8, EnabledCores: 8, Platform: "linux-x86_64"}
		o.Policy = policy.Overrides{"cores": fmt.Sprint(cores), "pause_on_battery": "false"}
		// Only the heartbeats a change of capacity sends at once count.
		o.Intervals.Heartbeat = time.Hour
	})
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	n.waitEvent(t, "running", isPhase(Running))
	return n, b, sim, hash
}

// pushChunks assigns chunks at the given seed offsets over Realtime.
func pushChunks(b *backend, hash string, offsets ...int) {
	for _, o := range offsets {
		b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid(fmt.Sprint("chunk", o)), hash, 5, o))
	}
}

func waitCapacity(t *testing.T, b *backend, want int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("a heartbeat with capacity %d", want), func() bool { return b.lastCapacity() == want })
}

// outcomes collects what happened to chunks until every one in want has
// an outcome: completed or released. A chunk with two outcomes, or one
// failed, fails the test.
func (n *testNode) outcomes(t *testing.T, want ...int) map[int]EventKind {
	t.Helper()
	byID := map[string]int{}
	for _, o := range want {
		byID[cid(fmt.Sprint("chunk", o))] = o
	}
	got := map[int]EventKind{}
	for len(got) < len(want) {
		e := n.waitEvent(t, "chunk outcomes", func(e Event) bool {
			return e.Kind == ChunkCompleted || e.Kind == ChunkReleased || e.Kind == ChunkFailed
		})
		o, ok := byID[e.Chunk.ID]
		if !ok {
			t.Fatalf("outcome %v of an unknown chunk %s", e.Kind, e.Chunk.ID)
		}
		if e.Kind == ChunkFailed {
			t.Fatalf("chunk %d failed: %v", o, e.Err)
		}
		if prev, seen := got[o]; seen {
			t.Fatalf("chunk %d: %v after %v", o, e.Kind, prev)
		}
		got[o] = e.Kind
	}
	return got
}

func TestCoreSetCoresGrowsAndShrinksWithChunksRunning(t *testing.T) {
	n, b, sim, hash := controlNode(t, 2)
	waitCapacity(t, b, 2)
	pushChunks(b, hash, 0, 1, 2, 3, 4, 5)
	if got := sim.waitStarted(t, 2); len(got) != 2 {
		t.Fatalf("started %v", got)
	}
	waitUntil(t, "six chunks held", func() bool { return n.core.Stats().ActiveChunks == 6 })
	sim.noneStarted(t)

	// Growing starts two more at once and tells the sentinel.
	if err := n.core.SetCores(4); err != nil {
		t.Fatal(err)
	}
	sim.waitStarted(t, 2)
	waitCapacity(t, b, 4)
	if s := n.core.Stats(); s.MaxWorkers != 4 || s.BusyWorkers != 4 {
		t.Fatalf("after growing: %d of %d workers busy", s.BusyWorkers, s.MaxWorkers)
	}

	// Shrinking lets the four running chunks finish; none is cut off and
	// no queued one starts until fewer than one run.
	if err := n.core.SetCores(1); err != nil {
		t.Fatal(err)
	}
	waitCapacity(t, b, 1)
	var running []int
	for _, p := range n.core.Chunks() {
		if p.Running {
			running = append(running, p.Chunk.SeedOffset)
		}
	}
	if len(running) != 4 {
		t.Fatalf("running after shrinking: %v", running)
	}
	sim.open(running[:3]...)
	waitUntil(t, "three completions", func() bool { return n.core.Stats().CompletedChunks == 3 })
	sim.noneStarted(t)
	sim.open(running[3])
	sim.waitStarted(t, 1) // the fourth finished: one worker, one chunk
	waitUntil(t, "one more completion", func() bool { return n.core.Stats().CompletedChunks == 4 })
	sim.noneStarted(t)
	sim.open(0, 1, 2, 3, 4, 5)
	got := n.outcomes(t, 0, 1, 2, 3, 4, 5)
	for o, k := range got {
		if k != ChunkCompleted {
			t.Errorf("chunk %d: %v", o, k)
		}
	}
	saved, err := LoadPolicy(n.dir)
	if err != nil || saved.Cores != 1 {
		t.Fatalf("config.ini holds cores %d (%v), want 1", saved.Cores, err)
	}
	if err := n.core.SetCores(-1); err == nil {
		t.Fatal("SetCores(-1) accepted")
	}
	var ke *policy.KeyError
	if err := n.core.UpdateSettings(policy.Overrides{"cores": "many"}); !errors.As(err, &ke) || ke.Key != "cores" {
		t.Fatalf("bad cores: %v", err)
	}
	if saved, _ := LoadPolicy(n.dir); saved.Cores != 1 {
		t.Fatalf("a refused change was saved: cores %d", saved.Cores)
	}
}

func TestCorePauseHandsBackQueuedThenRunning(t *testing.T) {
	n, b, sim, hash := controlNode(t, 2)
	pushChunks(b, hash, 0, 1, 2)
	sim.waitStarted(t, 2)
	waitUntil(t, "three chunks held", func() bool { return n.core.Stats().ActiveChunks == 3 })

	// Pause: the queued chunk goes back at once, the running ones go on.
	if err := n.core.Pause(false); err != nil {
		t.Fatal(err)
	}
	e := n.waitEvent(t, "paused", isPhase(Paused))
	if e.State.Reason != policy.RuleUser || e.State.String() != "paused (your pause)" {
		t.Fatalf("paused state %+v", e.State)
	}
	waitCapacity(t, b, 0)
	n.waitEvent(t, "the queued chunk released", func(e Event) bool { return e.Kind == ChunkReleased && e.Chunk.ID == cid("chunk2") })
	if s := n.core.Stats(); s.ActiveChunks != 2 || s.BusyWorkers != 2 {
		t.Fatalf("after pause: %+v", s)
	}
	// A chunk assigned while paused is handed back, not run.
	pushChunks(b, hash, 3)
	n.waitEvent(t, "the late chunk released", func(e Event) bool { return e.Kind == ChunkReleased && e.Chunk.ID == cid("chunk3") })

	// Pause now: the running ones are handed back too, none is lost.
	if err := n.core.Pause(true); err != nil {
		t.Fatal(err)
	}
	got := n.outcomes(t, 0, 1)
	for o, k := range got {
		if k != ChunkReleased {
			t.Errorf("chunk %d: %v, want released", o, k)
		}
	}
	if s := n.core.Stats(); s.ActiveChunks != 0 || s.BusyWorkers != 0 || len(n.core.Chunks()) != 0 {
		t.Fatalf("after pause now: %+v, chunks %v", s, n.core.Chunks())
	}
	if s := n.core.Stats(); s.CompletedChunks != 0 || s.FailedChunks != 0 {
		t.Fatalf("chunks counted: %+v", s)
	}

	// Resume: work again, and the sentinel hears so.
	if err := n.core.Resume(); err != nil {
		t.Fatal(err)
	}
	n.waitEvent(t, "running again", isPhase(Running))
	waitCapacity(t, b, 2)
	pushChunks(b, hash, 4)
	sim.waitStarted(t, 1)
	sim.open(4)
	if got := n.outcomes(t, 4); got[4] != ChunkCompleted {
		t.Fatalf("after resume: %v", got)
	}
}

// A rule of the policy pauses with its reason, and the sentinel hears of
// it; changing the setting at run time undoes it.
func TestCorePolicyPauseReason(t *testing.T) {
	n, b, _, _ := controlNode(t, 2)
	// A window two days from now: closed now (and for the next day).
	day := [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[(time.Now().Weekday()+2)%7]
	if err := n.core.UpdateSettings(policy.Overrides{"schedule": day + " all day"}); err != nil {
		t.Fatal(err)
	}
	if st := n.core.State(); st.Phase != Paused || st.Reason != policy.RuleSchedule {
		t.Fatalf("state %+v, want paused by the schedule", st)
	}
	waitCapacity(t, b, 0)
	if saved, err := LoadPolicy(n.dir); err != nil || saved.Schedule.IsZero() {
		t.Fatalf("schedule not saved: %v %v", saved.Schedule, err)
	}
	if err := n.core.UpdateSettings(policy.Overrides{"schedule": ""}); err != nil {
		t.Fatal(err)
	}
	if st := n.core.State(); st.Phase != Running {
		t.Fatalf("state %v after the schedule was cleared", st)
	}
	waitCapacity(t, b, 2)
}

func TestCoreFinishRunsWhatItHoldsThenStops(t *testing.T) {
	n, b, sim, hash := controlNode(t, 2)
	pushChunks(b, hash, 0, 1, 2)
	sim.waitStarted(t, 2)
	waitUntil(t, "three chunks held", func() bool { return n.core.Stats().ActiveChunks == 3 })
	if err := n.core.Finish(); err != nil {
		t.Fatal(err)
	}
	n.waitEvent(t, "finishing", isPhase(Finishing))
	waitCapacity(t, b, 0)
	if err := n.core.Finish(); !errors.Is(err, ErrFinishing) {
		t.Fatalf("second Finish: %v", err)
	}
	if err := n.core.Resume(); !errors.Is(err, ErrFinishing) {
		t.Fatalf("Resume while finishing: %v", err)
	}
	pushChunks(b, hash, 3) // assigned meanwhile: handed back
	n.waitEvent(t, "the late chunk released", func(e Event) bool { return e.Kind == ChunkReleased && e.Chunk.ID == cid("chunk3") })
	select {
	case err := <-n.done:
		t.Fatalf("Run returned (%v) with chunks held", err)
	default:
	}
	sim.open(0, 1, 2)
	got := n.outcomes(t, 0, 1, 2)
	for o, k := range got {
		if k != ChunkCompleted {
			t.Errorf("chunk %d: %v, want completed", o, k)
		}
	}
	select {
	case err := <-n.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		n.done <- nil
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return after the last chunk")
	}
	if st := n.core.State(); st.Phase != Finished {
		t.Fatalf("state %v", st)
	}
	if s := n.core.Stats(); s.CompletedChunks != 3 || s.FailedChunks != 0 {
		t.Fatalf("stats %+v", s)
	}
	if b.count(protocol.PathComplete) != 3 {
		t.Fatalf("%d completions sent, want 3", b.count(protocol.PathComplete))
	}
}

// Unlink finishes what the node holds, delivers its results and then
// forgets the identity: node_id and the key pair are gone, so the next
// start registers anew.
func TestCoreUnlinkForgetsTheIdentityOnceFinished(t *testing.T) {
	n, b, sim, hash := controlNode(t, 2)
	pushChunks(b, hash, 0)
	sim.waitStarted(t, 1)
	if err := n.core.Unlink(); err != nil {
		t.Fatal(err)
	}
	n.waitEvent(t, "finishing", isPhase(Finishing))
	if _, err := os.Stat(filepath.Join(n.dir, KeyFile)); err != nil {
		t.Fatalf("the key is gone while a chunk runs: %v", err)
	}
	sim.open(0)
	if got := n.outcomes(t, 0); got[0] != ChunkCompleted {
		t.Fatalf("the held chunk: %v, want completed", got[0])
	}
	if err := <-n.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	n.done <- nil
	if st := n.core.State(); st.Phase != Finished || !st.Unlinked || st.NodeID != "" || st.Err != "" || !strings.Contains(st.String(), "unlinked") {
		t.Fatalf("state %+v (%s), want finished and unlinked", st, st)
	}
	if _, err := os.Stat(filepath.Join(n.dir, KeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the key pair is still there: %v", err)
	}
	if cfg, err := LoadConfig(n.dir, nil); err != nil || cfg.NodeID != "" {
		t.Fatalf("config after unlinking: %+v, %v", cfg, err)
	}
}

// A result that cannot reach the sentinel keeps the identity it is signed
// with: the node finishes linked and says why.
func TestCoreUnlinkKeepsTheIdentityOfUndeliveredResults(t *testing.T) {
	b, hash := claimedBackend(t)
	b.set(func(b *backend) { b.maxParallel = 4 })
	sim := newLatchSim()
	n := startNode(t, b, "", func(o *Options) {
		o.sim = sim
		o.Intervals.Grace = 100 * time.Millisecond
		o.Intervals.Heartbeat = time.Hour
	})
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	n.waitEvent(t, "running", isPhase(Running))
	b.set(func(b *backend) { b.failStatus[protocol.PathComplete] = slices.Repeat([]int{503}, 1000) })
	pushChunks(b, hash, 0)
	sim.waitStarted(t, 1)
	if err := n.core.Unlink(); err != nil {
		t.Fatal(err)
	}
	sim.open(0)
	if err := <-n.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	n.done <- nil
	st := n.core.State()
	if st.Phase != Finished || st.Unlinked || st.NodeID != testNodeID || !strings.Contains(st.Err, "not unlinked: 1 results") || !strings.Contains(st.String(), "finished; not unlinked") {
		t.Fatalf("state %+v, want finished, still linked, with the reason", st)
	}
	if _, err := os.Stat(filepath.Join(n.dir, KeyFile)); err != nil {
		t.Fatalf("the key of an undelivered result is gone: %v", err)
	}
	if cfg, err := LoadConfig(n.dir, nil); err != nil || cfg.NodeID != testNodeID {
		t.Fatalf("config: %+v, %v", cfg, err)
	}
}
