// Package clock is the time source of the node and its Supabase clients:
// the system clock in production, and Fake, a clock that moves only when a
// test says so, so that backoff, heartbeats and expiry need no real waiting.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

// System is the real clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// After is time.After.
func (System) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Fake is a Clock that moves only in Advance. It lists the waits it was
// asked for, so a test can wait until the code under test blocks on one.
// It is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	changed chan struct{}
}

type waiter struct {
	at time.Time
	d  time.Duration
	ch chan time.Time
}

// NewFake returns a Fake standing at start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{}, 1)}
}

// Now returns the fake time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives once Advance has moved the clock d
// on (at once for d <= 0).
func (c *Fake) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := waiter{at: c.now.Add(d), d: d, ch: make(chan time.Time, 1)}
	if d <= 0 {
		w.ch <- c.now
	} else {
		c.waiters = append(c.waiters, w)
	}
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return w.ch
}

// Advance moves the clock on by d and fires every wait that is due.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// Waiting returns the durations asked for by the waits not yet fired.
func (c *Fake) Waiting() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, len(c.waiters))
	for i, w := range c.waiters {
		out[i] = w.d
	}
	return out
}

// Changed receives (without blocking the clock) after each call of After.
func (c *Fake) Changed() <-chan struct{} { return c.changed }
