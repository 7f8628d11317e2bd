package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"wowlab/internal/clock"
	"wowlab/protocol"
	"wowlab/supabase"
)

const testNodeID = "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001"

// exampleConfig returns the bundled BM hunter example split the way the
// backend stores it: the config with a rotationId, and the rotation row.
func exampleConfig(t testing.TB) (hash string, config json.RawMessage, rot Rotation) {
	t.Helper()
	raw, err := os.ReadFile("../examples/bm_hunter.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	script := string(doc["rotation"])
	var s string
	if json.Unmarshal(doc["rotation"], &s) == nil {
		script = s // stored as a JSON string
	}
	sum := sha256.Sum256([]byte(script))
	rot = Rotation{ID: "0b5a3c1e-8d7f-4e26-9a51-3c2d1e0f9a88", Script: script, Checksum: hex.EncodeToString(sum[:])}
	delete(doc, "rotation")
	doc["rotationId"], _ = json.Marshal(rot.ID)
	config, _ = json.Marshal(doc)
	h := sha256.Sum256(config)
	return hex.EncodeToString(h[:]), config, rot
}

type testNode struct {
	core   *Core
	events <-chan Event
	cancel context.CancelFunc
	done   chan error
	dir    string
}

func fastIntervals() Intervals {
	return Intervals{
		Heartbeat: 50 * time.Millisecond, ClaimPoll: time.Hour, UnavailableStart: 20 * time.Millisecond,
		UnavailableMax: 80 * time.Millisecond, FetchRetry: 5 * time.Millisecond, Grace: 5 * time.Second,
		// The policies read nothing in these tests; a wait this long is
		// not mistaken for another on a fake clock.
		Policy: 3 * time.Hour,
	}
}

func startNode(t *testing.T, b *backend, dir string, mutate func(*Options)) *testNode {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	o := Options{
		ConfigDir:       dir,
		Overrides:       Overrides{APIURL: b.URL(), SentinelURL: b.URL(), AnonKey: testAnonKey},
		Version:         "test",
		Host:            Host{Hostname: "test-host", TotalCores: 4, EnabledCores: 4, Platform: "linux-x86_64"},
		Intervals:       fastIntervals(),
		RealtimeBackoff: supabase.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond, Jitter: time.Millisecond},
	}
	if mutate != nil {
		mutate(&o)
	}
	core, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := core.Subscribe(1024)
	ctx, cancel := context.WithCancel(context.Background())
	n := &testNode{core: core, events: events, cancel: cancel, done: make(chan error, 1), dir: dir}
	go func() { n.done <- core.Run(ctx) }()
	t.Cleanup(func() { n.stop(t) })
	return n
}

func (n *testNode) stop(t *testing.T) {
	t.Helper()
	n.cancel()
	select {
	case err := <-n.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		n.done <- nil
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// waitEvent returns the first event for which match is true.
func (n *testNode) waitEvent(t *testing.T, what string, match func(Event) bool) Event {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case e := <-n.events:
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s (state %v)", what, n.core.State())
		}
	}
}

func isPhase(p Phase) func(Event) bool {
	return func(e Event) bool { return e.Kind == StateChanged && e.State.Phase == p }
}

func chunkRow(id, hash string, iterations, offset int) map[string]any {
	return map[string]any{"id": id, "job_id": "j1", "node_id": testNodeID, "config_hash": hash, "iterations": iterations,
		"seed_offset": offset, "status": "running", "result": nil}
}

