package storetest

import (
	"context"
	"errors"
	"time"
)

func testRememberSignature(f *fixture) {
	now := t0
	exp := now.Add(10 * time.Minute)
	for i, want := range []bool{true, false} {
		fresh, err := f.s.RememberSignature(f.ctx, "sig", now, exp)
		if err != nil || fresh != want {
			f.t.Fatalf("call %d: fresh %v, %v; want %v", i, fresh, err, want)
		}
	}
	if fresh, err := f.s.RememberSignature(f.ctx, "other", now, exp); err != nil || !fresh {
		f.t.Fatalf("another signature: fresh %v, %v", fresh, err)
	}
	// Still remembered at its expiry instant, forgotten after it.
	if fresh, err := f.s.RememberSignature(f.ctx, "sig", exp, exp.Add(time.Minute)); err != nil || fresh {
		f.t.Fatalf("at expiry: fresh %v, %v", fresh, err)
	}
	later := exp.Add(time.Second)
	if fresh, err := f.s.RememberSignature(f.ctx, "sig", later, later.Add(time.Minute)); err != nil || !fresh {
		f.t.Fatalf("after expiry: fresh %v, %v", fresh, err)
	}
	if fresh, err := f.s.RememberSignature(f.ctx, "sig", later, later.Add(time.Minute)); err != nil || fresh {
		f.t.Fatalf("replay of the renewed signature: fresh %v, %v", fresh, err)
	}
	// Pruning forgets expired signatures only.
	f.check(f.s.PruneSignatures(f.ctx, later))
	if fresh, err := f.s.RememberSignature(f.ctx, "sig", later, later.Add(time.Minute)); err != nil || fresh {
		f.t.Fatalf("unexpired signature after prune: fresh %v, %v", fresh, err)
	}
	f.check(f.s.PruneSignatures(f.ctx, later.Add(2*time.Minute)))
	if fresh, err := f.s.RememberSignature(f.ctx, "other", later, later.Add(time.Minute)); err != nil || !fresh {
		f.t.Fatalf("pruned signature: fresh %v, %v", fresh, err)
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
