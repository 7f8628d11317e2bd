package supabase

import (
	"sync"
	"testing"
	"time"

	"wowlab/internal/clock"
)

// instantClock fires every After at once, advancing its time, and records
// the durations waited: Retry tests see their backoff without sleeping.
type instantClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newInstantClock() *instantClock {
	return &instantClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *instantClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *instantClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func newFakeClock() *clock.Fake {
	return clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// waitForWaiter blocks until some pending wait of c asked for a duration
// that satisfies ok and returns it; it fails the test after 5 s.
func waitForWaiter(t *testing.T, c *clock.Fake, what string, ok func(time.Duration) bool) time.Duration {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		for _, d := range c.Waiting() {
			if ok(d) {
				return d
			}
		}
		select {
		case <-c.Changed():
		case <-deadline:
			t.Fatalf("timed out waiting for a clock waiter: %s", what)
		}
	}
}