func TestCoreEndToEnd(t *testing.T) {
	b := newBackend(t)
	hash, config, rot := exampleConfig(t)
	b.set(func(b *backend) { b.configs[hash] = config; b.rotations[rot.ID] = rot })
	n := startNode(t, b, "", nil)

	reg := b.waitCall(t, protocol.PathRegister)
	var req protocol.RegisterRequest
	if err := json.Unmarshal(reg.body, &req); err != nil || req.Hostname != "test-host" || req.TotalCores != 4 || req.Platform != "linux-x86_64" || req.Version != "test" {
		t.Fatalf("register body %s", reg.body)
	}
	claiming := n.waitEvent(t, "claiming", isPhase(Claiming))
	if claiming.State.ClaimCode != n.core.Identity().ClaimCode() || claiming.State.NodeID != testNodeID {
		t.Fatalf("claiming state %+v", claiming.State)
	}
	if saved, _ := LoadConfig(n.dir, nil); saved.NodeID != testNodeID || saved.APIURL != b.URL() || saved.SentinelURL != b.URL() || saved.AnonKey != testAnonKey {
		t.Fatalf("saved config %+v (node id saved with the backend it belongs to)", saved)
	}
	b.waitSubscribed(t, "realtime:node:"+testNodeID)

	// The user claims the node: the row changes; ClaimPoll is an hour, so
	// only the realtime change can wake the node.
	b.set(func(b *backend) { b.claimed = true; b.maxParallel = 3 })
	b.push("realtime:node:"+testNodeID, "nodes", "UPDATE", map[string]any{"id": testNodeID, "user_id": "u1", "name": "test box", "max_parallel": 3})
	n.waitEvent(t, "claimed", func(e Event) bool { return e.Kind == Claimed })
	n.waitEvent(t, "running", isPhase(Running))
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	if got := n.core.Stats().MaxWorkers; got != 3 {
		t.Fatalf("workers %d, want max_parallel 3", got)
	}

	// Not an assignment: another status, another node.
	other := chunkRow(cid("c-other"), hash, 5, 0)
	other["node_id"] = "someone-else"
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", other)
	pending := chunkRow(cid("c-pending"), hash, 5, 0)
	pending["status"] = "pending"
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", pending)
	// The assignment, twice.
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("c1"), hash, 5, 1000))
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("c1"), hash, 5, 1000))

	done := b.waitCall(t, protocol.PathComplete)
	var cr protocol.CompleteRequest
	if err := json.Unmarshal(done.body, &cr); err != nil {
		t.Fatal(err)
	}
	if cr.ChunkID != cid("c1") || cr.Result.Validate(5) != nil || cr.Result.MeanDps <= 0 {
		t.Fatalf("complete body %s", done.body)
	}
	ev := n.waitEvent(t, "completed", func(e Event) bool { return e.Kind == ChunkCompleted })
	if ev.Chunk.ID != cid("c1") || ev.Result != cr.Result {
		t.Fatalf("completed event %+v", ev)
	}
	// The duplicate is ignored, even after completion.
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("c1"), hash, 5, 1000))
	b.waitCall(t, protocol.PathHeartbeat)
	b.waitCall(t, protocol.PathHeartbeat)
	st := n.core.Stats()
	if st.CompletedChunks != 1 || st.FailedChunks != 0 || st.Iterations != 5 || st.ActiveChunks != 0 {
		t.Fatalf("stats %+v", st)
	}
	b.mu.Lock()
	completes := 0
	for len(b.calls) > 0 {
		if c := <-b.calls; c.path == protocol.PathComplete {
			completes++
		}
	}
	b.mu.Unlock()
	if completes != 0 {
		t.Fatalf("%d more completions: the duplicate ran", completes)
	}
}

func TestCoreReRegistersWhenVerifyNotFound(t *testing.T) {
	b := newBackend(t)
	dir := t.TempDir()
	stale := "11111111-2222-4333-8444-555555555555"
	if err := SaveConfig(dir, Config{NodeID: stale, APIURL: b.URL(), SentinelURL: b.URL(), AnonKey: testAnonKey}); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, b, dir, nil)
	n.waitEvent(t, "verifying", isPhase(Verifying))
	b.waitCall(t, protocol.PathVerify)
	b.waitCall(t, protocol.PathRegister)
	n.waitEvent(t, "claiming", isPhase(Claiming))
	if saved, _ := LoadConfig(dir, nil); saved.NodeID != testNodeID {
		t.Fatalf("saved node id %q, want the new %q", saved.NodeID, testNodeID)
	}
}

func TestCoreClaimFallbackPoll(t *testing.T) {
	b := newBackend(t)
	n := startNode(t, b, "", func(o *Options) { o.Intervals.ClaimPoll = 10 * time.Millisecond })
	n.waitEvent(t, "claiming", isPhase(Claiming))
	b.set(func(b *backend) { b.claimed = true })
	n.waitEvent(t, "running", isPhase(Running))
}

