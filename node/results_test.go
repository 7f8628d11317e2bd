package node

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"wowlab/internal/clock"
	"wowlab/protocol"
)

func repeat(status, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = status
	}
	return out
}

// journal reads the results journal of a config directory.
func journal(t *testing.T, dir string) []*heldResult {
	t.Helper()
	h, err := loadHeldResults(dir, (&logBuffer{}).logger())
	if err != nil {
		t.Fatal(err)
	}
	return h.list()
}

func journalGone(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, ResultsFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("results journal still there: %v", err)
	}
}

// A result is delivered for as long as the sentinel is unavailable, with
// waits that grow to ResultRetryMax (plus jitter) and no further, not
// given up after a few attempts.
func TestCoreKeepsResultUntilSentinelTakesIt(t *testing.T) {
	b, hash := claimedBackend(t)
	const failures = 8 // the node used to give up after 5 attempts
	b.set(func(b *backend) {
		b.failStatus[protocol.PathComplete] = repeat(http.StatusServiceUnavailable, failures)
		b.running = []Chunk{{ID: cid("kept"), Iterations: 5, ConfigHash: hash, SeedOffset: 0}}
	})
	clk := clock.NewFake(time.Now())
	sim := newFakeSim()
	dir := t.TempDir()
	n := startNode(t, b, dir, func(o *Options) {
		o.Clock, o.sim = clk, sim
		o.Intervals.ResultRetry, o.Intervals.ResultRetryMax = time.Second, 4*time.Second
	})
	for i := range failures {
		b.waitCall(t, protocol.PathComplete)
		if held := journal(t, dir); len(held) != 1 || held[0].Chunk.ID != cid("kept") || held[0].Result != fakeResult(0, 5) {
			t.Fatalf("journal after failure %d: %+v", i+1, held)
		}
		// 1 s doubling, capped at 4 s, plus up to 2 s of jitter.
		lo := min(time.Second<<i, 4*time.Second)
		waitWaiting(t, clk, lo, lo+2*time.Second)
		clk.Advance(6 * time.Second)
	}
	e := n.waitEvent(t, "completion", func(e Event) bool { return e.Kind == ChunkCompleted })
	if e.Chunk.ID != cid("kept") || e.Result != fakeResult(0, 5) {
		t.Fatalf("completed %+v", e)
	}
	if got := b.count(protocol.PathComplete); got != failures+1 {
		t.Fatalf("%d completions posted, want %d", got, failures+1)
	}
	if sim.runsOf(0) != 1 {
		t.Fatalf("chunk ran %d times", sim.runsOf(0))
	}
	journalGone(t, dir)
}

// Results owed when the node stops stay in the journal, the drain does not
// wait for an unreachable sentinel, and the next start delivers them
// without running the chunk again.
func TestCoreResultKeptAcrossRestart(t *testing.T) {
	b, hash := claimedBackend(t)
	b.set(func(b *backend) {
		b.failStatus[protocol.PathComplete] = repeat(http.StatusServiceUnavailable, 1000)
		b.running = []Chunk{{ID: cid("kept"), Iterations: 5, ConfigHash: hash, SeedOffset: 0}}
	})
	dir := t.TempDir()
	n := startNode(t, b, dir, func(o *Options) { o.sim = newFakeSim() })
	first := b.waitCall(t, protocol.PathComplete)
	b.goAway() // the sentinel is gone: connections refused
	n.stop(t)
	held := journal(t, dir)
	if len(held) != 1 || held[0].Chunk.ID != cid("kept") || held[0].Result != fakeResult(0, 5) {
		t.Fatalf("journal after the stop: %+v", held)
	}
	if st, err := os.Stat(filepath.Join(dir, ResultsFile)); err != nil || (runtime.GOOS != "windows" && st.Mode().Perm() != 0o600) {
		t.Fatalf("journal file: %v %v", st, err)
	}

	b2, _ := claimedBackend(t)
	sim := newFakeSim()
	n2 := startNode(t, b2, dir, func(o *Options) { o.sim = sim })
	again := b2.waitCall(t, protocol.PathComplete)
	if string(again.body) != string(first.body) {
		t.Fatalf("delivered after the restart %s, first posted %s", again.body, first.body)
	}
	n2.waitEvent(t, "completion", func(e Event) bool { return e.Kind == ChunkCompleted && e.Chunk.ID == cid("kept") })
	if sim.runsOf(0) != 0 {
		t.Fatal("the chunk ran again")
	}
	journalGone(t, dir)
}

