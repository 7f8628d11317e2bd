package update_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"wowlab/internal/clock"
	"wowlab/node/update"
)

// waitBlocked returns the wait the checker asked clk for once it has one.
func waitBlocked(t *testing.T, clk *clock.Fake) time.Duration {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if w := clk.Waiting(); len(w) == 1 {
			return w[0]
		}
		select {
		case <-clk.Changed():
		case <-deadline:
			t.Fatal("the checker never waited")
		}
	}
}

func TestCheckerSchedulesAndReports(t *testing.T) {
	f := newFixture(t)
	path := installed(t, "v1.0.0")
	u := f.updater(t, path, "v1.0.0", nil)
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	found := make(chan update.Release, 4)
	c := &update.Checker{
		Updater: u, Clock: clk,
		Interval: 12 * time.Hour, Jitter: time.Hour,
		Rand:  func(n int64) int64 { return n / 4 }, // 30 min into the 2 h window
		Found: func(_ context.Context, r update.Release) error { found <- r; return nil },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	// The first check runs at start and finds nothing.
	if w := waitBlocked(t, clk); w != 11*time.Hour+30*time.Minute {
		t.Fatalf("next check in %v, want 11h30m (12h - 1h jitter + 30m)", w)
	}
	if s := c.Status(); s.Available != nil || s.Checked.IsZero() || s.Err != "" || !s.Automatic || s.Version != "v1.0.0" {
		t.Fatalf("Status after the first check = %+v", s)
	}

	f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
	clk.Advance(11*time.Hour + 30*time.Minute)
	if r := <-found; r.Version != "v1.1.0" {
		t.Fatalf("Found %s", r.Version)
	}
	waitBlocked(t, clk)
	if s := c.Status(); s.Available == nil || s.Available.Version != "v1.1.0" || s.Available.Notes != "notes of v1.1.0" {
		t.Fatalf("Status = %+v", s)
	}

	// The same release found again is not handed over twice.
	clk.Advance(11*time.Hour + 30*time.Minute)
	waitBlocked(t, clk)
	select {
	case r := <-found:
		t.Fatalf("Found %s again", r.Version)
	default:
	}
}

func TestCheckerOffReportsAndNeverHandsOver(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
	for _, tc := range []struct {
		name, off, version, want string
	}{
		{"config", "auto_update = false in config.ini", "v1.0.0", "auto_update = false in config.ini"},
		{"development build", "", "dev", "development build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := f.updater(t, installed(t, "v1.0.0"), tc.version, nil)
			clk := clock.NewFake(time.Unix(0, 0))
			c := &update.Checker{Updater: u, Clock: clk, Off: tc.off,
				Found: func(context.Context, update.Release) error { t.Error("Found called with updates off"); return nil }}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- c.Run(ctx) }()
			if w := waitBlocked(t, clk); w < 11*time.Hour || w > 13*time.Hour {
				t.Errorf("default wait %v is not 12h with up to 1h jitter", w)
			}
			cancel()
			<-done
			s := c.Status()
			if s.Automatic || s.Off == "" || !strings.Contains(s.Off, tc.want) {
				t.Fatalf("Status = %+v, want off because %q", s, tc.want)
			}
			if tc.version == "v1.0.0" && (s.Available == nil || s.Available.Version != "v1.1.0") {
				t.Fatalf("Status.Available = %+v: availability is reported even when off", s.Available)
			}
		})
	}
}

