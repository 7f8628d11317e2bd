package sentinel

import (
	"context"
	"sync"
	"time"

	"wowlab/sentinel/store"
)

// maxCommitBatch bounds the completions one transaction writes.
const maxCommitBatch = 512

// commitTimeout bounds the writing of one batch. A batch is written for
// every completion in it, so it does not end with the request of any one
// of them.
const commitTimeout = 30 * time.Second

// groupCommit writes chunk completions in batches (group commit): a
// completion that arrives while a batch is being written waits for the
// next one, which writes all that waited in one transaction. So a fleet
// finishing its chunks at once costs one commit and one job row update
// per batch, not per chunk, and a lone completion is written at once. No
// goroutine runs between batches: the first to arrive writes, and when its
// batch is written it hands the writing on to the first that waited.
type groupCommit struct {
	write func(ctx context.Context, cs []store.Completion) ([]store.CompletionOutcome, error)

	mu      sync.Mutex
	queue   []*waitingCompletion
	writing bool
}

type waitingCompletion struct {
	c    store.Completion
	out  store.CompletionOutcome
	err  error
	done chan struct{} // closed when written
	lead chan struct{} // closed when it is to write the next batch
}

// complete writes c with the batch it falls in and returns its outcome.
func (g *groupCommit) complete(ctx context.Context, c store.Completion) (store.CompletionOutcome, error) {
	w := &waitingCompletion{c: c, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.writing {
		g.mu.Unlock()
		select {
		case <-w.done:
			return w.out, w.err
		case <-w.lead:
		}
	} else {
		g.writing = true
		g.mu.Unlock()
	}
	// The writer is first in the queue: its batch holds it.
	g.mu.Lock()
	n := min(len(g.queue), maxCommitBatch)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()
	g.writeBatch(context.WithoutCancel(ctx), batch)
	g.mu.Lock()
	if len(g.queue) > 0 {
		close(g.queue[0].lead)
	} else {
		g.writing = false
	}
	g.mu.Unlock()
	return w.out, w.err
}

// writeBatch writes a batch and gives each completion its outcome. When
// the batch fails as a whole, each is written alone, so that one the
// store refuses (an unknown chunk, a job whose result cannot be made)
// fails alone.
func (g *groupCommit) writeBatch(ctx context.Context, batch []*waitingCompletion) {
	ctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	cs := make([]store.Completion, len(batch))
	for i, w := range batch {
		cs[i] = w.c
	}
	outs, err := g.write(ctx, cs)
	if err != nil && len(batch) > 1 {
		for _, w := range batch {
			one, err := g.write(ctx, []store.Completion{w.c})
			if err == nil {
				w.out = one[0]
			}
			w.err = err
			close(w.done)
		}
		return
	}
	for i, w := range batch {
		if err == nil {
			w.out = outs[i]
		}
		w.err = err
		close(w.done)
	}
}