// At shutdown the node hands back the chunks assigned to it that it knows
// nothing of, but not one whose result it holds.
func TestCoreDrainKeepsHeldChunks(t *testing.T) {
	b, hash := claimedBackend(t)
	kept := Chunk{ID: cid("kept"), Iterations: 5, ConfigHash: hash, SeedOffset: 0}
	b.set(func(b *backend) {
		b.failStatus[protocol.PathComplete] = repeat(http.StatusServiceUnavailable, 1000)
		b.running = []Chunk{kept}
	})
	n := startNode(t, b, "", func(o *Options) { o.sim = newFakeSim() })
	b.waitCall(t, protocol.PathComplete)
	// Assigned after the node's resync: only the drain's check finds it.
	b.set(func(b *backend) {
		b.running = []Chunk{kept, {ID: cid("straggler"), Iterations: 5, ConfigHash: hash, SeedOffset: 5}}
	})
	n.stop(t)
	var rr protocol.ReleaseRequest
	if err := json.Unmarshal(b.waitCall(t, protocol.PathRelease).body, &rr); err != nil || rr.ChunkID != cid("straggler") {
		t.Fatalf("released %+v (%v), want the straggler", rr, err)
	}
	if got := b.count(protocol.PathRelease); got != 1 {
		t.Fatalf("%d releases: the chunk whose result is kept was handed back", got)
	}
}

// An assignment of a chunk whose result the node holds delivers the result
// at once instead of running the chunk again.
func TestCoreDeliversHeldResultWhenAssignedAgain(t *testing.T) {
	b, hash := claimedBackend(t)
	b.set(func(b *backend) {
		b.failStatus[protocol.PathComplete] = repeat(http.StatusServiceUnavailable, 2)
		b.running = []Chunk{{ID: cid("kept"), Iterations: 5, ConfigHash: hash, SeedOffset: 0}}
	})
	clk := clock.NewFake(time.Now()) // never moved: only assignments bring attempts
	sim := newFakeSim()
	n := startNode(t, b, "", func(o *Options) { o.Clock, o.sim = clk, sim })
	b.waitCall(t, protocol.PathComplete)
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	for range 2 {
		b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("kept"), hash, 5, 0))
		b.waitCall(t, protocol.PathComplete)
	}
	n.waitEvent(t, "completion", func(e Event) bool { return e.Kind == ChunkCompleted && e.Chunk.ID == cid("kept") })
	if sim.runsOf(0) != 1 {
		t.Fatalf("chunk ran %d times", sim.runsOf(0))
	}
}

// A result the sentinel refuses in its own words is dropped, and the chunk
// runs again when it is assigned again; an error page of a proxy, or a
// refused signature, is retried.
func TestCoreResultRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    func(b *backend)
		final  bool
		status int
	}{
		{"not this node's", func(b *backend) { b.failStatus[protocol.PathComplete] = []int{http.StatusForbidden} }, true, 0},
		{"unknown chunk", func(b *backend) { b.failStatus[protocol.PathComplete] = []int{http.StatusNotFound} }, true, 0},
		{"chunk failed", func(b *backend) { b.failStatus[protocol.PathComplete] = []int{http.StatusBadRequest} }, true, 0},
		{"proxy page", func(b *backend) {
			b.pageStatus[protocol.PathComplete] = []int{http.StatusNotFound, http.StatusForbidden}
		}, false, 0},
		{"signature", func(b *backend) { b.failStatus[protocol.PathComplete] = []int{http.StatusUnauthorized} }, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, hash := claimedBackend(t)
			b.set(tc.set)
			sim := newFakeSim()
			dir := t.TempDir()
			n := startNode(t, b, dir, func(o *Options) {
				o.sim = sim
				o.Intervals.ResultRetry, o.Intervals.ResultRetryMax = time.Millisecond, 4*time.Millisecond
			})
			b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
			b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("c"), hash, 5, 0))
			if !tc.final {
				n.waitEvent(t, "completion", func(e Event) bool { return e.Kind == ChunkCompleted })
				if sim.runsOf(0) != 1 {
					t.Fatalf("chunk ran %d times", sim.runsOf(0))
				}
				return
			}
			e := n.waitEvent(t, "refusal", func(e Event) bool { return e.Kind == ChunkFailed })
			var ae *APIError
			if !errors.As(e.Err, &ae) || !ae.Refusal {
				t.Fatalf("refusal event %+v", e)
			}
			journalGone(t, dir)
			// The chunk is no longer in progress once its result is settled,
			// so the next assignment runs it.
			if active := n.core.Stats().ActiveChunks; active != 0 {
				t.Fatalf("%d chunks in progress after the refusal", active)
			}
			b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("c"), hash, 5, 0))
			n.waitEvent(t, "completion", func(e Event) bool { return e.Kind == ChunkCompleted })
			if sim.runsOf(0) != 2 {
				t.Fatalf("chunk ran %d times, want again after the refusal", sim.runsOf(0))
			}
		})
	}
}

