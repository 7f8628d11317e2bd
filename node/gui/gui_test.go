package gui_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wowlab/internal/browsertest"
	"wowlab/internal/clock"
	"wowlab/internal/logging"
	"wowlab/node"
	"wowlab/node/control"
	"wowlab/node/gui"
	"wowlab/node/policy"
	"wowlab/node/update"
	"wowlab/node/update/updatetest"
)

// fakeNode is a node whose state the test sets: the page is checked for
// every state without a sentinel (the e2e test drives a real one).
type fakeNode struct {
	gov *policy.Governor

	mu      sync.Mutex
	state   node.State
	calls   []string
	unlinks chan struct{} // a send per Unlink
}

func newFakeNode(t *testing.T) *fakeNode {
	gov, err := policy.NewGovernor(policy.DefaultSettings(), nil, policy.GovernorOptions{
		Machine: policy.Machine{TotalCores: 8, DefaultCores: 4}, Clock: clock.NewFake(time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeNode{gov: gov, unlinks: make(chan struct{}, 4), state: node.State{Phase: node.Claiming, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", ClaimCode: "KQ7M2X"}}
}

func (f *fakeNode) set(s node.State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = s
}

func (f *fakeNode) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeNode) record(c string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

func (f *fakeNode) State() node.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}
func (f *fakeNode) Connection() node.Connection { return node.Connected }
func (f *fakeNode) Host() node.Host {
	return node.Host{Hostname: "gaming-pc", TotalCores: 8, EnabledCores: 4, Platform: "windows-x86_64"}
}
func (f *fakeNode) Stats() node.Stats {
	return node.Stats{ActiveChunks: 3, CompletedChunks: 1287, FailedChunks: 2, Iterations: 1_287_000, IterationsPerSecond: 23_450,
		BusyWorkers: 3, MaxWorkers: 4, TotalCores: 8, CPUPercent: 384}
}
func (f *fakeNode) Chunks() []node.ChunkProgress {
	return []node.ChunkProgress{
		{Chunk: node.Chunk{ID: "3f1c9a7e-5b2d-4c8e-9a1f-0d2e4b6c8a10", Iterations: 1000, SeedOffset: 84000}, Running: true, Done: 730},
		{Chunk: node.Chunk{ID: "9b7e1d3c-2a4f-4e6b-8c0d-1f3a5b7c9e21", Iterations: 1000, SeedOffset: 85000}, Running: true, Done: 210},
		{Chunk: node.Chunk{ID: "c2d4e6f8-0a1b-4c3d-8e5f-7a9b1c3d5e32", Iterations: 1000, SeedOffset: 86000}},
	}
}
func (f *fakeNode) Policy() policy.Status { return f.gov.Status() }
func (f *fakeNode) Pause(now bool) error {
	f.record(fmt.Sprintf("pause now=%v", now))
	f.gov.Pause()
	return nil
}
func (f *fakeNode) Resume() error { f.record("resume"); f.gov.Resume(); return nil }
func (f *fakeNode) RetryNow()     { f.record("retry") }

func (f *fakeNode) Finish() error { f.record("finish"); return nil }
func (f *fakeNode) Unlink() error { f.record("unlink"); f.unlinks <- struct{}{}; return nil }
func (f *fakeNode) UpdateSettings(o policy.Overrides) error {
	f.record("settings")
	return f.gov.Update(o, func(policy.Settings) error { return nil })
}
func (f *fakeNode) Subscribe(buf int) (<-chan node.Event, func()) {
	ch := make(chan node.Event, buf)
	return ch, func() {}
}

// wavingStats are the node's stats with a rate and CPU use that move, so
// the charts have a shape.
func wavingStats(f *fakeNode) func() node.Stats {
	var mu sync.Mutex
	n := 0
	return func() node.Stats {
		mu.Lock()
		defer mu.Unlock()
		n++
		s := f.Stats()
		s.IterationsPerSecond = 20_000 + float64((n*7919)%5000)
		s.CPUPercent = 300 + float64((n*104729)%100)
		return s
	}
}

// advance lets the history take n samples, moving the fake clock each time
// its sampler waits.
func advance(t *testing.T, fc *clock.Fake, n int) {
	t.Helper()
	for range n {
		deadline := time.After(10 * time.Second)
		for len(fc.Waiting()) == 0 {
			select {
			case <-fc.Changed():
			case <-deadline:
				t.Fatal("the history sampler does not wait on the clock")
			}
		}
		fc.Advance(gui.SampleEvery)
	}
}

type rig struct {
	node    *fakeNode
	srv     *control.Server
	logs    *logging.Ring
	log     *slog.Logger
	updates *update.Checker
	mu      sync.Mutex
	saved   []bool // what the update switch saved
}

// save records a switch of automatic updates in r.saved.
func (r *rig) save(on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saved = append(r.saved, on)
	return nil
}

func newRig(t *testing.T) *rig { t.Helper(); return newRigForced(t, "") }

// newRigForced is newRig with automatic updates forced off for the reason
// forced (a flag), when not "".
func newRigForced(t *testing.T, forced string) *rig {
	t.Helper()
	f := newFakeNode(t)
	ring := logging.NewRing(500)
	log := slog.New(ring.Handler(slog.LevelDebug))
	fc := clock.NewFake(time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC))
	ui := gui.New(wavingStats(f), gui.Options{Clock: fc, Info: gui.Info{LogDir: "/home/ana/.local/state/wowlab-node", ConfigDir: "/home/ana/.config/wowlab-node", Priority: "low"}})
	r := &rig{node: f, logs: ring, log: log}
	r.updates = updatetest.Checker(t, "node-gui", "v1.4.0", forced, r.save)
	srv, err := control.Listen(f, control.Options{ConfigDir: t.TempDir(), Version: "1.4.0", Logs: ring, UI: ui.Handler(), Routes: ui.Routes(), Updates: r.updates})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = srv.Serve(ctx); done <- struct{}{} }()
	go func() { ui.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	advance(t, fc, gui.HistoryLength)
	return r
}

func (r *rig) open(t *testing.T, width, height int) *browsertest.Browser {
	t.Helper()
	b := browsertest.New(t, width, height)
	link, err := r.srv.LoginURL()
	if err != nil {
		t.Fatal(err)
	}
	b.Do("open the login link", chromedp.Navigate(link))
	return b
}

// The screens in each state, at a laptop's size and in a narrow window;
// the claim view moves on to the dashboard without a reload.
func TestScreens(t *testing.T) {
	r := newRig(t)
	for _, size := range []struct {
		name          string
		width, height int
	}{{"1280x800", 1280, 800}, {"420x800", 420, 800}} {
		t.Run(size.name, func(t *testing.T) {
			r.node.set(node.State{Phase: node.Claiming, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", ClaimCode: "KQ7M2X"})
			b := r.open(t, size.width, size.height)
			b.WaitText("#claim-code", "KQ7 M2X")
			b.WaitText("#badge", "Waiting for claim")
			b.Shot("claim-" + size.name)
			browsertest.Eval[bool](b, "window.stillHere = true")

			r.node.set(node.State{Phase: node.Running, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", Name: "gaming-pc"})
			b.WaitText("#badge", "Online")
			b.WaitText("#stat-workers", "3 / 4")
			b.WaitText("#chunks", "73 %")
			if !browsertest.Eval[bool](b, "window.stillHere === true") {
				t.Fatal("the page reloaded to leave the claim view")
			}
			b.Shot("dashboard-" + size.name)

			b.Do("open settings", chromedp.Click(`button[data-view="settings"]`))
			b.WaitText("#settings-form", "Pause on battery")
			b.WaitText("#facts", "gaming-pc")
			b.Shot("settings-" + size.name)

			r.log.Warn("the realtime socket closed", "retry_in", "1.6s")
			b.Do("open logs", chromedp.Click(`button[data-view="logs"]`))
			b.WaitText("#log", "the realtime socket closed")
			b.Shot("logs-" + size.name)

			r.node.set(node.State{Phase: node.Unavailable, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", Err: "sentinel: dial tcp 10.0.0.5:443: connection refused", RetryIn: 40 * time.Second})
			b.WaitText("#badge", "Unavailable")
			b.WaitText("#unavailable-error", "connection refused")
			b.Shot("unavailable-" + size.name)
			b.Do("back to the dashboard", chromedp.Click(`#retry-now`))
			r.node.set(node.State{Phase: node.Running, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", Name: "gaming-pc"})
			b.Do("dashboard tab", chromedp.Click(`button[data-view="dashboard"]`))
			b.WaitText("#badge", "Online")
		})
	}
}

// The page's buttons drive the node, and a setting changed in the page
// is applied.
func TestControlsAndSettings(t *testing.T) {
	r := newRig(t)
	r.node.set(node.State{Phase: node.Running, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", Name: "desk"})
	b := r.open(t, 1280, 800)
	b.WaitText("#badge", "Online")
	b.Do("pause", chromedp.Click(`#dash-controls button[data-action="pause"]`))
	b.WaitText("#badge", "Paused")
	b.WaitText("#pause-note", "Paused")
	b.Shot("paused-1280x800")
	b.Do("resume", chromedp.Click(`#dash-controls button[data-action="resume"]`))
	b.WaitText("#badge", "Online")
	if got := r.node.called(); !slices.Equal(got, []string{"pause now=false", "resume"}) {
		t.Fatalf("calls %v", got)
	}

	b.Do("settings", chromedp.Click(`button[data-view="settings"]`))
	b.WaitText("#settings-form", "Cores")
	b.Do("set cores", chromedp.SetValue(`#set-cores`, "2"), chromedp.Click(`#settings-form button[type="submit"]`))
	b.WaitText("#settings-ok", "Saved and applied")
	if got := r.node.gov.Settings().Cores; got != 2 {
		t.Fatalf("cores after saving in the page: %d", got)
	}
	b.Do("bad schedule", chromedp.SetValue(`#set-schedule`, "someday 25:00-26:00"), chromedp.Click(`#settings-form button[type="submit"]`))
	b.WaitText("#settings-error", "schedule")
	if got := r.node.gov.Settings().Schedule.String(); got != "" {
		t.Fatalf("a refused schedule changed the settings: %q", got)
	}

	// The update switch turns automatic updates off and on again.
	b.WaitText("#update-text", "Automatic updates are on")
	b.Do("switch automatic updates off", chromedp.Click(`#update-auto`))
	b.WaitText("#update-text", "Automatic updates are off: "+update.OffByConfig)
	if browsertest.Eval[bool](b, `document.getElementById("update-auto").checked`) {
		t.Fatal("the update switch is still on")
	}
	b.Shot("updates-off-1280x800")
	if r.updates.Status().Automatic {
		t.Fatal("the checker still installs updates by itself")
	}
	b.Do("switch automatic updates on", chromedp.Click(`#update-auto`))
	b.WaitText("#update-text", "Automatic updates are on")
	r.mu.Lock()
	saved := slices.Clone(r.saved)
	r.mu.Unlock()
	if !slices.Equal(saved, []bool{false, true}) {
		t.Fatalf("the switch saved %v", saved)
	}
}

// A node whose flag forces automatic updates off shows the switch off and
// disabled, with the reason.
func TestUpdateSwitchForcedOff(t *testing.T) {
	r := newRigForced(t, "--no-update (or WOWLAB_NO_UPDATE) is set")
	r.node.set(node.State{Phase: node.Running, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", Name: "desk"})
	b := r.open(t, 1280, 800)
	b.WaitText("#badge", "Online")
	b.Do("settings", chromedp.Click(`button[data-view="settings"]`))
	b.WaitText("#update-auto-usage", "Cannot be switched here: --no-update")
	if !browsertest.Eval[bool](b, `(() => { const e = document.getElementById("update-auto"); return e.disabled && !e.checked; })()`) {
		t.Fatal("the switch of a node forced off is not off and disabled")
	}
	b.Shot("updates-forced-1280x800")
}

// A page of another origin, open in the same browser as a signed-in
// dashboard, can neither drive the node nor read its status.
func TestForeignPageCannotDriveTheNode(t *testing.T) {
	r := newRig(t)
	r.node.set(node.State{Phase: node.Running, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", Name: "desk"})
	b := r.open(t, 1280, 800)
	b.WaitText("#badge", "Online")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>evil</title><p>hello</p>")
	}))
	defer evil.Close()
	b.Do("visit the other site", chromedp.Navigate(evil.URL))
	api := r.srv.URL()
	// A simple request (no preflight) reaches the server with the
	// session cookie's site rules and the foreign Origin; a read tries
	// CORS.
	got := browsertest.Eval[string](b, fmt.Sprintf(`(async () => {
		const out = [];
		try { await fetch(%q + "/api/v1/pause", {method: "POST", mode: "no-cors", credentials: "include", body: "{}"}); out.push("sent"); } catch (e) { out.push("blocked"); }
		try { const r = await fetch(%q + "/api/v1/status", {credentials: "include"}); out.push("read " + r.status); } catch (e) { out.push("unreadable"); }
		return out.join(",");
	})()`, api, api))
	if got != "sent,unreadable" && got != "blocked,unreadable" {
		t.Fatalf("the foreign page: %s", got)
	}
	if calls := r.node.called(); len(calls) != 0 {
		t.Fatalf("a foreign page drove the node: %v", calls)
	}
}

func TestHistoryKeepsTenMinutes(t *testing.T) {
	start := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	fc := clock.NewFake(start)
	i := 0.0
	ui := gui.New(func() node.Stats { i++; return node.Stats{IterationsPerSecond: i} }, gui.Options{Clock: fc})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ui.Run(ctx); close(done) }()
	advance(t, fc, gui.HistoryLength+10)
	for len(fc.Waiting()) == 0 {
		<-fc.Changed()
	}
	cancel()
	<-done
	h := ui.History()
	if len(h) != gui.HistoryLength {
		t.Fatalf("%d samples, want %d", len(h), gui.HistoryLength)
	}
	first, last := h[0], h[len(h)-1]
	if want := start.Add(11 * gui.SampleEvery); !first.Time.Equal(want) || first.IterationsPerSecond != 12 {
		t.Fatalf("oldest sample %+v, want the 12th at %v", first, want)
	}
	if last.IterationsPerSecond != float64(gui.HistoryLength+11) || last.Time.Sub(first.Time) != (gui.HistoryLength-1)*gui.SampleEvery {
		t.Fatalf("newest sample %+v", last)
	}
}

// Unlinking from the settings asks first, then tells the node; the
// dashboard then says the identity is forgotten.
func TestUnlink(t *testing.T) {
	r := newRig(t)
	r.node.set(node.State{Phase: node.Running, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", Name: "desk"})
	b := r.open(t, 1280, 800)
	b.WaitText("#badge", "Online")
	b.Do("settings", chromedp.Click(`button[data-view="settings"]`))
	b.WaitText("#settings-controls", "Unlink this computer")
	b.Shot("settings-unlink-1280x800")
	browsertest.Eval[bool](b, "window.confirm = (q) => { window.asked = q; return false; }, true")
	b.Do("unlink, then cancel", chromedp.Click(`#settings-controls button[data-action="unlink"]`))
	if q := browsertest.Eval[string](b, "window.asked || ''"); !strings.Contains(q, "forgets its identity") {
		t.Fatalf("the confirmation asked %q", q)
	}
	if got := r.node.called(); slices.Contains(got, "unlink") {
		t.Fatalf("a cancelled unlink reached the node: %v", got)
	}
	browsertest.Eval[bool](b, "window.confirm = () => true, true")
	b.Do("unlink", chromedp.Click(`#settings-controls button[data-action="unlink"]`))
	select {
	case <-r.node.unlinks:
	case <-time.After(30 * time.Second):
		t.Fatal("the confirmed unlink did not reach the node")
	}
	r.node.set(node.State{Phase: node.Finished, Unlinked: true})
	b.Do("dashboard", chromedp.Click(`button[data-view="dashboard"]`))
	b.WaitText("#badge", "Unlinked")
	b.WaitText("#pause-note", "forgot its identity")
	b.Shot("unlinked-1280x800")
}
