// Package worker runs a node's chunks: one chunk per worker, as many workers
// as the node may use cores, resizable while running (down to none, which
// holds every queued job), with the queued jobs taken back and the running
// ones interrupted on demand, and a graceful drain on shutdown.
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
	active  map[*runningJob]struct{}
	closed  bool
	wg      sync.WaitGroup
	cut     []Job // jobs stopped by the end of the grace period
}

// runningJob is a job a worker runs, with what interrupts it.
type runningJob struct {
	job         Job
	cancel      context.CancelFunc
	done        chan struct{} // closed when Run returned
	interrupted bool          // Interrupt cancelled it
	cut         bool          // and Run returned an error wrapping context.Canceled
}

// New returns a pool running up to size jobs at once (0: none until
// Resize).
func New(size int) *Pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{hardCtx: ctx, hardCancel: cancel, size: max(0, size), active: map[*runningJob]struct{}{}}
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

// Resize changes the number of workers. Growing starts queued jobs at
// once; shrinking lets running jobs finish and starts no new one until
// fewer than n run; 0 starts none.
func (p *Pool) Resize(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.size = max(0, n)
	p.dispatchLocked()
}

// Unqueue removes the jobs waiting for a worker and returns them, in
// submission order, for the caller to hand back.
func (p *Pool) Unqueue() []Job {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.queue
	p.queue = nil
	return out
}

// Interrupt cancels the context of every running job, waits for them to
// return and gives back those that stopped unfinished (Run returned an
// error wrapping context.Canceled), for the caller to hand back. Jobs
// that finished anyway are not among them. It does not stop queued jobs
// from starting: Resize(0) first for that.
func (p *Pool) Interrupt() []Job {
	p.mu.Lock()
	var jobs []*runningJob
	for r := range p.active {
		r.interrupted = true
		jobs = append(jobs, r)
	}
	p.mu.Unlock()
	for _, r := range jobs {
		r.cancel()
	}
	var out []Job
	for _, r := range jobs {
		<-r.done
		p.mu.Lock()
		if r.cut {
			out = append(out, r.job)
		}
		p.mu.Unlock()
	}
	return out
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
		ctx, cancel := context.WithCancel(p.hardCtx)
		r := &runningJob{job: j, cancel: cancel, done: make(chan struct{})}
		p.active[r] = struct{}{}
		p.wg.Add(1)
		go p.run(ctx, r)
	}
}

func (p *Pool) run(ctx context.Context, r *runningJob) {
	defer p.wg.Done()
	err := r.job.Run(ctx)
	r.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
	delete(p.active, r)
	canceled := err != nil && errors.Is(err, context.Canceled)
	switch {
	case canceled && p.hardCtx.Err() != nil:
		p.cut = append(p.cut, r.job)
	case canceled && r.interrupted:
		r.cut = true
	}
	close(r.done)
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