func TestCoreUnavailableBacksOff(t *testing.T) {
	b := newBackend(t)
	b.set(func(b *backend) { b.failStatus[protocol.PathRegister] = []int{500, 502, 503, 500} })
	n := startNode(t, b, "", nil)
	var delays []time.Duration
	for len(delays) < 4 {
		e := n.waitEvent(t, "unavailable", isPhase(Unavailable))
		delays = append(delays, e.State.RetryIn)
		if !strings.Contains(e.State.Err, "temporarily broken") {
			t.Fatalf("state error %q", e.State.Err)
		}
	}
	want := []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 80 * time.Millisecond}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("delays %v, want %v", delays, want)
		}
	}
	n.waitEvent(t, "claiming after recovery", isPhase(Claiming))
}

// RetryNow ends an hour-long wait for the sentinel at once.
func TestCoreRetryNow(t *testing.T) {
	b := newBackend(t)
	b.set(func(b *backend) { b.failStatus[protocol.PathRegister] = []int{500} })
	n := startNode(t, b, "", func(o *Options) {
		o.Intervals.UnavailableStart, o.Intervals.UnavailableMax = time.Hour, time.Hour
	})
	n.waitEvent(t, "unavailable", isPhase(Unavailable))
	n.core.RetryNow()
	n.waitEvent(t, "claiming after the retry", isPhase(Claiming))
}

func TestCoreUnavailableResetsAfterSuccess(t *testing.T) {
	b := newBackend(t)
	b.set(func(b *backend) { b.claimed = true; b.failStatus[protocol.PathRegister] = []int{500, 500} })
	n := startNode(t, b, "", nil)
	n.waitEvent(t, "running", isPhase(Running))
	// The next outage (heartbeats fail, then verify) starts again at the first delay.
	b.set(func(b *backend) { b.failStatus[protocol.PathHeartbeat] = []int{503} })
	e := n.waitEvent(t, "unavailable", isPhase(Unavailable))
	if e.State.RetryIn != 20*time.Millisecond {
		t.Fatalf("retry in %v after a success, want the first delay", e.State.RetryIn)
	}
	n.waitEvent(t, "running again", isPhase(Running))
}

func claimedBackend(t *testing.T) (*backend, string) {
	b := newBackend(t)
	hash, config, rot := exampleConfig(t)
	b.set(func(b *backend) {
		b.configs[hash] = config
		b.rotations[rot.ID] = rot
		b.claimed = true
	})
	return b, hash
}

