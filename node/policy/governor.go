package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"wowlab/internal/clock"
)

// DefaultInterval is how often a Governor reads the machine. With it the
// busy rule acts after two readings over the limit (BusyAfter).
const DefaultInterval = 5 * time.Second

// probeTimeout bounds one reading of one probe.
const probeTimeout = 10 * time.Second

// Machine is what a Governor knows of the computer's cores.
type Machine struct {
	TotalCores   int // logical CPUs
	DefaultCores int // the cores of Settings.Cores = 0
}

// Probes are the machine's readings. A nil probe makes its rule "not
// available here".
type Probes struct {
	Input       InputIdleness
	Power       PowerSource
	Thermometer Thermometer
	Load        CPULoad
}

// GovernorOptions configure NewGovernor.
type GovernorOptions struct {
	Machine  Machine
	Probes   Probes
	Clock    clock.Clock // nil: the system clock
	Interval time.Duration
	Logger   *slog.Logger
}

// Status is what a Governor holds: the settings and what they decide now.
type Status struct {
	Settings   Settings `json:"settings"`   // in force
	Saved      Settings `json:"saved"`      // as config.ini holds them
	Overridden []string `json:"overridden"` // keys this run's flags or environment set
	Decision   Decision `json:"decision"`
	Machine    Machine  `json:"machine"`
}

// Governor applies the policy to a running node: it reads the machine's
// probes (those the enabled rules need, every Interval, and all of them
// once at the start so the status can say what is available), keeps the
// settings and the user's pause, and re-decides on every change. A node
// follows Decision after each signal on Changed. Its methods are safe for
// concurrent use.
type Governor struct {
	probes   Probes
	machine  Machine
	clock    clock.Clock
	interval time.Duration
	log      *slog.Logger

	mu          sync.Mutex
	saved       Settings
	overrides   Overrides // canonical keys
	settings    Settings
	paused      bool
	maxParallel int
	readings    Readings
	eval        Evaluator
	decision    Decision

	changed chan struct{}
	wake    chan struct{}
}

// NewGovernor returns a Governor for the settings saved in config.ini and
// this run's overrides. It decides at once from what it knows (nothing
// measured yet); Run starts the measuring.
func NewGovernor(saved Settings, overrides Overrides, opts GovernorOptions) (*Governor, error) {
	if err := saved.Validate(); err != nil {
		return nil, err
	}
	over, err := overrides.Canonical()
	if err != nil {
		return nil, err
	}
	eff, err := saved.With(over)
	if err != nil {
		return nil, err
	}
	g := &Governor{
		probes: opts.Probes, machine: opts.Machine, clock: opts.Clock, interval: opts.Interval, log: opts.Logger,
		saved: saved, overrides: over, settings: eff, readings: unmeasured(),
		changed: make(chan struct{}, 1), wake: make(chan struct{}, 1),
	}
	if g.clock == nil {
		g.clock = clock.System{}
	}
	if g.interval <= 0 {
		g.interval = DefaultInterval
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	g.machine.TotalCores = max(1, g.machine.TotalCores)
	if g.machine.DefaultCores <= 0 {
		g.machine.DefaultCores = g.machine.TotalCores
	}
	g.mu.Lock()
	g.decideLocked()
	g.mu.Unlock()
	return g, nil
}

// Decision returns the current decision.
func (g *Governor) Decision() Decision {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.decision
}

// Status returns the settings and the current decision.
func (g *Governor) Status() Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Status{
		Settings: g.settings, Saved: g.saved, Overridden: slices.Sorted(maps.Keys(g.overrides)),
		Decision: g.decision, Machine: g.machine,
	}
}

// Settings returns the settings in force.
func (g *Governor) Settings() Settings {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.settings
}

// Changed receives after the decision allows other cores or another rule
// decides. It is meant for one reader, the node, which then reads Decision.
func (g *Governor) Changed() <-chan struct{} { return g.changed }

// Pause pauses the node for the user (RuleUser) until Resume.
func (g *Governor) Pause() { g.setPaused(true) }

// Resume ends the user's pause; the other rules still apply.
func (g *Governor) Resume() { g.setPaused(false) }

// UserPaused reports whether the user paused the node.
func (g *Governor) UserPaused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

func (g *Governor) setPaused(p bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.paused = p
	g.decideLocked()
}

// SetMaxParallel applies the owner's limit from the sentinel (0: none).
func (g *Governor) SetMaxParallel(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.maxParallel = max(0, n)
	g.decideLocked()
}