// The node forgets a delivered chunk after recentlyDelivered: an
// assignment soon after is an echo and ignored, a later one runs again.
func TestCoreForgetsDeliveredChunks(t *testing.T) {
	b, hash := claimedBackend(t)
	clk := clock.NewFake(time.Now())
	sim := newFakeSim()
	n := startNode(t, b, "", func(o *Options) { o.Clock, o.sim = clk, sim })
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	completed := func(id string) {
		t.Helper()
		n.waitEvent(t, "completion of "+id, func(e Event) bool { return e.Kind == ChunkCompleted && e.Chunk.ID == id })
	}
	push := func(name string, offset int) {
		b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid(name), hash, 5, offset))
	}
	push("c", 0)
	completed(cid("c"))
	push("c", 0)      // an echo
	push("marker", 5) // changes arrive in order: once this ran, the echo was seen
	completed(cid("marker"))
	if sim.runsOf(0) != 1 {
		t.Fatalf("the echo ran: %d runs", sim.runsOf(0))
	}
	clk.Advance(recentlyDelivered + time.Second)
	push("c", 0)
	completed(cid("c"))
	if sim.runsOf(0) != 2 {
		t.Fatalf("chunk assigned again later: %d runs, want 2", sim.runsOf(0))
	}
}

// When a delivery reaches the sentinel, the node stops waiting out its
// Unavailable backoff.
func TestCoreDeliveryEndsUnavailableWait(t *testing.T) {
	b, hash := claimedBackend(t)
	b.set(func(b *backend) {
		b.failStatus[protocol.PathComplete] = []int{http.StatusServiceUnavailable}
		b.running = []Chunk{{ID: cid("kept"), Iterations: 5, ConfigHash: hash, SeedOffset: 0}}
	})
	clk := clock.NewFake(time.Now())
	n := startNode(t, b, "", func(o *Options) {
		o.Clock, o.sim = clk, newFakeSim()
		o.Intervals.ResultRetry, o.Intervals.ResultRetryMax = time.Second, time.Second
		o.Intervals.UnavailableStart, o.Intervals.UnavailableMax = time.Hour, time.Hour
	})
	b.waitCall(t, protocol.PathComplete)
	// The next heartbeat fails, whichever it is: the one announcing the
	// node's throughput after its first chunk, or the interval's (which a
	// wait of the fake clock from before that one may hide: advance again).
	hb := fastIntervals().Heartbeat
	b.set(func(b *backend) { b.failStatus[protocol.PathHeartbeat] = []int{http.StatusServiceUnavailable} })
	for range 10 {
		waitUntil(t, "a heartbeat wait or unavailable", func() bool {
			return n.core.State().Phase == Unavailable || slices.Contains(clk.Waiting(), hb)
		})
		if n.core.State().Phase == Unavailable {
			break
		}
		clk.Advance(hb)
	}
	n.waitEvent(t, "unavailable", isPhase(Unavailable))
	waitWaiting(t, clk, time.Second, 1500*time.Millisecond)
	clk.Advance(1500 * time.Millisecond) // the delivery is retried and accepted
	// Running again, an hour early.
	waitUntil(t, "running again", func() bool { return n.core.State().Phase == Running })
	if got := b.count(protocol.PathComplete); got != 2 {
		t.Fatalf("%d completions posted, want 2", got)
	}
}

