// Package policy decides how many cores a node may simulate on from the
// volunteer's rules (cores while the computer is in use, a busy computer,
// a weekly schedule, battery power, CPU temperature, a pause by the user)
// and what the machine reports. It is pure logic: time and readings come
// in, a Decision naming the rule that decided comes out, so every rule is
// tested with fakes. Governor runs it against the machine's probes.
package policy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Hysteresis of the busy-computer rule: the load must stay over the limit
// this long before the rule acts, and under it this long before the rule
// lets go, so a short burst neither pauses the node nor a short lull
// resumes it.
const (
	BusyAfter   = 10 * time.Second
	UnbusyAfter = 60 * time.Second
)

// What the rules read from the machine. Each returns an error wrapping
// ErrUnavailable where the platform cannot tell at all.
type (
	// InputIdleness tells how long ago the last keyboard or mouse input
	// was; NoSession on a machine nobody is logged in to.
	InputIdleness interface {
		InputIdle(ctx context.Context) (time.Duration, error)
	}
	// PowerSource tells whether the computer runs on battery.
	PowerSource interface {
		Power(ctx context.Context) (Power, error)
	}
	// Thermometer reads the CPU temperature in degrees Celsius.
	Thermometer interface {
		CPUTemperature(ctx context.Context) (float64, error)
	}
	// CPULoad measures the CPU used by processes other than the node since
	// the previous call, in percent of all cores (0 to 100).
	CPULoad interface {
		OtherProcesses(ctx context.Context) (float64, error)
	}
)

// NoSession is the input idleness of a machine without a user session,
// such as a server: it counts as idle.
const NoSession = time.Duration(math.MaxInt64)

// ErrUnavailable is wrapped by a probe's error when this machine cannot
// provide the reading (no sensor, no such interface): the rule depending on
// it says "not available here" rather than doing nothing silently.
var ErrUnavailable = errors.New("not available here")

// errNotMeasured stands for a reading not taken yet.
var errNotMeasured = errors.New("not measured yet")

// Power is the computer's power supply.
type Power struct {
	Battery   bool `json:"battery"`   // the computer has a battery of its own
	OnBattery bool `json:"onBattery"` // it runs on it now
	Percent   int  `json:"percent"`   // charge, -1 when unknown
}

// Readings are the machine's figures at one moment.
type Readings struct {
	At time.Time // when they were taken; the hysteresis runs on it

	Idle           time.Duration // since the last input, or NoSession
	IdleErr        error
	Power          Power
	PowerErr       error
	Temperature    float64 // CPU, degrees Celsius
	TemperatureErr error
	Load           float64 // other processes' CPU, percent of all cores
	LoadErr        error
}

// unmeasured returns Readings in which nothing was measured yet.
func unmeasured() Readings {
	return Readings{IdleErr: errNotMeasured, PowerErr: errNotMeasured, TemperatureErr: errNotMeasured, LoadErr: errNotMeasured}
}

// Rule names what limits the node.
type Rule string

// Rules, in the order a tie between them is decided.
const (
	RuleUser        Rule = "user"         // paused by the volunteer
	RuleTemperature Rule = "temperature"  // CPU too hot
	RuleBattery     Rule = "battery"      // running on battery
	RuleSchedule    Rule = "schedule"     // outside the weekly windows, or a window's core count
	RuleBusy        Rule = "busy"         // other programs use the CPU
	RuleInUse       Rule = "in-use"       // someone uses the computer
	RuleMaxParallel Rule = "max-parallel" // the owner's limit on the sentinel
	RuleCores       Rule = "cores"        // the cores setting: nothing else limits
)

// Label returns the rule's name for people.
func (r Rule) Label() string {
	switch r {
	case RuleUser:
		return "your pause"
	case RuleTemperature:
		return "CPU temperature"
	case RuleBattery:
		return "battery"
	case RuleSchedule:
		return "schedule"
	case RuleBusy:
		return "busy computer"
	case RuleInUse:
		return "computer in use"
	case RuleMaxParallel:
		return "max parallel on the sentinel"
	case RuleCores:
		return "cores setting"
	}
	return string(r)
}

