package supabase

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff computes exponential delays with optional random jitter. The
// zero value gives 1 s doubling to a 60 s cap without jitter.
type Backoff struct {
	Initial    time.Duration // first delay; 0 means 1 s
	Max        time.Duration // cap before jitter; 0 means 60 s
	Multiplier float64       // growth per attempt; values <= 1 mean 2
	// Jitter is the upper bound of a uniformly random extra delay added to
	// every delay (0 means none).
	Jitter time.Duration
	// Rand returns a number in [0,1) for the jitter; nil means math/rand/v2.
	Rand func() float64
}

// Delay returns the delay before retry number attempt (0 for the first
// retry): min(Initial*Multiplier^attempt, Max) plus jitter.
func (b Backoff) Delay(attempt int) time.Duration {
	initial, maxD, mult := b.Initial, b.Max, b.Multiplier
	if initial <= 0 {
		initial = time.Second
	}
	if maxD <= 0 {
		maxD = 60 * time.Second
	}
	if mult <= 1 {
		mult = 2
	}
	d := float64(initial)
	for i := 0; i < attempt && d < float64(maxD); i++ {
		d *= mult
	}
	delay := time.Duration(min(d, float64(maxD)))
	if b.Jitter > 0 {
		r := rand.Float64
		if b.Rand != nil {
			r = b.Rand
		}
		f := r()
		if f < 0 || f >= 1 {
			f = 0
		}
		delay += time.Duration(f * float64(b.Jitter))
	}
	return delay
}

// RetryPolicy says how Retry retries. The zero value makes 5 attempts with
// Backoff's defaults on the system clock.
type RetryPolicy struct {
	// MaxAttempts is the total number of tries, the first included; 0 means 5.
	MaxAttempts int
	// Backoff gives the delay between tries. A 429's Retry-After, when
	// longer, replaces it.
	Backoff Backoff
	// Clock waits between tries; nil means the system clock.
	Clock Clock
}

// Retry calls op until it succeeds, fails with an error that is not
// Retryable, MaxAttempts tries were made, or ctx ends. It waits between
// tries per p.Backoff, or for a 429's Retry-After when that is longer. The
// error returned wraps op's last error (or is ctx's error when ctx ended
// while waiting).
func Retry(ctx context.Context, p RetryPolicy, op func(context.Context) error) error {
	attempts := p.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	clock := clockOrSystem(p.Clock)
	for i := 0; ; i++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if !Retryable(err) || ctx.Err() != nil {
			return err
		}
		if i+1 >= attempts {
			return fmt.Errorf("supabase: gave up after %d attempts: %w", attempts, err)
		}
		delay := p.Backoff.Delay(i)
		var rl *RateLimitError
		if errors.As(err, &rl) && rl.RetryAfter > delay {
			delay = rl.RetryAfter
		}
		if serr := sleep(ctx, clock, delay); serr != nil {
			return fmt.Errorf("supabase: retry cancelled (last error: %v): %w", err, serr)
		}
	}
}
