package supabase

import (
	"context"
	"time"

	"wowlab/internal/clock"
)

// Clock is the time source of this package; tests inject a fake one so that
// backoff, heartbeats and Retry-After need no real waiting.
type Clock = clock.Clock

func clockOrSystem(c Clock) Clock {
	if c == nil {
		return clock.System{}
	}
	return c
}

// sleep waits for d on clock c, or returns ctx's error if ctx ends first.
func sleep(ctx context.Context, c Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}