func TestCoreResyncPicksUpMissedChunk(t *testing.T) {
	b, hash := claimedBackend(t)
	// Assigned while the node was away: only the resync query shows it.
	b.set(func(b *backend) {
		b.running = []Chunk{{ID: cid("missed"), Iterations: 3, ConfigHash: hash, SeedOffset: 0}}
	})
	n := startNode(t, b, "", nil)
	c := b.waitCall(t, protocol.PathComplete)
	var cr protocol.CompleteRequest
	if err := json.Unmarshal(c.body, &cr); err != nil || cr.ChunkID != cid("missed") || cr.Result.Iterations != 3 {
		t.Fatalf("complete %s", c.body)
	}
	// After a reconnect the resync lists it again: it is not run twice.
	b.set(func(b *backend) {
		b.running = append(b.running, Chunk{ID: cid("missed-2"), Iterations: 2, ConfigHash: hash, SeedOffset: 3})
	})
	b.dropSockets()
	c = b.waitCall(t, protocol.PathComplete)
	if err := json.Unmarshal(c.body, &cr); err != nil || cr.ChunkID != cid("missed-2") {
		t.Fatalf("second complete %s (the first chunk ran twice?)", c.body)
	}
	n.waitEvent(t, "second completion", func(e Event) bool { return e.Kind == ChunkCompleted && e.Chunk.ID == cid("missed-2") })
	if st := n.core.Stats(); st.CompletedChunks != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCoreReportsEngineRejection(t *testing.T) {
	b, _ := claimedBackend(t)
	bad := json.RawMessage(`{"player":{"name":"x","spec":"survival_warrior","stats":{}},"duration":300,"target":{},"rotation":"{}"}`)
	b.set(func(b *backend) {
		b.configs["badhash"] = bad
		b.running = []Chunk{{ID: cid("bad"), Iterations: 2, ConfigHash: "badhash"}, {ID: cid("missing"), Iterations: 2, ConfigHash: "nohash"}}
	})
	n := startNode(t, b, "", nil)
	got := map[string]string{}
	for len(got) < 2 {
		c := b.waitCall(t, protocol.PathFail)
		var fr protocol.FailRequest
		if err := json.Unmarshal(c.body, &fr); err != nil {
			t.Fatal(err)
		}
		got[fr.ChunkID] = fr.Error
	}
	if !strings.Contains(got[cid("bad")], "config") {
		t.Errorf("engine rejection reported as %q", got[cid("bad")])
	}
	if !strings.Contains(got[cid("missing")], "not found") {
		t.Errorf("missing config reported as %q", got[cid("missing")])
	}
	n.waitEvent(t, "failed", func(e Event) bool { return e.Kind == ChunkFailed })
}

// fakeSim stands in for the engine: its result is made from the seed
// offset (so a test tells chunks apart by offset), it counts runs per
// offset, and a run whose offset is blocked waits for the end of its ctx.
type fakeSim struct {
	mu      sync.Mutex
	runs    map[int]int
	threads map[int]int // of the last run, by offset
	blocked map[int]bool
	work    time.Duration // of computing per run, holding the gate
}

func newFakeSim(blocked ...int) *fakeSim {
	f := &fakeSim{runs: map[int]int{}, threads: map[int]int{}, blocked: map[int]bool{}}
	for _, o := range blocked {
		f.blocked[o] = true
	}
	return f
}

func (f *fakeSim) run(ctx context.Context, r simRun) (protocol.ChunkResult, error) {
	f.mu.Lock()
	f.runs[r.offset]++
	f.threads[r.offset] = r.threads
	blocked := f.blocked[r.offset]
	f.mu.Unlock()
	// Its work is done holding a slot of the gate, as the engine's is.
	if err := r.gate.Acquire(ctx); err != nil {
		return protocol.ChunkResult{}, err
	}
	defer r.gate.Release()
	if blocked {
		r.progress(1)
		<-ctx.Done()
		return protocol.ChunkResult{}, ctx.Err()
	}
	for start := time.Now(); time.Since(start) < f.work; {
		// computing, as the engine does while it holds its slot
	}
	r.progress(r.n)
	return fakeResult(r.offset, r.n), nil
}

// runsOf returns how often the chunk at offset ran.
func (f *fakeSim) runsOf(offset int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs[offset]
}

func fakeResult(offset, n int) protocol.ChunkResult {
	m := float64(100 + offset)
	if n == 1 {
		return protocol.ChunkResult{Iterations: 1, MeanDps: m, MinDps: m, MaxDps: m}
	}
	return protocol.ChunkResult{Iterations: n, MeanDps: m, StdDps: 1, MinDps: m - 1, MaxDps: m + 1}
}

func TestCoreDrainReleasesUnfinished(t *testing.T) {
	b, hash := claimedBackend(t)
	b.set(func(b *backend) {
		b.maxParallel = 1
		b.running = []Chunk{{ID: cid("long"), Iterations: 1000, ConfigHash: hash, SeedOffset: 0}, {ID: cid("queued"), Iterations: 5, ConfigHash: hash, SeedOffset: 1000}}
	})
	n := startNode(t, b, "", func(o *Options) { o.Intervals.Grace = 50 * time.Millisecond; o.sim = newFakeSim(0) })
	n.waitEvent(t, "assigned", func(e Event) bool { return e.Kind == ChunkAssigned && e.Chunk.ID == cid("queued") })
	waitUntil(t, "long running", func() bool { return n.core.Stats().Iterations > 0 })
	n.stop(t)
	released := map[string]bool{}
	for len(released) < 2 {
		var rr protocol.ReleaseRequest
		if err := json.Unmarshal(b.waitCall(t, protocol.PathRelease).body, &rr); err != nil {
			t.Fatal(err)
		}
		released[rr.ChunkID] = true
	}
	if !released[cid("long")] || !released[cid("queued")] {
		t.Fatalf("released %v", released)
	}
}

// The project's sentinel publishes no bootstrap: a node of it needs an
// anon key. Another sentinel's node may learn it there.
func TestNewRequiresAnonKey(t *testing.T) {
	_, err := New(Options{ConfigDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "anon") {
		t.Fatalf("err %v", err)
	}
	if _, err := New(Options{ConfigDir: t.TempDir(), Overrides: Overrides{SentinelURL: "http://127.0.0.1:1"}}); err != nil {
		t.Fatalf("a self-hosted sentinel's node without an anon key: %v", err)
	}
	if _, err := New(Options{}); err == nil {
		t.Fatal("no config dir accepted")
	}
	if _, err := New(Options{ConfigDir: t.TempDir(), Overrides: Overrides{APIURL: "ftp://x", AnonKey: "k"}}); err == nil {
		t.Fatal("bad override accepted")
	}
}

// cid names a chunk of a test with a UUID, as the sentinel does.
func cid(name string) string { return uuid.NewSHA1(uuid.NameSpaceURL, []byte(name)).String() }

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling a condition
	}
}