// Effect is what one rule does now.
type Effect struct {
	Rule      Rule      `json:"rule"`
	Enabled   bool      `json:"enabled"`         // switched on in the settings
	Available bool      `json:"available"`       // this machine provides what it reads
	Active    bool      `json:"active"`          // enabled and its condition holds now
	Cores     int       `json:"cores"`           // the cores it allows while active; 0 pauses
	Detail    string    `json:"detail"`          // the current effect in words
	Until     time.Time `json:"until,omitzero"`  // when the schedule changes next
	Value     float64   `json:"value,omitempty"` // the reading it judged: °C, % of CPU, seconds idle
}

// Decision is how many cores the node may use now and why.
type Decision struct {
	Cores   int      `json:"cores"` // 0: paused
	Rule    Rule     `json:"rule"`  // the rule that decided Cores
	Effects []Effect `json:"rules"` // every rule, in tie order
}

// Paused reports whether the node may not simulate at all.
func (d Decision) Paused() bool { return d.Cores == 0 }

// Effect returns the effect of rule r.
func (d Decision) Effect(r Rule) (Effect, bool) {
	for _, e := range d.Effects {
		if e.Rule == r {
			return e, true
		}
	}
	return Effect{}, false
}

// Same reports whether two decisions allow the same cores for the same
// rule, ignoring how their details read.
func (d Decision) Same(o Decision) bool { return d.Cores == o.Cores && d.Rule == o.Rule }

// Inputs are everything a decision depends on.
type Inputs struct {
	Now          time.Time // in the computer's local time zone
	Settings     Settings
	TotalCores   int  // logical CPUs of the machine
	DefaultCores int  // the cores of Settings.Cores = 0
	UserPaused   bool // paused through the control API
	MaxParallel  int  // the owner's limit from the sentinel; 0: none
	Readings     Readings
}

// Evaluator turns Inputs into Decisions. It keeps the state of the rules
// with hysteresis (busy computer, temperature), which advances with
// Readings.At, so evaluating the same readings again changes nothing. The
// zero value is ready to use; it is not safe for concurrent use.
type Evaluator struct {
	busy   bool      // the busy rule acts
	flipAt time.Time // first reading on the other side of the limit; zero: none
	lastAt time.Time // the reading the busy state last advanced on
	hot    bool      // the temperature rule acts
}

// BaseCores returns the cores of the cores setting on a machine: the
// default for 0, at most the machine's logical CPUs, at least 1.
func BaseCores(s Settings, total, def int) int {
	n := s.Cores
	if n == 0 {
		n = def
	}
	if total > 0 {
		n = min(n, total)
	}
	return max(1, n)
}

// Evaluate decides. The node runs with the fewest cores any active rule
// allows; a tie goes to the rule first in the order of the Rule constants.
func (e *Evaluator) Evaluate(in Inputs) Decision {
	s, r := in.Settings, in.Readings
	base := BaseCores(s, in.TotalCores, in.DefaultCores)
	limit := func(n int) int { return min(max(n, 0), base) }
	effects := []Effect{
		{Rule: RuleUser, Enabled: in.UserPaused, Available: true, Active: in.UserPaused, Detail: userDetail(in.UserPaused)},
		e.temperature(s, r),
		battery(s, r),
		schedule(s, in.Now),
		e.busyComputer(s, r),
		inUse(s, r),
		maxParallel(in.MaxParallel, base),
		{Rule: RuleCores, Enabled: true, Available: true, Active: true, Cores: base, Detail: coresDetail(s, base, in.TotalCores)},
	}
	d := Decision{Cores: base, Rule: RuleCores, Effects: effects}
	for i := range effects {
		ef := &effects[i]
		if ef.Rule != RuleCores {
			ef.Cores = limit(ef.Cores)
		}
		if ef.Active && ef.Cores < d.Cores {
			d.Cores, d.Rule = ef.Cores, ef.Rule
		}
	}
	return d
}

