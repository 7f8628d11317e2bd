package node

import (
	"fmt"
	"testing"
	"time"

	"wowlab/internal/clock"
	"wowlab/protocol"
)

// waitWaiting waits until the fake clock has a wait between lo and hi.
func waitWaiting(t *testing.T, clk *clock.Fake, lo, hi time.Duration) time.Duration {
	t.Helper()
	var got time.Duration
	waitUntil(t, fmt.Sprintf("a wait between %v and %v", lo, hi), func() bool {
		for _, d := range clk.Waiting() {
			if d >= lo && d <= hi {
				got = d
				return true
			}
		}
		return false
	})
	return got
}

// A token answer whose expiry is in the past, 0 or missing is refreshed at
// most every minTokenRefresh, then with backoff: not in a busy loop.
func TestCoreTokenRefreshWithUnusableExpiry(t *testing.T) {
	for name, expires := range map[string]func() int64{
		"past":    func() int64 { return time.Now().Add(-time.Hour).Unix() },
		"zero":    func() int64 { return 0 },
		"seconds": func() int64 { return time.Now().Add(2 * time.Second).Unix() },
	} {
		t.Run(name, func(t *testing.T) {
			b, _ := claimedBackend(t)
			b.set(func(b *backend) { b.tokenExpires = expires })
			// Fake time stays within the signature's clock skew of real time.
			clk := clock.NewFake(time.Now())
			startNode(t, b, "", func(o *Options) { o.Clock = clk })
			b.waitSubscribed(t, "realtime:chunks:"+testNodeID)
			for k, wait := range []time.Duration{minTokenRefresh, 2 * minTokenRefresh, 4 * minTokenRefresh} {
				waitWaiting(t, clk, wait, wait)
				if got := b.count(protocol.PathToken); got != k+1 {
					t.Fatalf("%d token requests before refresh %d, want %d", got, k+1, k+1)
				}
				clk.Advance(wait)
				waitUntil(t, "the refresh", func() bool { return b.count(protocol.PathToken) == k+2 })
			}
		})
	}
}
