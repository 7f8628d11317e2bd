package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// gate is a job body that reports its start and blocks until released or
// until its context ends.
type gate struct {
	started chan string
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan string, 100), release: make(chan struct{})} }

func (g *gate) job(id string) Job {
	return Job{ID: id, Run: func(ctx context.Context) error {
		g.started <- id
		select {
		case <-g.release:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("job %s: %w", id, ctx.Err())
		}
	}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising on time
	}
}

func recvN(t *testing.T, ch chan string, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		select {
		case id := <-ch:
			out = append(out, id)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d jobs started", len(out), n)
		}
	}
	return out
}

func noMore(t *testing.T, ch chan string, p *Pool) {
	t.Helper()
	// Every job beyond the limit is queued; the pool must not have started it.
	select {
	case id := <-ch:
		t.Fatalf("job %s started beyond the limit (busy %d, size %d)", id, p.Busy(), p.Size())
	default:
	}
}

func TestPoolLimitsConcurrencyAndResizes(t *testing.T) {
	g := newGate()
	p := New(2)
	for i := 0; i < 6; i++ {
		if err := p.Submit(g.job(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := recvN(t, g.started, 2); !slices.Equal(got, []string{"0", "1"}) && !slices.Equal(got, []string{"1", "0"}) {
		t.Fatalf("started %v", got)
	}
	noMore(t, g.started, p)
	if p.Busy() != 2 || p.Queued() != 4 {
		t.Fatalf("busy %d queued %d", p.Busy(), p.Queued())
	}

	p.Resize(4) // growing starts two more at once
	recvN(t, g.started, 2)
	waitFor(t, "4 busy", func() bool { return p.Busy() == 4 })
	noMore(t, g.started, p)

	p.Resize(1) // shrinking: nothing new starts until fewer than 1 run
	for i := 0; i < 3; i++ {
		g.release <- struct{}{}
	}
	waitFor(t, "1 busy", func() bool { return p.Busy() == 1 })
	noMore(t, g.started, p)
	if p.Queued() != 2 {
		t.Fatalf("queued %d, want 2", p.Queued())
	}
	g.release <- struct{}{} // the last of the first four finishes: one queued job starts
	recvN(t, g.started, 1)
	waitFor(t, "1 busy, 1 queued", func() bool { return p.Busy() == 1 && p.Queued() == 1 })
	close(g.release)
	recvN(t, g.started, 1)
	waitFor(t, "idle", func() bool { return p.Busy() == 0 && p.Queued() == 0 })
	if left := p.Shutdown(context.Background()); len(left) != 0 {
		t.Fatalf("unfinished %v after all jobs ended", left)
	}
}

func TestPoolShutdownLetsRunningFinishWithinGrace(t *testing.T) {
	g := newGate()
	p := New(1)
	_ = p.Submit(g.job("running"))
	_ = p.Submit(g.job("queued"))
	recvN(t, g.started, 1)
	done := make(chan []Job)
	go func() { done <- p.Shutdown(context.Background()) }()
	waitFor(t, "queue taken by Shutdown", func() bool { return p.Queued() == 0 })
	if err := p.Submit(g.job("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit during shutdown: %v, want ErrClosed", err)
	}
	g.release <- struct{}{}
	left := <-done
	if len(left) != 1 || left[0].ID != "queued" {
		t.Fatalf("unfinished %v, want only the queued job", ids(left))
	}
	if p.Shutdown(context.Background()) != nil {
		t.Fatal("second Shutdown returned jobs")
	}
}

func TestPoolShutdownCancelsAfterGrace(t *testing.T) {
	g := newGate()
	p := New(3)
	finished := Job{ID: "quick", Run: func(ctx context.Context) error { return nil }}
	ignoring := Job{ID: "ignores-cancel", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return nil // finished its work despite the cancel: not handed back
	}}
	_ = p.Submit(finished)
	_ = p.Submit(g.job("slow"))
	_ = p.Submit(ignoring)
	recvN(t, g.started, 1)
	grace, cancel := context.WithCancel(context.Background())
	cancel() // grace period already over
	left := p.Shutdown(grace)
	if got := ids(left); !slices.Equal(got, []string{"slow"}) {
		t.Fatalf("unfinished %v, want [slow]", got)
	}
	if p.Busy() != 0 {
		t.Fatalf("busy %d after Shutdown", p.Busy())
	}
}

func TestPoolRejectsJobWithoutRun(t *testing.T) {
	if err := New(1).Submit(Job{ID: "x"}); err == nil {
		t.Fatal("job without Run accepted")
	}
}

func TestPoolManyJobsRace(t *testing.T) {
	p := New(4)
	var mu sync.Mutex
	peak, cur, ran := 0, 0, 0
	for i := 0; i < 200; i++ {
		_ = p.Submit(Job{ID: fmt.Sprint(i), Run: func(context.Context) error {
			mu.Lock()
			cur++
			ran++
			peak = max(peak, cur)
			mu.Unlock()
			mu.Lock()
			cur--
			mu.Unlock()
			return nil
		}})
		if i == 100 {
			p.Resize(2)
		}
	}
	waitFor(t, "all jobs", func() bool { mu.Lock(); defer mu.Unlock(); return ran == 200 })
	if peak > 4 {
		t.Fatalf("peak concurrency %d > 4", peak)
	}
	p.Shutdown(context.Background())
}

func ids(js []Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.ID)
	}
	slices.Sort(out)
	return out
}

// Resize(0) holds every queued job; Unqueue takes them back; Interrupt
// stops the running ones and returns them, except one that finished.
func TestPoolPauseUnqueueInterrupt(t *testing.T) {
	g := newGate()
	p := New(2)
	finisher := make(chan struct{})
	finished := Job{ID: "ignores-cancel", Run: func(ctx context.Context) error {
		g.started <- "ignores-cancel"
		<-finisher
		return nil
	}}
	for _, j := range []Job{g.job("a"), finished, g.job("q1"), g.job("q2")} {
		if err := p.Submit(j); err != nil {
			t.Fatal(err)
		}
	}
	recvN(t, g.started, 2)
	p.Resize(0)
	var ids []string
	for _, j := range p.Unqueue() {
		ids = append(ids, j.ID)
	}
	if !slices.Equal(ids, []string{"q1", "q2"}) {
		t.Fatalf("unqueued %v", ids)
	}
	if err := p.Submit(g.job("held")); err != nil {
		t.Fatal(err)
	}
	go func() { close(finisher) }()
	var cut []string
	for _, j := range p.Interrupt() {
		cut = append(cut, j.ID)
	}
	if !slices.Equal(cut, []string{"a"}) {
		t.Fatalf("interrupted %v, want [a]", cut)
	}
	noMore(t, g.started, p)
	if p.Busy() != 0 || p.Queued() != 1 {
		t.Fatalf("busy %d queued %d, want 0 and 1", p.Busy(), p.Queued())
	}
	p.Resize(1) // resuming starts the held job
	recvN(t, g.started, 1)
	close(g.release)
	waitFor(t, "idle", func() bool { return p.Busy() == 0 })
	if left := p.Shutdown(context.Background()); len(left) != 0 {
		t.Fatalf("unfinished %v", left)
	}
}
