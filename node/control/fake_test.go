package control

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"wowlab/internal/clock"
	"wowlab/internal/logging"
	"wowlab/node"
	"wowlab/node/policy"
)

// fakeNode stands for node.Core: a fixed state and stats, a real policy
// Governor (on a fake clock) for the settings, and a record of the
// controls called.
type fakeNode struct {
	gov *policy.Governor

	mu       sync.Mutex
	state    node.State
	calls    []string
	saved    []policy.Settings
	saveErr  error
	finishOK bool
	subs     []chan node.Event
}

var testStart = time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)

func newFakeNode(t testing.TB) *fakeNode {
	t.Helper()
	gov, err := policy.NewGovernor(policy.DefaultSettings(), policy.Overrides{"cores": "4"}, policy.GovernorOptions{
		Machine: policy.Machine{TotalCores: 8, DefaultCores: 4}, Clock: clock.NewFake(testStart),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeNode{gov: gov, finishOK: true, state: node.State{
		Phase: node.Running, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", Name: "desk",
	}}
}

func (f *fakeNode) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeNode) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeNode) State() node.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *fakeNode) Connection() node.Connection { return node.Connected }

func (f *fakeNode) Host() node.Host {
	return node.Host{Hostname: "desk.local", TotalCores: 8, EnabledCores: 4, Platform: "linux-x86_64"}
}

func (f *fakeNode) Stats() node.Stats {
	return node.Stats{ActiveChunks: 2, CompletedChunks: 17, FailedChunks: 1, Iterations: 17250, IterationsPerSecond: 812.5,
		BusyWorkers: 1, MaxWorkers: 4, TotalCores: 8, CPUPercent: 97}
}

func (f *fakeNode) Chunks() []node.ChunkProgress {
	return []node.ChunkProgress{
		{Chunk: node.Chunk{ID: "c1", Iterations: 1000, SeedOffset: 5000}, Running: true, Started: testStart, Done: 250},
		{Chunk: node.Chunk{ID: "c2", Iterations: 1000, SeedOffset: 6000}},
	}
}

func (f *fakeNode) Policy() policy.Status { return f.gov.Status() }

func (f *fakeNode) Pause(now bool) error {
	if now {
		f.record("pause now")
	} else {
		f.record("pause")
	}
	f.gov.Pause()
	return nil
}

func (f *fakeNode) Resume() error {
	f.record("resume")
	f.gov.Resume()
	return nil
}

func (f *fakeNode) RetryNow() { f.record("retry") }

func (f *fakeNode) Finish() error {
	f.record("finish")
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.finishOK {
		return errors.New("already finishing")
	}
	return nil
}

func (f *fakeNode) Unlink() error { f.record("unlink"); return nil }

func (f *fakeNode) UpdateSettings(o policy.Overrides) error {
	f.record("settings")
	return f.gov.Update(o, func(s policy.Settings) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.saveErr != nil {
			return f.saveErr
		}
		f.saved = append(f.saved, s)
		return nil
	})
}

func (f *fakeNode) Subscribe(buf int) (<-chan node.Event, func()) {
	ch := make(chan node.Event, buf)
	f.mu.Lock()
	f.subs = append(f.subs, ch)
	f.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			for i, c := range f.subs {
				if c == ch {
					f.subs = append(f.subs[:i], f.subs[i+1:]...)
				}
			}
			close(ch)
		})
	}
}

func (f *fakeNode) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *fakeNode) emit(e node.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		ch <- e
	}
}

var _ Node = (*fakeNode)(nil)

// api is a control API serving a fakeNode on loopback.
type api struct {
	t     testing.TB
	node  *fakeNode
	srv   *Server
	ring  *logging.Ring
	dir   string
	clock *clock.Fake
	stop  context.CancelFunc
	done  chan error
}

func startAPI(t testing.TB, mutate func(*Options)) *api {
	t.Helper()
	a := &api{t: t, node: newFakeNode(t), ring: logging.NewRing(100), dir: t.TempDir(), clock: clock.NewFake(testStart)}
	for i, msg := range []string{"node started", "chunk assigned", "chunk completed", "sentinel slow"} {
		lvl := slog.LevelInfo
		if i == 3 {
			lvl = slog.LevelWarn
		}
		a.ring.Add(logging.Entry{Time: testStart.Add(time.Duration(i) * time.Second), Level: lvl, Message: msg})
	}
	opts := Options{ConfigDir: a.dir, Version: "1.2.3", Logs: a.ring, Clock: a.clock}
	if mutate != nil {
		mutate(&opts)
	}
	srv, err := Listen(a.node, opts)
	if err != nil {
		t.Fatal(err)
	}
	a.srv = srv
	ctx, stop := context.WithCancel(context.Background())
	a.stop, a.done = stop, make(chan error, 1)
	go func() { a.done <- srv.Serve(ctx) }()
	t.Cleanup(a.close)
	return a
}

func (a *api) close() {
	if a.stop == nil {
		return
	}
	a.stop()
	a.stop = nil
	if err := <-a.done; err != nil {
		a.t.Errorf("Serve: %v", err)
	}
}

func (a *api) client() *Client {
	return NewClient(a.srv.URL(), a.srv.Key(), &http.Client{Timeout: 10 * time.Second})
}
