package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC) // a Wednesday

// calm returns readings of an idle machine on mains power at t.
func calm(t time.Time) Readings {
	return Readings{At: t, Idle: time.Hour, Power: Power{Battery: true, Percent: 80}, Temperature: 50, Load: 5}
}

func inputs(s Settings, r Readings) Inputs {
	return Inputs{Now: r.At, Settings: s, TotalCores: 16, DefaultCores: 8, Readings: r}
}

func effect(t *testing.T, d Decision, r Rule) Effect {
	t.Helper()
	e, ok := d.Effect(r)
	if !ok {
		t.Fatalf("no effect for %s in %+v", r, d)
	}
	return e
}

func check(t *testing.T, what string, d Decision, cores int, rule Rule) {
	t.Helper()
	if d.Cores != cores || d.Rule != rule {
		ef, _ := d.Effect(d.Rule)
		t.Fatalf("%s: %d cores by %s (%s), want %d by %s", what, d.Cores, d.Rule, ef.Detail, cores, rule)
	}
}

func TestNothingLimits(t *testing.T) {
	var e Evaluator
	d := e.Evaluate(inputs(DefaultSettings(), calm(t0)))
	check(t, "defaults", d, 8, RuleCores)
	if d.Paused() {
		t.Fatal("paused")
	}
	if got := effect(t, d, RuleCores).Detail; got != "8 of 16 cores (this machine's default)" {
		t.Errorf("cores detail %q", got)
	}
	if len(d.Effects) != 8 {
		t.Errorf("%d effects", len(d.Effects))
	}
	for _, ef := range d.Effects {
		if ef.Detail == "" {
			t.Errorf("%s has no detail", ef.Rule)
		}
	}
	d = e.Evaluate(inputs(Settings{Cores: 64}, calm(t0)))
	check(t, "more cores than the machine has", d, 16, RuleCores)
	if got := effect(t, d, RuleCores).Detail; !strings.Contains(got, "64 set, the machine has 16") {
		t.Errorf("cores detail %q", got)
	}
	if d := e.Evaluate(inputs(Settings{Cores: 3}, calm(t0))); d.Cores != 3 {
		t.Errorf("cores 3: %d", d.Cores)
	}
}

func TestUserPause(t *testing.T) {
	var e Evaluator
	in := inputs(DefaultSettings(), calm(t0))
	in.UserPaused = true
	d := e.Evaluate(in)
	check(t, "paused by the user", d, 0, RuleUser)
	if ef := effect(t, d, RuleUser); !ef.Active || ef.Detail != "paused by you" {
		t.Errorf("%+v", ef)
	}
	in.UserPaused = false
	check(t, "resumed", e.Evaluate(in), 8, RuleCores)
}

func TestInUse(t *testing.T) {
	s := Settings{IdleMinutes: 3, CoresInUse: 2}
	var e Evaluator
	tests := []struct {
		name   string
		idle   time.Duration
		err    error
		cores  int
		rule   Rule
		detail string
	}{
		{"typing", 12 * time.Second, nil, 2, RuleInUse, "in use: last input 12 s ago"},
		{"just under the limit", 3*time.Minute - time.Second, nil, 2, RuleInUse, "in use: last input 2 min ago"},
		{"at the limit", 3 * time.Minute, nil, 8, RuleCores, "idle for 3 min"},
		{"away", 2 * time.Hour, nil, 8, RuleCores, "idle for 2 h"},
		{"a server", NoSession, nil, 8, RuleCores, "no user session: idle"},
		{"cannot tell here", 0, fmt.Errorf("%w: no HID system", ErrUnavailable), 8, RuleCores, "not available here: no HID system"},
		{"a failed reading", 0, errors.New("exit status 1"), 8, RuleCores, "cannot read input idleness: exit status 1"},
	}
	for _, tt := range tests {
		r := calm(t0)
		r.Idle, r.IdleErr = tt.idle, tt.err
		d := e.Evaluate(inputs(s, r))
		check(t, tt.name, d, tt.cores, tt.rule)
		ef := effect(t, d, RuleInUse)
		if ef.Detail != tt.detail {
			t.Errorf("%s: detail %q, want %q", tt.name, ef.Detail, tt.detail)
		}
		if ef.Available != !errors.Is(tt.err, ErrUnavailable) {
			t.Errorf("%s: available %v", tt.name, ef.Available)
		}
	}
	r := calm(t0)
	r.Idle = time.Second
	check(t, "cores_in_use 0 pauses", e.Evaluate(inputs(Settings{IdleMinutes: 3}, r)), 0, RuleInUse)
	check(t, "the rule off", e.Evaluate(inputs(Settings{CoresInUse: 1}, r)), 8, RuleCores)
	check(t, "more cores in use than the setting", e.Evaluate(inputs(Settings{Cores: 4, IdleMinutes: 3, CoresInUse: 6}, r)), 4, RuleCores)
}