func TestCoreResizesPoolOnMaxParallelChange(t *testing.T) {
	b, _ := claimedBackend(t)
	n := startNode(t, b, "", nil)
	n.waitEvent(t, "running", isPhase(Running))
	if got := n.core.Stats().MaxWorkers; got != 2 {
		t.Fatalf("workers %d, want 2 from verify", got)
	}
	b.waitSubscribed(t, "realtime:node:"+testNodeID)
	b.set(func(b *backend) { b.maxParallel = 1 })
	b.push("realtime:node:"+testNodeID, "nodes", "UPDATE", map[string]any{"id": testNodeID, "user_id": "u1", "name": "renamed", "max_parallel": 1})
	waitUntil(t, "one worker", func() bool { return n.core.Stats().MaxWorkers == 1 })
	e := n.waitEvent(t, "rename", func(e Event) bool { return e.Kind == StateChanged && e.State.Name == "renamed" })
	if e.State.Phase != Running {
		t.Fatalf("state %+v", e.State)
	}
	// max_parallel above the enabled cores is capped by them. The backend
	// answers heartbeats with it too, or the next one would undo it.
	b.set(func(b *backend) { b.maxParallel = 64 })
	b.push("realtime:node:"+testNodeID, "nodes", "UPDATE", map[string]any{"id": testNodeID, "user_id": "u1", "name": "renamed", "max_parallel": 64})
	waitUntil(t, "four workers", func() bool { return n.core.Stats().MaxWorkers == 4 })
}

// A chunk larger than the node accepts, over Realtime or in a resync, is
// refused with /chunks/fail before anything runs, and the node keeps
// working.
func TestCoreRefusesOversizedChunks(t *testing.T) {
	b, hash := claimedBackend(t)
	b.set(func(b *backend) {
		b.running = []Chunk{{ID: cid("huge-resync"), Iterations: 1_000_000_000_000, ConfigHash: hash, SeedOffset: 0}}
	})
	sim := newFakeSim()
	n := startNode(t, b, "", func(o *Options) { o.sim = sim })
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("huge-realtime"), hash, MaxChunkIterations+1, 1000))
	refused := map[string]string{}
	for len(refused) < 2 {
		var fr protocol.FailRequest
		if err := json.Unmarshal(b.waitCall(t, protocol.PathFail).body, &fr); err != nil {
			t.Fatal(err)
		}
		refused[fr.ChunkID] = fr.Error
	}
	for _, id := range []string{cid("huge-resync"), cid("huge-realtime")} {
		if !strings.Contains(refused[id], fmt.Sprintf("accepts 1 to %d", MaxChunkIterations)) {
			t.Errorf("chunk %s refused with %q", id, refused[id])
		}
	}
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("normal"), hash, MaxChunkIterations, 2000))
	n.waitEvent(t, "completion", func(e Event) bool { return e.Kind == ChunkCompleted && e.Chunk.ID == cid("normal") })
	if sim.runsOf(0) != 0 || sim.runsOf(1000) != 0 {
		t.Fatal("an oversized chunk ran")
	}
}

