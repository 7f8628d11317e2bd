package update

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"wowlab/internal/clock"
)

// Check schedule a Checker left zero takes: every 12 hours, each wait
// moved by up to an hour either way so a fleet started together does not
// ask the feed all at once.
const (
	DefaultInterval = 12 * time.Hour
	DefaultJitter   = time.Hour
)

// OffByConfig is why automatic updates are off when the node's
// configuration turns them off.
const OffByConfig = "auto_update = false in config.ini"

// Status is what the node shows about updates.
type Status struct {
	Version   string // running version
	Feed      string // where releases come from
	Automatic bool   // found releases are installed without asking
	Off       string // why automatic updates are off, when they are
	// Switchable says whether SetAutomatic may turn them on or off: not
	// while a flag forces them off or the install cannot update itself.
	Switchable bool
	Available  *Release  // newest release above the running one, if any
	Checked    time.Time // last check, zero before the first
	Err        string    // last check's error, if it failed
}

// Checker looks for a new release at start and then every Interval (with
// jitter), and keeps what it found for Status. When automatic updates are
// on it hands each newly found release to Found, which belongs to the
// node's core: stage it, drain between chunks, commit and restart. A
// release Found returns an error for is handed over again at the next
// check, so a download cut short is tried again.
type Checker struct {
	Updater  *Updater
	Clock    clock.Clock         // default the system clock
	Interval time.Duration       // default DefaultInterval
	Jitter   time.Duration       // default DefaultJitter or Interval/12 when less; negative for none
	Rand     func(n int64) int64 // uniform in [0, n); default math/rand/v2
	// Off is why automatic updates are off by configuration (OffByConfig);
	// "" leaves them on unless Forced or the Updater is Blocked.
	// SetAutomatic changes it while the checker runs.
	Off string
	// Forced is why automatic updates are off whatever the configuration
	// says (a --no-update flag), or "".
	Forced string
	// Save records a SetAutomatic choice in the configuration before it
	// applies; nil records nothing.
	Save   func(on bool) error
	Found  func(context.Context, Release) error
	Logger *slog.Logger

	checking sync.Mutex // one check at a time

	mu     sync.Mutex
	status Status
	found  string // version last handed to Found
}

func (c *Checker) clock() clock.Clock {
	if c.Clock == nil {
		return clock.System{}
	}
	return c.Clock
}

// CheckNow checks at once, between the scheduled checks (a user asked), and
// returns the status after it; a release found is handled as at any check.
func (c *Checker) CheckNow(ctx context.Context) Status {
	c.check(ctx, c.clock())
	return c.Status()
}

// Run checks until ctx is done and returns nil then.
func (c *Checker) Run(ctx context.Context) error {
	clk := c.clock()
	interval, jitter := c.Interval, c.Jitter
	if interval <= 0 {
		interval = DefaultInterval
	}
	switch {
	case jitter < 0:
		jitter = 0
	case jitter == 0:
		jitter = min(DefaultJitter, interval/12)
	case jitter >= interval:
		jitter = interval / 2
	}
	random := c.Rand
	if random == nil {
		random = rand.Int64N
	}
	for {
		c.check(ctx, clk)
		wait := interval
		if jitter > 0 {
			wait += time.Duration(random(int64(2*jitter))) - jitter
		}
		select {
		case <-ctx.Done():
			return nil
		case <-clk.After(wait):
		}
	}
}

// Status returns what the last check found.
func (c *Checker) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	s.Version, s.Feed = c.Updater.Version(), c.Updater.Feed().String()
	blocked := c.Updater.Blocked()
	s.Off = c.offGiven(blocked)
	s.Automatic = s.Off == ""
	s.Switchable = c.Forced == "" && blocked == nil
	if s.Available != nil {
		r := *s.Available
		s.Available = &r
	}
	return s
}

// off returns why automatic updates are off, or "": Forced first, then a
// blocked install, then the configuration.
func (c *Checker) off() string { return c.offGiven(c.Updater.Blocked()) }

// offGiven is off with the Updater's Blocked answer.
func (c *Checker) offGiven(blocked error) string {
	if c.Forced != "" {
		return c.Forced
	}
	if err := blocked; err != nil {
		var b *BlockedError
		if errors.As(err, &b) {
			return b.Reason
		}
		return err.Error()
	}
	return c.Off
}

// SetAutomatic turns automatic updates on or off by configuration: Save
// records the choice, then it applies. A release found while they were off
// is handed to Found at the first check after they are turned on. It
// changes nothing and fails while they are not Switchable, or when Save
// fails.
func (c *Checker) SetAutomatic(on bool) (Status, error) {
	if st := c.Status(); !st.Switchable {
		return st, fmt.Errorf("%w: %s", ErrNotSwitchable, st.Off)
	}
	if c.Save != nil {
		if err := c.Save(on); err != nil {
			return c.Status(), fmt.Errorf("save the automatic update setting: %w", err)
		}
	}
	c.mu.Lock()
	c.Off = OffByConfig
	if on {
		c.Off = ""
	}
	c.mu.Unlock()
	return c.Status(), nil
}

// ErrNotSwitchable means automatic updates are off whatever the
// configuration says, so SetAutomatic cannot change them.
var ErrNotSwitchable = errors.New("automatic updates cannot be switched on this node")

func (c *Checker) check(ctx context.Context, clk clock.Clock) {
	c.checking.Lock()
	defer c.checking.Unlock()
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rel, err := c.Updater.Check(ctx)
	held := c.Updater.Held()
	if err == nil && held != "" && !Newer(rel.Version, held) {
		err = ErrNoUpdate // rolled back from this version: wait for a newer one
	}
	c.mu.Lock()
	c.status.Checked = clk.Now()
	c.status.Err = ""
	var newly bool
	switch {
	case err == nil:
		c.status.Available = &rel
		newly = rel.Version != c.found
	case errors.Is(err, ErrNoUpdate), errors.As(err, new(*BlockedError)):
		c.status.Available = nil // a blocked updater's reason is Status.Off
	default:
		c.status.Err = err.Error()
	}
	off := c.off()
	if newly && off == "" {
		c.found = rel.Version
	}
	c.mu.Unlock()

	switch {
	case err == nil && newly:
		log.Info("update available", "version", rel.Version, "running", c.Updater.Version(), "automatic", off == "", "off", off)
		if off == "" && c.Found != nil {
			if err := c.Found(ctx, rel); err != nil {
				c.mu.Lock()
				c.found = ""
				c.mu.Unlock()
			}
		}
	case err != nil && !errors.Is(err, ErrNoUpdate) && !errors.As(err, new(*BlockedError)) && ctx.Err() == nil:
		log.Warn("update check failed; the node keeps running its version", "err", err)
	}
}