// busyRun feeds load readings five seconds apart and returns the cores
// decided after each.
func busyRun(e *Evaluator, s Settings, start time.Time, loads []float64) []int {
	var out []int
	for i, l := range loads {
		r := calm(start.Add(time.Duration(i) * 5 * time.Second))
		r.Load = l
		out = append(out, e.Evaluate(inputs(s, r)).Cores)
	}
	return out
}

func TestBusyComputerHysteresis(t *testing.T) {
	s := Settings{BusyPercent: 50, BusyCores: 1}
	tests := []struct {
		name  string
		loads []float64
		want  []int
	}{
		{"a burst shorter than 10 s changes nothing", []float64{80, 80, 20, 80, 80, 20}, []int{8, 8, 8, 8, 8, 8}},
		{"over for 10 s acts", []float64{80, 80, 80, 80}, []int{8, 8, 1, 1}},
		{"at the limit is not over", []float64{50, 50, 50, 50}, []int{8, 8, 8, 8}},
		{
			"under for 60 s undoes; a return over the limit restarts the count",
			[]float64{90, 90, 90, 10, 10, 10, 10, 10, 90, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10},
			[]int{8, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8},
		},
	}
	for _, tt := range tests {
		var e Evaluator
		got := busyRun(&e, s, t0, tt.loads)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.name, got, tt.want)
		}
	}

	var e Evaluator
	busyRun(&e, Settings{BusyPercent: 50}, t0, []float64{80, 80})
	r := calm(t0.Add(10 * time.Second))
	r.Load = 80
	d := e.Evaluate(inputs(Settings{BusyPercent: 50}, r))
	check(t, "busy_cores 0 pauses", d, 0, RuleBusy)
	if got := effect(t, d, RuleBusy).Detail; got != "other programs use 80% of the CPU, over 50%: busy" {
		t.Errorf("detail %q", got)
	}
	// The same reading again does not advance the hysteresis.
	r.At, r.Load = r.At.Add(5*time.Second), 10
	for range 20 {
		d = e.Evaluate(inputs(Settings{BusyPercent: 50}, r))
	}
	check(t, "one reading evaluated many times", d, 0, RuleBusy)
	if got := effect(t, d, RuleBusy).Detail; !strings.Contains(got, "under 50% for 0 s of 1 min: still busy") {
		t.Errorf("detail %q", got)
	}
	// A reading that fails lets go, and so does switching the rule off.
	r.At, r.LoadErr = r.At.Add(5*time.Second), errors.New("no /proc")
	check(t, "unreadable load", e.Evaluate(inputs(Settings{BusyPercent: 50}, r)), 8, RuleCores)
	busyRun(&e, s, t0.Add(time.Minute), []float64{80, 80, 80})
	r = calm(t0.Add(time.Minute + 15*time.Second))
	r.Load = 80
	check(t, "rule switched off", e.Evaluate(inputs(Settings{}, r)), 8, RuleCores)
	r.At = r.At.Add(5 * time.Second)
	check(t, "rule switched on again starts counting afresh", e.Evaluate(inputs(s, r)), 8, RuleCores)
}