// A sentinel that keeps sending the node back to the start (here: verify
// accepts it, every heartbeat is refused) is retried with backoff, not in
// a busy loop.
func TestCoreRestartsBackOff(t *testing.T) {
	b, _ := claimedBackend(t)
	b.set(func(b *backend) { b.failStatus[protocol.PathHeartbeat] = repeat(http.StatusNotFound, 1000) })
	clk := clock.NewFake(time.Now())
	startNode(t, b, "", func(o *Options) {
		o.Clock = clk
		o.Intervals.UnavailableStart, o.Intervals.UnavailableMax = 7*time.Second, 70*time.Second
	})
	// The first restart is at once; then 7 s, 14 s, 28 s.
	for k, wait := range []time.Duration{7 * time.Second, 14 * time.Second, 28 * time.Second} {
		waitWaiting(t, clk, wait, wait)
		if got := b.count(protocol.PathHeartbeat); got != k+2 {
			t.Fatalf("%d heartbeats before restart %d, want %d", got, k+2, k+2)
		}
		clk.Advance(wait)
		waitUntil(t, "the next heartbeat", func() bool { return b.count(protocol.PathHeartbeat) == k+3 })
	}
}

// A flood of assignments is bounded: the node holds at most
// maxInProgress chunks and says that it ignores the rest.
func TestCoreBoundsAssignments(t *testing.T) {
	b, hash := claimedBackend(t)
	b.set(func(b *backend) { b.maxParallel = 1 })
	var logs logBuffer
	var blocked []int
	for k := range 40 {
		blocked = append(blocked, k)
	}
	n := startNode(t, b, "", func(o *Options) {
		o.sim, o.Logger = newFakeSim(blocked...), logs.logger()
		o.Intervals.Grace = time.Millisecond
	})
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	limit := n.core.maxInProgress()
	for k := range limit + 4 {
		b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid(fmt.Sprint("c", k)), hash, 5, k))
	}
	waitUntil(t, "the warning", func() bool { return strings.Contains(logs.String(), "beyond what this node can hold") })
	if got := n.core.Stats().ActiveChunks; got != limit {
		t.Fatalf("%d chunks in progress, want the limit %d", got, limit)
	}
}

// A flood of node changes announcing a claim makes a claiming node verify
// at most every minClaimCheck.
func TestCoreClaimChecksAreSpaced(t *testing.T) {
	b := newBackend(t)
	clk := clock.NewFake(time.Now())
	n := startNode(t, b, "", func(o *Options) { o.Clock = clk })
	n.waitEvent(t, "claiming", isPhase(Claiming))
	b.waitSubscribed(t, "realtime:node:"+testNodeID)
	for range 50 {
		b.push("realtime:node:"+testNodeID, "nodes", "UPDATE", map[string]any{"id": testNodeID, "user_id": "u1", "name": "box", "max_parallel": 2})
	}
	waitWaiting(t, clk, minClaimCheck, minClaimCheck)
	if got := b.count(protocol.PathVerify); got != 1 {
		t.Fatalf("%d verifies before the first wait, want 1", got)
	}
	b.set(func(b *backend) { b.claimed = true })
	clk.Advance(minClaimCheck)
	n.waitEvent(t, "running", isPhase(Running))
	if got := b.count(protocol.PathVerify); got != 2 {
		t.Fatalf("%d verifies, want 2", got)
	}
}

// Failure reports of unusable assignments are limited while the sentinel
// is slow to answer them, so a flood of those assignments cannot pile up
// goroutines.
func TestCoreBoundsFailReports(t *testing.T) {
	b, hash := claimedBackend(t)
	block := make(chan struct{})
	b.set(func(b *backend) { b.blockChunk = block })
	n := startNode(t, b, "", func(o *Options) { o.sim = newFakeSim() })
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	for k := range 3 * maxFailReports {
		b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid(fmt.Sprint("bad", k)), hash, 0, k))
	}
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("marker"), hash, 5, 0))
	n.waitEvent(t, "the marker", func(e Event) bool { return e.Kind == ChunkAssigned && e.Chunk.ID == cid("marker") })
	waitUntil(t, "the reports in flight", func() bool { return b.count(protocol.PathFail) >= maxFailReports })
	if got := b.count(protocol.PathFail); got != maxFailReports {
		t.Fatalf("%d failure reports in flight, want at most %d", got, maxFailReports)
	}
	close(block)
	n.waitEvent(t, "the marker's completion", func(e Event) bool { return e.Kind == ChunkCompleted && e.Chunk.ID == cid("marker") })
}

