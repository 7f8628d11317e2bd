package node

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

// waitWaiters waits until n goroutines wait at the gate.
func waitWaiters(t *testing.T, g *coreGate, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		g.mu.Lock()
		got := g.waiters.Len()
		g.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines wait at the gate, want %d", got, n)
		}
		runtime.Gosched()
	}
}

// A freed slot goes to the oldest chunk waiting, whatever the order the
// goroutines came in.
func TestCoreGateServesTheOldestChunkFirst(t *testing.T) {
	g := newCoreGate(1)
	ctx := context.Background()
	if err := g.acquire(ctx, 5); err != nil {
		t.Fatal(err)
	}
	served := make(chan uint64, 3)
	var wg sync.WaitGroup
	for i, order := range []uint64{9, 3, 7} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.acquire(ctx, order); err != nil {
				t.Error(err)
				return
			}
			served <- order
			g.release()
		}()
		waitWaiters(t, g, i+1)
	}
	g.release()
	wg.Wait()
	close(served)
	var got []uint64
	for o := range served {
		got = append(got, o)
	}
	if len(got) != 3 || got[0] != 3 || got[1] != 7 || got[2] != 9 {
		t.Fatalf("served %v, want [3 7 9]", got)
	}
}

// No more slots are held than the limit; raising it lets waiters in at
// once, lowering it lets no new one in until enough were given back.
func TestCoreGateFollowsItsLimit(t *testing.T) {
	g := newCoreGate(2)
	ctx := context.Background()
	for range 2 {
		if err := g.acquire(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	in := make(chan struct{}, 2)
	for range 2 {
		go func() {
			if g.acquire(ctx, 2) == nil {
				in <- struct{}{}
			}
		}()
	}
	waitWaiters(t, g, 2)
	g.setLimit(4)
	<-in
	<-in
	g.setLimit(1)
	for range 3 {
		g.release()
	}
	late := make(chan struct{})
	go func() {
		if g.acquire(ctx, 0) == nil {
			close(late)
		}
	}()
	waitWaiters(t, g, 1)
	g.mu.Lock()
	used := g.used
	g.mu.Unlock()
	if used != 1 {
		t.Fatalf("%d slots held, want 1", used)
	}
	g.release()
	<-late
	g.release()
	if g.setLimit(0); g.limit != 1 {
		t.Fatalf("limit %d after setLimit(0), want 1 (a paused node's chunks finish)", g.limit)
	}
}

// A waiter whose context ends leaves the queue and takes no slot; the
// core time counts the slots held.
func TestCoreGateCancelAndBusyTime(t *testing.T) {
	g := newCoreGate(1)
	if err := g.acquire(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.acquire(ctx, 0) }()
	waitWaiters(t, g, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire after cancel: %v", err)
	}
	waitWaiters(t, g, 0)
	held := g.busyTime()
	if held <= 0 {
		t.Fatalf("core time %v while a slot is held", held)
	}
	g.release()
	after := g.busyTime()
	if after < held || g.busyTime() != after {
		t.Fatalf("core time %v then %v after release, then %v: want it to grow while held and stop after", held, after, g.busyTime())
	}
	if err := g.acquire(context.Background(), 2); err != nil {
		t.Fatalf("the slot was not given back: %v", err)
	}
}

// The speed per core is iterations over core time; after the first
// estimate, one over less than speedSpan is not taken, and a later one is
// averaged with the one before.
func TestSpeedometer(t *testing.T) {
	var s speedometer
	if got := s.sample(0, 0); got != 0 {
		t.Fatalf("speed before any work %v", got)
	}
	if got := s.sample(1000, 100*time.Millisecond); got != 10_000 {
		t.Fatalf("first speed %v, want 10000", got)
	}
	if got := s.sample(2000, 200*time.Millisecond); got != 10_000 {
		t.Fatalf("speed after 0.1 s more %v, want the first estimate kept", got)
	}
	if got := s.sample(1000+40_000, 100*time.Millisecond+2*time.Second); got != 15_000 {
		t.Fatalf("speed after 2 s at 20000 %v, want the average 15000", got)
	}
}