func TestCheckerSkipsHeldVersion(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
	path := installed(t, "v1.0.0")
	u := f.updater(t, path, "v1.0.0", nil)
	writeHold(t, path, "v1.1.0")
	clk := clock.NewFake(time.Unix(0, 0))
	c := &update.Checker{Updater: u, Clock: clk, Found: func(context.Context, update.Release) error { t.Error("held version handed over"); return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	waitBlocked(t, clk)
	cancel()
	<-done
	if s := c.Status(); s.Available != nil {
		t.Fatalf("Status.Available = %+v, want none while v1.1.0 is held", s.Available)
	}
}

// TestCheckerRetriesRefused hands a release over again at the next check
// when Found could not install it.
func TestCheckerRetriesRefused(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
	u := f.updater(t, installed(t, "v1.0.0"), "v1.0.0", nil)
	clk := clock.NewFake(time.Unix(0, 0))
	calls := make(chan struct{}, 4)
	c := &update.Checker{Updater: u, Clock: clk, Interval: time.Hour, Jitter: -1,
		Found: func(context.Context, update.Release) error { calls <- struct{}{}; return context.DeadlineExceeded }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	<-calls
	if w := waitBlocked(t, clk); w != time.Hour {
		t.Fatalf("next check in %v, want 1h with no jitter", w)
	}
	clk.Advance(time.Hour)
	<-calls
}

// writeHold records version as rolled back from, where f.updater's
// HoldFile points.
func writeHold(t *testing.T, binary, version string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(filepath.Dir(binary), "hold"), []byte(version+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// CheckNow checks between the scheduled checks, reports what it found and
// hands a new release over once, however often it is asked.
func TestCheckerCheckNow(t *testing.T) {
	f := newFixture(t)
	u := f.updater(t, installed(t, "v1.0.0"), "v1.0.0", nil)
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	found := make(chan update.Release, 4)
	c := &update.Checker{Updater: u, Clock: clk, Found: func(_ context.Context, r update.Release) error { found <- r; return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitBlocked(t, clk)
	if s := c.CheckNow(ctx); s.Available != nil || s.Err != "" {
		t.Fatalf("CheckNow before a release: %+v", s)
	}
	f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
	for range 2 {
		if s := c.CheckNow(ctx); s.Available == nil || s.Available.Version != "v1.1.0" {
			t.Fatalf("CheckNow after the release: %+v", s)
		}
	}
	if r := <-found; r.Version != "v1.1.0" {
		t.Fatalf("Found %s", r.Version)
	}
	select {
	case r := <-found:
		t.Fatalf("Found %s twice", r.Version)
	default:
	}
}

// TestCheckerSetAutomatic switches automatic updates: the choice is saved
// before it applies, a release found while off is handed over at the first
// check after they are on, and a forced or blocked node refuses the
// switch, changing nothing.
func TestCheckerSetAutomatic(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
	u := f.updater(t, installed(t, "v1.0.0"), "v1.0.0", nil)
	found := make(chan update.Release, 4)
	var saved []bool
	saveErr := error(nil)
	c := &update.Checker{Updater: u, Off: update.OffByConfig,
		Save:  func(on bool) error { saved = append(saved, on); return saveErr },
		Found: func(_ context.Context, r update.Release) error { found <- r; return nil }}
	ctx := context.Background()
	if s := c.CheckNow(ctx); s.Automatic || s.Off != update.OffByConfig || !s.Switchable || s.Available == nil {
		t.Fatalf("off by config: %+v", s)
	}
	if len(found) != 0 {
		t.Fatal("a release was handed over with updates off")
	}
	saveErr = errors.New("disk full")
	if s, err := c.SetAutomatic(true); err == nil || !strings.Contains(err.Error(), "disk full") || s.Automatic {
		t.Fatalf("a failed save: %+v, %v; want the error and updates still off", s, err)
	}
	saveErr = nil
	s, err := c.SetAutomatic(true)
	if err != nil || !s.Automatic || s.Off != "" {
		t.Fatalf("switched on: %+v, %v", s, err)
	}
	c.CheckNow(ctx)
	if r := <-found; r.Version != "v1.1.0" {
		t.Fatalf("handed over %s", r.Version)
	}
	if s, err := c.SetAutomatic(false); err != nil || s.Automatic || s.Off != update.OffByConfig {
		t.Fatalf("switched off: %+v, %v", s, err)
	}
	if want := []bool{true, true, false}; !slices.Equal(saved, want) {
		t.Fatalf("saved %v, want %v", saved, want)
	}

	forced := &update.Checker{Updater: u, Forced: "--no-update is set", Save: func(bool) error { t.Error("a forced node saved the switch"); return nil }}
	if s, err := forced.SetAutomatic(true); !errors.Is(err, update.ErrNotSwitchable) || s.Automatic || s.Switchable || s.Off != "--no-update is set" {
		t.Fatalf("forced off: %+v, %v", s, err)
	}
	dev := &update.Checker{Updater: f.updater(t, installed(t, "v1.0.0"), "dev", nil), Save: func(bool) error { t.Error("a blocked node saved the switch"); return nil }}
	if s, err := dev.SetAutomatic(true); !errors.Is(err, update.ErrNotSwitchable) || s.Switchable || !strings.Contains(s.Off, "development build") {
		t.Fatalf("blocked: %+v, %v", s, err)
	}
}