// Update changes settings at run time: patch is applied to the saved
// settings, save stores the result (config.ini), and only then the
// settings take effect; a patched key stops being overridden for this run.
// An invalid patch returns a *KeyError and changes nothing, as does an
// error from save.
func (g *Governor) Update(patch Overrides, save func(Settings) error) error {
	canon, err := patch.Canonical()
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	saved, err := g.saved.With(canon)
	if err != nil {
		return err
	}
	over := maps.Clone(g.overrides)
	for k := range canon {
		delete(over, k)
	}
	eff, err := saved.With(over)
	if err != nil {
		return err
	}
	if save != nil {
		if err := save(saved); err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
	}
	g.saved, g.overrides, g.settings = saved, over, eff
	g.log.Info("settings changed", "changed", slices.Sorted(maps.Keys(canon)))
	g.decideLocked()
	select { // read the probes a newly enabled rule needs now
	case g.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run reads the probes and re-decides until ctx ends; it returns nil then.
func (g *Governor) Run(ctx context.Context) error {
	for all := true; ; all = false {
		g.sample(ctx, all)
		now := g.clock.Now()
		g.mu.Lock()
		g.decideLocked()
		wait := g.interval
		if next := g.settings.Schedule.Next(now); !next.IsZero() && next.Sub(now) < wait {
			wait = max(next.Sub(now), time.Millisecond)
		}
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-g.wake:
		case <-g.clock.After(wait):
		}
	}
}

// sample reads the probes the enabled rules need (all of them when all).
func (g *Governor) sample(ctx context.Context, all bool) {
	s := g.Settings()
	g.mu.Lock()
	r := g.readings
	g.mu.Unlock()
	// A reading a rule switched off does not need goes stale: it is marked
	// unmeasured, keeping only the knowledge that it is unavailable here.
	read := func(p any, need bool, errp *error, get func(context.Context) error) {
		if !all && !need {
			if !errors.Is(*errp, ErrUnavailable) {
				*errp = errNotMeasured
			}
			return
		}
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		if err := get(ctx); err != nil && !errors.Is(err, ErrUnavailable) && ctx.Err() == nil {
			g.log.Debug("probe failed", "probe", fmt.Sprintf("%T", p), "err", err)
		}
	}
	if p := g.probes.Input; p != nil {
		read(p, s.IdleMinutes > 0, &r.IdleErr, func(ctx context.Context) error { r.Idle, r.IdleErr = p.InputIdle(ctx); return r.IdleErr })
	} else {
		r.IdleErr = fmt.Errorf("%w: no input idleness probe", ErrUnavailable)
	}
	if p := g.probes.Power; p != nil {
		read(p, s.PauseOnBattery, &r.PowerErr, func(ctx context.Context) error { r.Power, r.PowerErr = p.Power(ctx); return r.PowerErr })
	} else {
		r.PowerErr = fmt.Errorf("%w: no power probe", ErrUnavailable)
	}
	if p := g.probes.Thermometer; p != nil {
		read(p, s.MaxTemperature > 0, &r.TemperatureErr, func(ctx context.Context) error {
			r.Temperature, r.TemperatureErr = p.CPUTemperature(ctx)
			return r.TemperatureErr
		})
	} else {
		r.TemperatureErr = fmt.Errorf("%w: no temperature probe", ErrUnavailable)
	}
	if p := g.probes.Load; p != nil {
		read(p, s.BusyPercent > 0, &r.LoadErr, func(ctx context.Context) error { r.Load, r.LoadErr = p.OtherProcesses(ctx); return r.LoadErr })
	} else {
		r.LoadErr = fmt.Errorf("%w: no CPU load probe", ErrUnavailable)
	}
	r.At = g.clock.Now()
	g.mu.Lock()
	g.readings = r
	g.mu.Unlock()
}

// decideLocked evaluates and signals a change; g.mu is held.
func (g *Governor) decideLocked() {
	d := g.eval.Evaluate(Inputs{
		Now: g.clock.Now(), Settings: g.settings, TotalCores: g.machine.TotalCores, DefaultCores: g.machine.DefaultCores,
		UserPaused: g.paused, MaxParallel: g.maxParallel, Readings: g.readings,
	})
	changed := !d.Same(g.decision)
	g.decision = d
	if !changed {
		return
	}
	ef, _ := d.Effect(d.Rule)
	g.log.Info("policy decision", "cores", d.Cores, "rule", string(d.Rule), "detail", ef.Detail)
	select {
	case g.changed <- struct{}{}:
	default:
	}
}