func userDetail(paused bool) string {
	if paused {
		return "paused by you"
	}
	return "not paused"
}

func coresDetail(s Settings, base, total int) string {
	d := fmt.Sprintf("%d of %d cores", base, total)
	if s.Cores == 0 {
		d += " (this machine's default)"
	} else if s.Cores > base {
		d += fmt.Sprintf(" (%d set, the machine has %d)", s.Cores, total)
	}
	return d
}

// off fills the effect of a rule switched off, saying whether it could
// work here.
func off(ef Effect, err error) Effect {
	ef.Available = !errors.Is(err, ErrUnavailable)
	ef.Detail = "off"
	if !ef.Available {
		ef.Detail = "off; " + err.Error()
	}
	return ef
}

// unreadable fills an effect whose reading failed.
func unreadable(ef Effect, err error, what string) Effect {
	ef.Available = !errors.Is(err, ErrUnavailable)
	switch {
	case !ef.Available:
		ef.Detail = err.Error()
	case errors.Is(err, errNotMeasured):
		ef.Detail = what + " not measured yet"
	default:
		ef.Detail = "cannot read " + what + ": " + err.Error()
	}
	return ef
}

func (e *Evaluator) temperature(s Settings, r Readings) Effect {
	ef := Effect{Rule: RuleTemperature, Enabled: s.MaxTemperature > 0, Available: true}
	if !ef.Enabled || r.TemperatureErr != nil {
		e.hot = false // a rule switched off, or blind, lets go
	}
	if !ef.Enabled {
		return off(ef, r.TemperatureErr)
	}
	if r.TemperatureErr != nil {
		return unreadable(ef, r.TemperatureErr, "CPU temperature")
	}
	t, max := r.Temperature, float64(s.MaxTemperature)
	ef.Value = t
	switch {
	case !e.hot && t > max:
		e.hot = true
	case e.hot && t <= max-TemperatureHysteresis:
		e.hot = false
	}
	ef.Active = e.hot
	if e.hot {
		ef.Detail = fmt.Sprintf("CPU at %.0f °C, above %d °C; resumes at %.0f °C", t, s.MaxTemperature, max-TemperatureHysteresis)
	} else {
		ef.Detail = fmt.Sprintf("CPU at %.0f °C; pauses above %d °C", t, s.MaxTemperature)
	}
	return ef
}

func battery(s Settings, r Readings) Effect {
	ef := Effect{Rule: RuleBattery, Enabled: s.PauseOnBattery, Available: true}
	if !ef.Enabled {
		return off(ef, r.PowerErr)
	}
	if r.PowerErr != nil {
		return unreadable(ef, r.PowerErr, "power source")
	}
	p := r.Power
	ef.Value = float64(p.Percent)
	switch {
	case !p.Battery:
		ef.Detail = "no battery"
	case p.OnBattery:
		ef.Active = true
		ef.Detail = "on battery" + percent(p.Percent)
	default:
		ef.Detail = "on mains power" + percent(p.Percent)
	}
	return ef
}

func percent(p int) string {
	if p < 0 {
		return ""
	}
	return fmt.Sprintf(" (%d%%)", p)
}

func schedule(s Settings, now time.Time) Effect {
	ef := Effect{Rule: RuleSchedule, Enabled: !s.Schedule.IsZero(), Available: true}
	if !ef.Enabled {
		ef.Detail = "off: always"
		return ef
	}
	allowed, cores := s.Schedule.At(now)
	ef.Until = s.Schedule.Next(now)
	until := ""
	if !ef.Until.IsZero() {
		until = " until " + When(now, ef.Until)
	}
	switch {
	case !allowed:
		ef.Active = true
		ef.Detail = "outside the schedule" + until
	case cores > 0:
		ef.Active, ef.Cores = true, cores
		ef.Detail = fmt.Sprintf("in a %s window%s", plural(cores, "core"), until)
	default:
		ef.Detail = "in the schedule" + until
	}
	return ef
}

