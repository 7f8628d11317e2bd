package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"wowlab/internal/pgtest"
	"wowlab/sentinel/store"
	"wowlab/sentinel/store/storetest"
)

// TestConformance runs the shared Store suite on PostgreSQL, each case on a
// private database with the listener connected.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		dsn := pgtest.New(t)
		p, err := store.Open(ctx, dsn, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Migrate(ctx); err != nil {
			p.Close()
			t.Fatal(err)
		}
		// The feed is live once the listener's first reset arrives.
		sub := p.Subscribe(16)
		done := make(chan error, 1)
		go func() { done <- p.Listen(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
			p.Close()
		})
		deadline := time.After(30 * time.Second)
		for connected := false; !connected; {
			select {
			case n := <-sub.C:
				connected = n.Kind == store.KindReset
			case <-deadline:
				t.Fatal("the listener did not connect")
			}
		}
		sub.Close()
		return storetest.Harness{Store: p}
	})
}
