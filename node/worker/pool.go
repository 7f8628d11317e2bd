// Package worker runs a node's chunks: one chunk per worker, as many workers
// as the node has cores enabled, resizable while running, with a graceful
// drain on shutdown.
package worker

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by Submit after Shutdown began.
var ErrClosed = errors.New("worker: pool is shut down")

// Job is one unit of work, typically one chunk.
type Job struct {
	// ID names the job (the chunk id).
	ID string
	// Run does the work. ctx ends when the pool's drain grace period is
	// over; Run should then stop and return an error wrapping ctx.Err().
	Run func(ctx context.Context) error
}

// Pool runs submitted jobs, at most Size() at a time, in submission order.
// It is safe for concurrent use.
type Pool struct {
	hardCtx    context.Context // cancelled when the drain grace period ends
	hardCancel context.CancelFunc

	mu      sync.Mutex
	size    int
	queue   []Job
	running int
	closed  bool
	wg      sync.WaitGroup
	cut     []Job // jobs stopped by the end of the grace period
}

// New returns a pool running up to size jobs at once (at least 1).
func New(size int) *Pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{hardCtx: ctx, hardCancel: cancel, size: max(1, size)}
}

// Size returns the number of workers.
func (p *Pool) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size
}

// Busy returns the number of jobs running now.
func (p *Pool) Busy() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// Queued returns the number of jobs waiting for a worker.
func (p *Pool) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// Resize changes the number of workers (at least 1). Growing starts queued
// jobs at once; shrinking lets running jobs finish and starts no new one
// until fewer than n run.
func (p *Pool) Resize(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.size = max(1, n)
	p.dispatchLocked()
}

// Submit queues j; it starts as soon as a worker is free.
func (p *Pool) Submit(j Job) error {
	if j.Run == nil {
		return errors.New("worker: job has no Run function")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.queue = append(p.queue, j)
	p.dispatchLocked()
	return nil
}

func (p *Pool) dispatchLocked() {
	for !p.closed && p.running < p.size && len(p.queue) > 0 {
		j := p.queue[0]
		p.queue[0] = Job{}
		p.queue = p.queue[1:]
		p.running++
		p.wg.Add(1)
		go p.run(j)
	}
}

func (p *Pool) run(j Job) {
	defer p.wg.Done()
	err := j.Run(p.hardCtx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
	if err != nil && p.hardCtx.Err() != nil && errors.Is(err, context.Canceled) {
		p.cut = append(p.cut, j)
	}
	p.dispatchLocked()
}

// Shutdown stops taking work and waits for running jobs until ctx ends (the
// grace period); then it cancels the jobs still running and waits for them
// to return. It returns the jobs that did not finish: those never started
// and those cut off by the cancellation (Run returned an error wrapping
// context.Canceled), for the caller to hand back. Calling it again returns
// nothing.
func (p *Pool) Shutdown(ctx context.Context) []Job {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	unstarted := p.queue
	p.queue = nil
	p.mu.Unlock()

	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		p.hardCancel()
		<-done
	}
	p.hardCancel()

	p.mu.Lock()
	defer p.mu.Unlock()
	out := append(unstarted, p.cut...)
	p.cut = nil
	return out
}