func TestTemperatureHysteresis(t *testing.T) {
	s := Settings{MaxTemperature: 90}
	var e Evaluator
	steps := []struct {
		temp  float64
		cores int
	}{{85, 8}, {90, 8}, {91, 0}, {88, 0}, {85.5, 0}, {85, 8}, {86, 8}, {89.9, 8}, {95, 0}}
	for i, st := range steps {
		r := calm(t0.Add(time.Duration(i) * time.Minute))
		r.Temperature = st.temp
		d := e.Evaluate(inputs(s, r))
		want := RuleCores
		if st.cores == 0 {
			want = RuleTemperature
		}
		check(t, fmt.Sprintf("step %d at %.1f °C", i, st.temp), d, st.cores, want)
	}
	r := calm(t0)
	r.Temperature = 95
	d := e.Evaluate(inputs(s, r))
	if got := effect(t, d, RuleTemperature).Detail; got != "CPU at 95 °C, above 90 °C; resumes at 85 °C" {
		t.Errorf("detail %q", got)
	}
	r.TemperatureErr = fmt.Errorf("%w: no CPU temperature sensor", ErrUnavailable)
	d = e.Evaluate(inputs(s, r))
	check(t, "no sensor", d, 8, RuleCores)
	if ef := effect(t, d, RuleTemperature); ef.Available || ef.Detail != "not available here: no CPU temperature sensor" {
		t.Errorf("%+v", ef)
	}
	if ef := effect(t, e.Evaluate(inputs(Settings{}, r)), RuleTemperature); ef.Available || ef.Detail != "off; not available here: no CPU temperature sensor" {
		t.Errorf("switched off without a sensor: %+v", ef)
	}
}

func TestBattery(t *testing.T) {
	tests := []struct {
		name   string
		s      Settings
		p      Power
		err    error
		cores  int
		detail string
	}{
		{"on battery", DefaultSettings(), Power{Battery: true, OnBattery: true, Percent: 64}, nil, 0, "on battery (64%)"},
		{"on mains", DefaultSettings(), Power{Battery: true, Percent: 100}, nil, 8, "on mains power (100%)"},
		{"no battery is never paused", DefaultSettings(), Power{OnBattery: true, Percent: -1}, nil, 8, "no battery"},
		{"rule off", Settings{}, Power{Battery: true, OnBattery: true, Percent: 20}, nil, 8, "off"},
		{"unknown charge", DefaultSettings(), Power{Battery: true, OnBattery: true, Percent: -1}, nil, 0, "on battery"},
		{"cannot tell", DefaultSettings(), Power{}, fmt.Errorf("%w: no power API", ErrUnavailable), 8, "not available here: no power API"},
	}
	for _, tt := range tests {
		var e Evaluator
		r := calm(t0)
		r.Power, r.PowerErr = tt.p, tt.err
		d := e.Evaluate(inputs(tt.s, r))
		want := RuleCores
		if tt.cores == 0 {
			want = RuleBattery
		}
		check(t, tt.name, d, tt.cores, want)
		if got := effect(t, d, RuleBattery).Detail; got != tt.detail {
			t.Errorf("%s: detail %q, want %q", tt.name, got, tt.detail)
		}
	}
}

