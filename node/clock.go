package node

import "time"

// Clock is the time source of the node: Core's timers, request timestamps,
// cache expiry and statistics. Tests use a fake one. Any supabase.Clock is
// one too.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