func TestRetryDelivery(t *testing.T) {
	for _, tc := range []struct {
		err   error
		retry bool
	}{
		{&NetworkError{Path: protocol.PathComplete, Err: errors.New("connection refused")}, true},
		{&APIError{Status: 503, Refusal: true}, true},
		{&APIError{Status: 429}, true},
		{&APIError{Status: 401, Refusal: true, Message: "Replayed request"}, true},
		{&APIError{Status: 404, Message: "<html>"}, true},
		{&APIError{Status: 404, Refusal: true, Message: "Chunk not found"}, false},
		{&APIError{Status: 403, Refusal: true, Message: "Chunk is not assigned to this node"}, false},
		{&APIError{Status: 400, Refusal: true, Message: "Chunk has failed"}, false},
	} {
		if got := retryDelivery(tc.err); got != tc.retry {
			t.Errorf("retryDelivery(%v) = %v, want %v", tc.err, got, tc.retry)
		}
	}
}

func TestHeldResultsJournal(t *testing.T) {
	dir := t.TempDir()
	good := func(name string, offset int) string {
		h := newHeldResult(Chunk{ID: cid(name), Iterations: 5, ConfigHash: "h", SeedOffset: offset}, fakeResult(offset, 5), time.Unix(1_800_000_000, 0).UTC())
		line, _ := json.Marshal(h)
		return string(line)
	}
	wrongCount := strings.Replace(good("b", 5), `"iterations":5,"meanDps"`, `"iterations":6,"meanDps"`, 1)
	lines := []string{
		good("a", 0),
		"{not json",
		wrongCount,
		`{"chunk":{"id":"x","iterations":5,"config_hash":"h"},"result":{"iterations":5}}`,
		`{"chunk":` + strings.Repeat(" ", maxResultLine) + `}`,
		"",
		good("c", 10),
		good("a", 0), // a later line of the same chunk wins
	}
	path := filepath.Join(dir, ResultsFile)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	h, err := loadHeldResults(dir, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	got := h.list()
	if len(got) != 2 || got[0].Chunk.ID != cid("a") || got[1].Chunk.ID != cid("c") || got[1].Result != fakeResult(10, 5) {
		t.Fatalf("loaded %+v", got)
	}
	for _, line := range []string{"line=2", "line=3", "line=4", "line=5"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("no warning for %s:\n%s", line, logs.String())
		}
	}
	// The file was rewritten without the bad entries, private.
	raw, err := os.ReadFile(path)
	if err != nil || strings.Count(string(raw), "\n") != 2 {
		t.Fatalf("rewritten journal %q, %v", raw, err)
	}
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v", st.Mode().Perm())
	}

	// Full: the oldest result goes.
	h.max = 2
	dropped, err := h.add(newHeldResult(Chunk{ID: cid("d"), Iterations: 5, ConfigHash: "h"}, fakeResult(0, 5), time.Now()))
	if err != nil || dropped == nil || dropped.Chunk.ID != cid("a") {
		t.Fatalf("dropped %+v, %v", dropped, err)
	}
	if ok, err := h.remove(got[0]); ok || err != nil {
		t.Fatalf("removed a dropped result: %v %v", ok, err)
	}
	for _, e := range h.list() {
		if _, err := h.remove(e); err != nil {
			t.Fatal(err)
		}
	}
	journalGone(t, dir)
}

// A chunk assigned again with another range than the result the node
// holds for it (the sentinel split the row after a reclaim) runs the new
// range; the stale result is dropped, not delivered.
func TestCoreRunsANewRangeOfAHeldChunk(t *testing.T) {
	b, hash := claimedBackend(t)
	b.set(func(b *backend) { b.failStatus[protocol.PathComplete] = []int{http.StatusServiceUnavailable} })
	sim := newFakeSim()
	n := startNode(t, b, "", func(o *Options) {
		o.sim = sim
		o.Intervals.ResultRetry, o.Intervals.ResultRetryMax = time.Hour, time.Hour
	})
	b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "INSERT", chunkRow(cid("split"), hash, 5000, 0))
	b.waitCall(t, protocol.PathComplete) // refused with 503: the result is held
	waitUntil(t, "the result held", func() bool { return n.core.held.get(cid("split")) != nil })
	b.push("realtime:chunks:"+testNodeID, "jobs_chunks", "UPDATE", chunkRow(cid("split"), hash, 1000, 0))
	e := n.waitEvent(t, "completion", func(e Event) bool { return e.Kind == ChunkCompleted && e.Chunk.ID == cid("split") })
	if e.Result.Iterations != 1000 || sim.runsOf(0) != 2 {
		t.Fatalf("completed %d iterations after %d runs, want the new range of 1000 run again", e.Result.Iterations, sim.runsOf(0))
	}
	if h := n.core.held.get(cid("split")); h != nil {
		t.Fatalf("a result is still held: %+v", h.Chunk)
	}
}
