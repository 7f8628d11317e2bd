package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"wowlab/internal/clock"
)

// machine is a fake computer behind all four probes.
type machine struct {
	mu      sync.Mutex
	idle    time.Duration
	power   Power
	temp    float64
	tempErr error
	load    float64
	calls   map[string]int
}

func newMachine() *machine {
	return &machine{idle: time.Hour, power: Power{Battery: true, Percent: 90}, temp: 50, load: 5, calls: map[string]int{}}
}

func (m *machine) count(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[name]++
}

func (m *machine) called(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[name]
}

func (m *machine) set(f func(*machine)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func (m *machine) InputIdle(context.Context) (time.Duration, error) {
	m.count("idle")
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.idle, nil
}

func (m *machine) Power(context.Context) (Power, error) {
	m.count("power")
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.power, nil
}

func (m *machine) CPUTemperature(context.Context) (float64, error) {
	m.count("temp")
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.temp, m.tempErr
}

func (m *machine) OtherProcesses(context.Context) (float64, error) {
	m.count("load")
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.load, nil
}

func (m *machine) probes() Probes { return Probes{Input: m, Power: m, Thermometer: m, Load: m} }

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type governorTest struct {
	t     *testing.T
	g     *Governor
	clk   *clock.Fake
	m     *machine
	stop  context.CancelFunc
	ended chan error
}

func startGovernor(t *testing.T, saved Settings, over Overrides) *governorTest {
	t.Helper()
	clk := clock.NewFake(t0)
	m := newMachine()
	g, err := NewGovernor(saved, over, GovernorOptions{
		Machine: Machine{TotalCores: 16, DefaultCores: 8}, Probes: m.probes(), Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	gt := &governorTest{t: t, g: g, clk: clk, m: m, stop: stop, ended: make(chan error, 1)}
	go func() { gt.ended <- g.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-gt.ended; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	gt.armed()
	return gt
}

// armed waits until the governor is waiting for its next reading.
func (gt *governorTest) armed() {
	gt.t.Helper()
	waitFor(gt.t, "the governor to wait", func() bool { return len(gt.clk.Waiting()) > 0 })
}

// tick moves the clock to the next reading and waits until it is decided.
func (gt *governorTest) tick(probe string) {
	gt.t.Helper()
	n := gt.m.called(probe)
	gt.clk.Advance(DefaultInterval)
	waitFor(gt.t, probe+" to be read", func() bool { return gt.m.called(probe) > n })
	gt.armed()
}

func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

func TestGovernorReadsWhatTheRulesNeed(t *testing.T) {
	gt := startGovernor(t, Settings{BusyPercent: 50}, nil)
	for _, p := range []string{"idle", "power", "temp", "load"} {
		if n := gt.m.called(p); n != 1 {
			t.Errorf("first round: %s read %d times, want 1", p, n)
		}
	}
	gt.tick("load")
	gt.tick("load")
	if n := gt.m.called("load"); n != 3 {
		t.Errorf("load read %d times", n)
	}
	for _, p := range []string{"idle", "power", "temp"} {
		if n := gt.m.called(p); n != 1 {
			t.Errorf("%s read %d times, but no rule needs it", p, n)
		}
	}
	// A reading no rule needs goes stale and is not shown as current.
	if ef, _ := gt.g.Decision().Effect(RuleTemperature); ef.Detail != "off" || !ef.Available {
		t.Errorf("temperature effect %+v", ef)
	}
}

func TestGovernorUserPause(t *testing.T) {
	gt := startGovernor(t, DefaultSettings(), nil)
	drain(gt.g.Changed())
	gt.g.Pause()
	select {
	case <-gt.g.Changed():
	default:
		t.Fatal("no change signalled")
	}
	if d := gt.g.Decision(); !d.Paused() || d.Rule != RuleUser || !gt.g.UserPaused() {
		t.Fatalf("%+v", d)
	}
	gt.g.Pause() // again: nothing changes
	select {
	case <-gt.g.Changed():
		t.Fatal("a second pause signalled a change")
	default:
	}
	gt.g.Resume()
	if d := gt.g.Decision(); d.Paused() || d.Cores != 8 {
		t.Fatalf("%+v", d)
	}
}

func TestGovernorBusyComputer(t *testing.T) {
	gt := startGovernor(t, Settings{BusyPercent: 50, BusyCores: 2}, nil)
	drain(gt.g.Changed())
	gt.m.set(func(m *machine) { m.load = 85 })
	gt.tick("load") // over since now
	gt.tick("load") // 5 s
	if d := gt.g.Decision(); d.Cores != 8 {
		t.Fatalf("acted after 5 s: %+v", d)
	}
	gt.tick("load") // 10 s
	select {
	case <-gt.g.Changed():
	default:
		t.Fatal("no change signalled")
	}
	if d := gt.g.Decision(); d.Cores != 2 || d.Rule != RuleBusy {
		t.Fatalf("%+v", d)
	}
	gt.m.set(func(m *machine) { m.load = 10 })
	for i := 0; i < 12; i++ {
		gt.tick("load")
	}
	if d := gt.g.Decision(); d.Cores != 2 {
		t.Fatalf("let go before 60 s: %+v", d)
	}
	gt.tick("load")
	if d := gt.g.Decision(); d.Cores != 8 || d.Rule != RuleCores {
		t.Fatalf("%+v", d)
	}
}

func TestGovernorUpdate(t *testing.T) {
	gt := startGovernor(t, DefaultSettings(), Overrides{"cores": "4", "idle-minutes": "2"})
	st := gt.g.Status()
	if st.Settings.Cores != 4 || st.Saved.Cores != 0 || fmt.Sprint(st.Overridden) != "[cores idle_minutes]" || st.Decision.Cores != 4 {
		t.Fatalf("%+v", st)
	}
	var saves []Settings
	save := func(s Settings) error { saves = append(saves, s); return nil }

	// Invalid: nothing changes, nothing is saved.
	for _, patch := range []Overrides{{"cores": "-3"}, {"frobnicate": "1"}, {"cores": "2", "schedule": "someday"}} {
		err := gt.g.Update(patch, save)
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Fatalf("Update(%v) = %v", patch, err)
		}
	}
	if len(saves) != 0 || !gt.g.Status().Settings.Equal(st.Settings) {
		t.Fatal("an invalid update changed something")
	}

	// A failed save changes nothing either.
	if err := gt.g.Update(Overrides{"cores": "2"}, func(Settings) error { return errors.New("disk full") }); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("save error: %v", err)
	}
	if gt.g.Settings().Cores != 4 {
		t.Fatal("applied despite the failed save")
	}

	// A change saves the saved settings plus the patch, not this run's overrides.
	power := gt.m.called("power")
	if err := gt.g.Update(Overrides{"cores": "2", "max_temperature": "80"}, save); err != nil {
		t.Fatal(err)
	}
	if len(saves) != 1 || saves[0].Cores != 2 || saves[0].IdleMinutes != 0 || saves[0].MaxTemperature != 80 {
		t.Fatalf("saved %+v", saves)
	}
	st = gt.g.Status()
	if st.Settings.Cores != 2 || st.Settings.IdleMinutes != 2 || fmt.Sprint(st.Overridden) != "[idle_minutes]" || st.Decision.Cores != 2 {
		t.Fatalf("%+v", st)
	}
	// The newly enabled temperature rule is read at once, without waiting.
	waitFor(t, "the probes to be read again", func() bool { return gt.m.called("temp") > 1 && gt.m.called("power") > power })
}

func TestGovernorTemperatureNotAvailable(t *testing.T) {
	clk := clock.NewFake(t0)
	m := newMachine()
	m.tempErr = fmt.Errorf("%w: no CPU sensor", ErrUnavailable)
	g, err := NewGovernor(Settings{MaxTemperature: 85}, nil, GovernorOptions{Machine: Machine{TotalCores: 4}, Probes: m.probes(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Run(ctx) }()
	waitFor(t, "the first reading", func() bool {
		ef, _ := g.Decision().Effect(RuleTemperature)
		return !ef.Available
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	d := g.Decision()
	if ef, _ := d.Effect(RuleTemperature); ef.Detail != "not available here: no CPU sensor" || d.Cores != 4 {
		t.Fatalf("%+v", d)
	}
}

func TestGovernorWithoutProbes(t *testing.T) {
	g, err := NewGovernor(Settings{IdleMinutes: 1, BusyPercent: 1, MaxTemperature: 50, PauseOnBattery: true}, nil, GovernorOptions{Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	g.sample(context.Background(), true)
	g.mu.Lock()
	g.decideLocked()
	g.mu.Unlock()
	for _, ef := range g.Decision().Effects {
		if ef.Rule == RuleUser || ef.Rule == RuleSchedule || ef.Rule == RuleMaxParallel || ef.Rule == RuleCores {
			continue
		}
		if ef.Available || !strings.HasPrefix(ef.Detail, "not available here") {
			t.Errorf("%s: %+v", ef.Rule, ef)
		}
	}
	if d := g.Decision(); d.Cores != 1 || d.Rule != RuleCores {
		t.Errorf("a machine of unknown size: %+v", d)
	}
}

func TestGovernorWakesAtScheduleEdges(t *testing.T) {
	clk := clock.NewFake(t0) // Wednesday 12:00 UTC
	g, err := NewGovernor(Settings{Schedule: mustParse(t, "wed 12:02-12:03")}, nil,
		GovernorOptions{Machine: Machine{TotalCores: 4}, Clock: clk, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "a wait for the window", func() bool { w := clk.Waiting(); return len(w) == 1 && w[0] == 2*time.Minute })
	if d := g.Decision(); !d.Paused() || d.Rule != RuleSchedule {
		t.Fatalf("%+v", d)
	}
	clk.Advance(2 * time.Minute)
	waitFor(t, "the window to open", func() bool { return !g.Decision().Paused() })
	waitFor(t, "a wait for its end", func() bool { w := clk.Waiting(); return len(w) == 1 && w[0] == time.Minute })
}

func TestNewGovernorRejectsBadSettings(t *testing.T) {
	if _, err := NewGovernor(Settings{Cores: -1}, nil, GovernorOptions{}); err == nil {
		t.Error("bad saved settings accepted")
	}
	if _, err := NewGovernor(Settings{}, Overrides{"cores": "x"}, GovernorOptions{}); err == nil {
		t.Error("bad override accepted")
	}
	if _, err := NewGovernor(Settings{}, Overrides{"x": "1"}, GovernorOptions{}); err == nil {
		t.Error("unknown override accepted")
	}
}
