package sentinel

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"wowlab/sentinel/store"
)

// Completions that arrive while a batch is written are written together
// in the next one, each with its own outcome; a batch the store refuses
// is written again one by one, so only the bad completion fails.
func TestGroupCommitBatchesAndIsolatesFailures(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	g := &groupCommit{}
	g.write = func(_ context.Context, cs []store.Completion) ([]store.CompletionOutcome, error) {
		mu.Lock()
		first := len(sizes) == 0
		sizes = append(sizes, len(cs))
		mu.Unlock()
		if first {
			<-release // the first batch is slow: the others queue behind it
		}
		outs := make([]store.CompletionOutcome, len(cs))
		for i, c := range cs {
			if c.ChunkID == "bad" {
				return nil, store.ErrNotFound
			}
			outs[i] = store.CompletionOutcome{Applied: true, ChunkStatus: c.ChunkID}
		}
		return outs, nil
	}
	ids := []string{"first", "a", "b", "bad", "c", "d"}
	type answer struct {
		out store.CompletionOutcome
		err error
	}
	answers := make([]answer, len(ids))
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Go(func() {
			out, err := g.complete(context.Background(), store.Completion{ChunkID: ids[i]})
			answers[i] = answer{out, err}
		})
	}
	start(0)
	waitFor := func(cond func() bool) {
		for {
			g.mu.Lock()
			ok := cond()
			g.mu.Unlock()
			if ok {
				return
			}
			runtime.Gosched()
		}
	}
	waitFor(func() bool { return g.writing && len(g.queue) == 0 })
	for i := 1; i < len(ids); i++ {
		start(i)
	}
	waitFor(func() bool { return len(g.queue) == len(ids)-1 })
	close(release)
	wg.Wait()
	// The first alone, then the five together (refused), then one by one.
	if len(sizes) != 2+5 || sizes[0] != 1 || sizes[1] != 5 {
		t.Fatalf("batches of %v, want [1 5 1 1 1 1 1]", sizes)
	}
	for i, id := range ids {
		a := answers[i]
		if id == "bad" {
			if !errors.Is(a.err, store.ErrNotFound) {
				t.Fatalf("the bad completion answered %+v", a)
			}
			continue
		}
		if a.err != nil || !a.out.Applied || a.out.ChunkStatus != id {
			t.Fatalf("completion %s answered %+v", id, a)
		}
	}
	if g.writing || len(g.queue) != 0 {
		t.Fatalf("after the batches: writing %v, %d queued", g.writing, len(g.queue))
	}
}
