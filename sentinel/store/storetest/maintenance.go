package storetest

import (
	"context"
	"errors"
	"time"

	"wowlab/sentinel/store"
)

func testRememberSignature(f *fixture) {
	now := t0
	exp := now.Add(10 * time.Minute)
	remember := func(sig string, now, exp time.Time) bool {
		f.t.Helper()
		got, err := f.s.RememberSignature(f.ctx, store.Signature{Signature: sig, Key: "key-unknown", Now: now, Expires: exp})
		f.check(err)
		if got.Known {
			f.t.Fatalf("signature %q: a node for an unknown key: %+v", sig, got.Node)
		}
		return got.Fresh
	}
	for i, want := range []bool{true, false} {
		if fresh := remember("sig", now, exp); fresh != want {
			f.t.Fatalf("call %d: fresh %v; want %v", i, fresh, want)
		}
	}
	if !remember("other", now, exp) {
		f.t.Fatal("another signature is not fresh")
	}
	// Still remembered at its expiry instant, forgotten after it.
	if remember("sig", exp, exp.Add(time.Minute)) {
		f.t.Fatal("fresh at its expiry")
	}
	later := exp.Add(time.Second)
	if !remember("sig", later, later.Add(time.Minute)) {
		f.t.Fatal("not fresh after its expiry")
	}
	if remember("sig", later, later.Add(time.Minute)) {
		f.t.Fatal("replay of the renewed signature is fresh")
	}
	// Pruning forgets expired signatures only.
	f.check(f.s.PruneSignatures(f.ctx, later))
	if remember("sig", later, later.Add(time.Minute)) {
		f.t.Fatal("unexpired signature fresh after prune")
	}
	f.check(f.s.PruneSignatures(f.ctx, later.Add(2*time.Minute)))
	if !remember("other", later, later.Add(time.Minute)) {
		f.t.Fatal("pruned signature is not fresh")
	}

	// The node of the key comes with the answer, fresh or replayed, with
	// what a heartbeat compares: its capacity and chunk offer.
	owner := f.user("signer")
	n := f.online(owner.ID, 4, t0)
	capacity := 3
	_, err := f.s.SetNodeCapacity(f.ctx, n.ID, &capacity)
	f.check(err)
	f.check(f.s.SetNodeChunks(f.ctx, n.ID, 5000, 1234.5))
	want, err := f.s.NodeByID(f.ctx, n.ID)
	f.check(err)
	if want.Capacity == nil || *want.Capacity != capacity || want.ChunkMax != 5000 || want.Throughput != 1234.5 {
		f.t.Fatalf("NodeByID = %+v; want capacity %d and offer 5000 at 1234.5", want, capacity)
	}
	for i, fresh := range []bool{true, false} {
		got, err := f.s.RememberSignature(f.ctx, store.Signature{Signature: "by-node", Key: n.PublicKey, Now: now, Expires: exp})
		f.check(err)
		if got.Fresh != fresh || !got.Known || !sameNode(got.Node, want) {
			f.t.Fatalf("call %d by the node: %+v; want fresh %v and %+v", i, got, fresh, want)
		}
	}
}

func testRunExclusive(f *fixture) {
	t := f.t
	runs := 0
	fn := func(ctx context.Context) error {
		runs++
		// fn may use the store.
		_, err := f.s.DeleteStaleNodes(ctx, t0, t0)
		return err
	}
	for i, step := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {time.Minute, false}, {time.Hour, true}, {time.Hour + time.Second, false}} {
		ran, err := f.s.RunExclusive(f.ctx, "task", time.Hour, t0.Add(step.at), fn)
		if err != nil || ran != step.want {
			t.Fatalf("step %d: ran %v, %v; want %v", i, ran, err, step.want)
		}
	}
	if runs != 2 {
		t.Fatalf("ran %d times, want 2", runs)
	}

	// A failed run is not recorded: the next call runs again.
	boom := errors.New("boom")
	ran, err := f.s.RunExclusive(f.ctx, "failing", time.Hour, t0, func(context.Context) error { return boom })
	if !errors.Is(err, boom) || ran {
		t.Fatalf("failing run: ran %v, %v", ran, err)
	}
	if ran, err := f.s.RunExclusive(f.ctx, "failing", time.Hour, t0, func(context.Context) error { return nil }); err != nil || !ran {
		t.Fatalf("run after a failure: ran %v, %v", ran, err)
	}

	// While a task runs, the same task is not run again; another task is.
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := f.s.RunExclusive(f.ctx, "slow", time.Nanosecond, t0, func(context.Context) error {
			close(started)
			<-release
			return nil
		})
		done <- err
	}()
	<-started
	ran, err = f.s.RunExclusive(f.ctx, "slow", time.Nanosecond, t0.Add(time.Hour), func(context.Context) error {
		t.Error("a running task ran twice")
		return nil
	})
	if err != nil || ran {
		t.Fatalf("concurrent run: ran %v, %v", ran, err)
	}
	if ran, err := f.s.RunExclusive(f.ctx, "other", time.Hour, t0, func(context.Context) error { return nil }); err != nil || !ran {
		t.Fatalf("another task while one runs: ran %v, %v", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