// When writes t for people who read it at now: a clock time today, the
// day and time within a week, a date after that.
func When(now, t time.Time) string {
	t = t.In(now.Location())
	y, m, d := now.Date()
	ty, tm, td := t.Date()
	switch {
	case y == ty && m == tm && d == td:
		return t.Format("15:04")
	case t.Sub(now) < 6*24*time.Hour:
		return t.Format("Mon 15:04")
	}
	return t.Format("Mon 2 Jan 15:04")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// busyComputer advances the busy rule's hysteresis on a new reading.
func (e *Evaluator) busyComputer(s Settings, r Readings) Effect {
	ef := Effect{Rule: RuleBusy, Enabled: s.BusyPercent > 0, Available: true, Cores: s.BusyCores}
	if !ef.Enabled || r.LoadErr != nil {
		e.busy, e.flipAt = false, time.Time{}
	}
	if !ef.Enabled {
		return off(ef, r.LoadErr)
	}
	if r.LoadErr != nil {
		return unreadable(ef, r.LoadErr, "CPU use")
	}
	ef.Value = r.Load
	over := r.Load > float64(s.BusyPercent)
	if r.At.After(e.lastAt) {
		e.lastAt = r.At
		switch {
		case over == e.busy:
			e.flipAt = time.Time{}
		case e.flipAt.IsZero():
			e.flipAt = r.At
		}
		if !e.flipAt.IsZero() {
			need := BusyAfter
			if e.busy {
				need = UnbusyAfter
			}
			if r.At.Sub(e.flipAt) >= need {
				e.busy, e.flipAt = !e.busy, time.Time{}
			}
		}
	}
	ef.Active = e.busy
	reading := fmt.Sprintf("other programs use %.0f%% of the CPU", r.Load)
	limit := fmt.Sprintf("%d%%", s.BusyPercent)
	switch {
	case e.busy && !e.flipAt.IsZero():
		ef.Detail = fmt.Sprintf("%s, under %s for %s of %s: still busy", reading, limit, Duration(r.At.Sub(e.flipAt)), Duration(UnbusyAfter))
	case e.busy:
		ef.Detail = reading + ", over " + limit + ": busy"
	case !e.flipAt.IsZero():
		ef.Detail = fmt.Sprintf("%s, over %s for %s of %s", reading, limit, Duration(r.At.Sub(e.flipAt)), Duration(BusyAfter))
	default:
		ef.Detail = reading + "; busy above " + limit
	}
	return ef
}

func inUse(s Settings, r Readings) Effect {
	ef := Effect{Rule: RuleInUse, Enabled: s.IdleMinutes > 0, Available: true, Cores: s.CoresInUse}
	if !ef.Enabled {
		return off(ef, r.IdleErr)
	}
	if r.IdleErr != nil {
		return unreadable(ef, r.IdleErr, "input idleness")
	}
	switch {
	case r.Idle == NoSession:
		ef.Value = -1
		ef.Detail = "no user session: idle"
	case r.Idle < time.Duration(s.IdleMinutes)*time.Minute:
		ef.Value = r.Idle.Seconds()
		ef.Active = true
		ef.Detail = "in use: last input " + Duration(r.Idle) + " ago"
	default:
		ef.Value = r.Idle.Seconds()
		ef.Detail = "idle for " + Duration(r.Idle)
	}
	return ef
}

func maxParallel(n, base int) Effect {
	ef := Effect{Rule: RuleMaxParallel, Enabled: n > 0, Available: true, Cores: n}
	if n <= 0 {
		ef.Detail = "not set"
		return ef
	}
	ef.Active = n < base
	ef.Detail = fmt.Sprintf("the node's owner allows %s at once", plural(n, "chunk"))
	return ef
}

// Duration writes d for people: "45 s", "12 min", "3 h 5 min".
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) % 60; m > 0 {
			return fmt.Sprintf("%d h %d min", h, m)
		}
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