func TestScheduleRule(t *testing.T) {
	s := Settings{Schedule: mustParse(t, "mon-fri 18:00-08:00 2 cores, sat-sun all day")}
	var e Evaluator
	wednesdayNoon := t0
	d := e.Evaluate(inputs(s, calm(wednesdayNoon)))
	check(t, "outside", d, 0, RuleSchedule)
	ef := effect(t, d, RuleSchedule)
	if ef.Detail != "outside the schedule until 18:00" || !ef.Until.Equal(time.Date(2026, 1, 7, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("%+v", ef)
	}
	d = e.Evaluate(inputs(s, calm(t0.Add(8*time.Hour))))
	check(t, "in a limited window", d, 2, RuleSchedule)
	if got := effect(t, d, RuleSchedule).Detail; got != "in a 2 cores window until Thu 08:00" {
		t.Errorf("detail %q", got)
	}
	saturday := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	d = e.Evaluate(inputs(s, calm(saturday)))
	check(t, "weekend", d, 8, RuleCores)
	if got := effect(t, d, RuleSchedule).Detail; got != "in the schedule until Mon 00:00" {
		t.Errorf("detail %q", got)
	}
}

func TestCombinedRules(t *testing.T) {
	sch := mustParse(t, "daily all day 3 cores")
	typing := calm(t0)
	typing.Idle = time.Second
	tests := []struct {
		name  string
		s     Settings
		r     func() Readings
		in    func(*Inputs)
		cores int
		rule  Rule
	}{
		{"in use and a schedule window: the fewer cores", Settings{IdleMinutes: 3, CoresInUse: 2, Schedule: sch}, func() Readings { return typing }, nil, 2, RuleInUse},
		{"a schedule window below in-use", Settings{IdleMinutes: 3, CoresInUse: 5, Schedule: sch}, func() Readings { return typing }, nil, 3, RuleSchedule},
		{"a tie goes to the schedule, before in-use", Settings{IdleMinutes: 3, CoresInUse: 3, Schedule: sch}, func() Readings { return typing }, nil, 3, RuleSchedule},
		{"max parallel below everything", Settings{IdleMinutes: 3, CoresInUse: 5}, func() Readings { return typing }, func(in *Inputs) { in.MaxParallel = 4 }, 4, RuleMaxParallel},
		{"max parallel above the cores", Settings{}, calmAt, func(in *Inputs) { in.MaxParallel = 12 }, 8, RuleCores},
		{"user and battery: the user", DefaultSettings(), onBattery, func(in *Inputs) { in.UserPaused = true }, 0, RuleUser},
		{"temperature and battery: the temperature", Settings{PauseOnBattery: true, MaxTemperature: 60}, func() Readings {
			r := onBattery()
			r.Temperature = 70
			return r
		}, nil, 0, RuleTemperature},
		{"battery pause beats a core limit", Settings{PauseOnBattery: true, IdleMinutes: 3, CoresInUse: 1}, func() Readings {
			r := onBattery()
			r.Idle = 0
			return r
		}, nil, 0, RuleBattery},
	}
	for _, tt := range tests {
		var e Evaluator
		in := inputs(tt.s, tt.r())
		if tt.in != nil {
			tt.in(&in)
		}
		d := e.Evaluate(in)
		check(t, tt.name, d, tt.cores, tt.rule)
		var active int
		for _, ef := range d.Effects {
			if ef.Active {
				active++
			}
		}
		if active < 2 && tt.rule != RuleCores {
			t.Errorf("%s: only %d active rules", tt.name, active)
		}
	}
}

func calmAt() Readings { return calm(t0) }

func onBattery() Readings {
	r := calm(t0)
	r.Power.OnBattery = true
	return r
}

func TestNotMeasuredYet(t *testing.T) {
	var e Evaluator
	r := unmeasured()
	r.At = t0
	d := e.Evaluate(inputs(Settings{IdleMinutes: 1, BusyPercent: 10, PauseOnBattery: true, MaxTemperature: 80}, r))
	check(t, "nothing measured", d, 8, RuleCores)
	for _, rule := range []Rule{RuleInUse, RuleBusy, RuleBattery, RuleTemperature} {
		if ef := effect(t, d, rule); !ef.Available || !strings.Contains(ef.Detail, "not measured yet") {
			t.Errorf("%s: %+v", rule, ef)
		}
	}
}

func TestDurationAndWhen(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 s", 59 * time.Second: "59 s", 90 * time.Second: "1 min", 2 * time.Hour: "2 h",
		3*time.Hour + 5*time.Minute: "3 h 5 min", 72 * time.Hour: "3 days",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
	for _, tt := range []struct {
		then time.Time
		want string
	}{
		{t0.Add(3 * time.Hour), "15:00"},
		{t0.Add(24 * time.Hour), "Thu 12:00"},
		{t0.Add(8 * 24 * time.Hour), "Thu 15 Jan 12:00"},
	} {
		if got := When(t0, tt.then); got != tt.want {
			t.Errorf("When(%v) = %q, want %q", tt.then, got, tt.want)
		}
	}
}
