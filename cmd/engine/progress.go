package main

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressInterval is how often the progress bar is redrawn.
const progressInterval = 100 * time.Millisecond

// progress shows how far a run is on a progress bar. The engine calls
// Update from every simulating goroutine after every iteration, so Update
// only records the count; a separate goroutine draws it at most every
// progressInterval. The zero value (no bar) does nothing.
type progress struct {
	done atomic.Int64
	bar  *progressbar.ProgressBar
	stop chan struct{}
	wg   sync.WaitGroup
}

// newProgress returns a progress bar for total iterations on w when w is a
// terminal, and one that shows nothing otherwise (pipes, files, tests).
func newProgress(w io.Writer, total int) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return startProgress(w, total, progressInterval)
}

// startProgress draws a bar for total iterations on w every interval until
// Stop.
func startProgress(w io.Writer, total int, interval time.Duration) *progress {
	p := &progress{
		bar: progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("simulating"),
			progressbar.OptionSetItsString("it"),
			progressbar.OptionShowIts(),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(interval),
			progressbar.OptionClearOnFinish(),
		),
		stop: make(chan struct{}),
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				_ = p.bar.Set(int(p.done.Load())) // a bar that cannot be drawn is not worth failing the run
			}
		}
	}()
	return p
}

// Func returns the function to pass as engine.RunOptions.Progress: nil
// when no bar is shown, so the engine skips the calls.
func (p *progress) Func() func(done int) {
	if p.bar == nil {
		return nil
	}
	return p.Update
}

// Update records that done iterations are finished. It is safe for
// concurrent use; counts may arrive out of order and only the highest
// counts.
func (p *progress) Update(done int) {
	if p.bar == nil {
		return
	}
	for {
		cur := p.done.Load()
		if int64(done) <= cur || p.done.CompareAndSwap(cur, int64(done)) {
			return
		}
	}
}

// Stop draws the final count and removes the bar.
func (p *progress) Stop() {
	if p.bar == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	_ = p.bar.Set(int(p.done.Load()))
	_ = p.bar.Finish()
}