// The node announces sized chunks with its registration and heartbeats
// (up to MaxChunkIterations, at the throughput it measured), and runs a
// chunk on as many goroutines as the computer has cores (the core gate
// lets those the policies allow simulate).
func TestCoreOffersSizedChunksAndRunsThemOnAllCores(t *testing.T) {
	b, hash := claimedBackend(t)
	sim := newFakeSim()
	n := startNode(t, b, "", func(o *Options) { o.sim = sim })
	for _, path := range []string{protocol.PathRegister, protocol.PathHeartbeat} {
		var req struct {
			Chunks *protocol.ChunkOffer `json:"chunks"`
		}
		if err := json.Unmarshal(b.waitCall(t, path).body, &req); err != nil {
			t.Fatal(err)
		}
		if req.Chunks == nil || req.Chunks.MaxIterations != MaxChunkIterations || req.Chunks.Validate() != nil {
			t.Fatalf("%s offers %+v", path, req.Chunks)
		}
	}
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "INSERT", chunkRow(cid("sized"), hash, 40_000, 5000))
	n.waitEvent(t, "completion", func(e Event) bool { return e.Kind == ChunkCompleted && e.Chunk.ID == cid("sized") })
	sim.mu.Lock()
	threads := sim.threads[5000]
	sim.mu.Unlock()
	if want := n.core.host.TotalCores; threads != want || want < 2 {
		t.Fatalf("a lone chunk ran on %d threads, want the computer's %d cores", threads, want)
	}
}

// The first chunk done gives the node its speed, and a heartbeat announces
// the throughput at once, not an interval later; it is the speed per core
// times the cores allowed, so fewer cores announce less at once too.
func TestCoreAnnouncesItsThroughputOnceMeasured(t *testing.T) {
	b, hash := claimedBackend(t)
	sim := newFakeSim()
	sim.work = 2 * time.Millisecond // 5e5 iterations per core-second for its chunk of 1000
	n := startNode(t, b, "", func(o *Options) {
		o.sim = sim
		o.Intervals.Heartbeat = time.Hour
	})
	beat := func() (throughput float64, capacity int) {
		t.Helper()
		var req protocol.HeartbeatRequest
		if err := json.Unmarshal(b.waitCall(t, protocol.PathHeartbeat).body, &req); err != nil || req.Chunks == nil || req.Capacity == nil {
			t.Fatalf("heartbeat %+v (%v)", req, err)
		}
		return req.Chunks.Throughput, *req.Capacity
	}
	if tp, _ := beat(); tp != 0 {
		t.Fatalf("the first heartbeat, before any work, announces %v iterations/s", tp)
	}
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "INSERT", chunkRow(cid("first"), hash, 1000, 0))
	// Heartbeats of other causes (the claim, max_parallel) may come first;
	// with an hour's interval, one announcing a throughput is the early one.
	tp, cores := beat()
	for !(tp > 0) {
		tp, cores = beat()
	}
	if err := n.core.SetCores(1); err != nil {
		t.Fatal(err)
	}
	one, c1 := beat()
	for c1 != 1 {
		one, c1 = beat()
	}
	if want := tp / float64(cores); math.Abs(one-want) > 1e-9*want {
		t.Fatalf("on 1 core the node announces %v iterations/s, want %v (%v on %d cores)", one, want, tp, cores)
	}
}

// SetAutoUpdate is saved in config.ini with the rest of [node], and a later
// save of the node id keeps it.
func TestCoreSetAutoUpdateIsSaved(t *testing.T) {
	dir := t.TempDir()
	c, err := New(Options{ConfigDir: dir, Overrides: Overrides{SentinelURL: "http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Config().AutoUpdate {
		t.Fatal("automatic updates are off by default")
	}
	if err := c.SetAutoUpdate(false); err != nil {
		t.Fatal(err)
	}
	if c.Config().AutoUpdate {
		t.Fatal("this run's config still has automatic updates on")
	}
	if err := c.saveNodeID("7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001"); err != nil {
		t.Fatal(err)
	}
	saved, err := LoadConfig(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if saved.AutoUpdate || saved.NodeID != "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001" {
		t.Fatalf("config.ini holds %+v, want auto_update false and the node id", saved)
	}
	if err := c.SetAutoUpdate(true); err != nil {
		t.Fatal(err)
	}
	if saved, err := LoadConfig(dir, nil); err != nil || !saved.AutoUpdate {
		t.Fatalf("config.ini after switching back: %+v, %v", saved, err)
	}
}
