package probe

import (
	"errors"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shirou/gopsutil/v4/sensors"

	"wowlab/node/policy"
)

func TestParseHIDIdleTime(t *testing.T) {
	out := `+-o IOHIDSystem  <class IOHIDSystem, id 0x100000512, registered, matched, active, busy 0 (0 ms), retain 22>
    {
      "HIDParameters" = {"HIDClickTime"=500000000}
      "HIDIdleTime" = 12345678901
      "IOClass" = "IOHIDSystem"
    }
`
	d, err := parseHIDIdleTime([]byte(out))
	if err != nil || d != 12345678901*time.Nanosecond {
		t.Fatalf("%v %v", d, err)
	}
	if _, err := parseHIDIdleTime([]byte("nothing here")); !errors.Is(err, policy.ErrUnavailable) {
		t.Fatalf("no key: %v", err)
	}
	if _, err := parseHIDIdleTime([]byte(`"HIDIdleTime" = <data>`)); err == nil {
		t.Fatal("no number accepted")
	}
	if _, err := parseHIDIdleTime([]byte(`"HIDIdleTime" = 99999999999999999999999`)); err == nil {
		t.Fatal("overflow accepted")
	}
}

func TestParsePmsetBatt(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want policy.Power
	}{
		{"laptop on battery", "Now drawing from 'Battery Power'\n -InternalBattery-0 (id=4653155)\t87%; discharging; 4:38 remaining present: true\n",
			policy.Power{Battery: true, OnBattery: true, Percent: 87}},
		{"laptop charging", "Now drawing from 'AC Power'\n -InternalBattery-0 (id=4653155)\t54%; charging; 1:02 remaining present: true\n",
			policy.Power{Battery: true, Percent: 54}},
		{"desktop", "Now drawing from 'AC Power'\n", policy.Power{Percent: -1}},
		{"desktop on a UPS", "Now drawing from 'UPS Power'\n -APC Back-UPS (id=123)\t90%; discharging\n", policy.Power{Percent: -1}},
	}
	for _, tt := range tests {
		got, err := parsePmsetBatt([]byte(tt.out))
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v %v, want %+v", tt.name, got, err, tt.want)
		}
	}
	if _, err := parsePmsetBatt([]byte("")); err == nil {
		t.Error("empty output accepted")
	}
	if p, err := parsePmsetBatt([]byte("Now drawing from 'Battery Power'\n%InternalBattery\n")); err != nil || p.Percent != -1 {
		t.Errorf("odd line: %+v %v", p, err)
	}
}

func TestReadPowerSupply(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s + "\n")} }
	tests := []struct {
		name string
		fs   fstest.MapFS
		want policy.Power
	}{
		{"a server", fstest.MapFS{}, policy.Power{Percent: -1}},
		{"a laptop on battery", fstest.MapFS{
			"AC/type": file("Mains"), "AC/online": file("0"),
			"BAT0/type": file("Battery"), "BAT0/status": file("Discharging"), "BAT0/capacity": file("41"), "BAT0/present": file("1"),
		}, policy.Power{Battery: true, OnBattery: true, Percent: 41}},
		{"a laptop plugged in", fstest.MapFS{
			"AC/type": file("Mains"), "AC/online": file("1"),
			"BAT0/type": file("Battery"), "BAT0/status": file("Charging"), "BAT0/capacity": file("80"),
		}, policy.Power{Battery: true, Percent: 80}},
		{"plugged in but the battery reports discharging", fstest.MapFS{
			"ADP1/type": file("Mains"), "ADP1/online": file("1"),
			"BAT1/type": file("Battery"), "BAT1/status": file("Discharging"),
		}, policy.Power{Battery: true, Percent: -1}},
		{"charging over USB-C", fstest.MapFS{
			"ucsi-source-psy-USBC000:001/type": file("USB"), "ucsi-source-psy-USBC000:001/online": file("1"),
			"BAT0/type": file("Battery"), "BAT0/status": file("Discharging"),
		}, policy.Power{Battery: true, Percent: -1}},
		{"a desktop with a wireless mouse", fstest.MapFS{
			"hidpp_battery_0/type": file("Battery"), "hidpp_battery_0/scope": file("Device"), "hidpp_battery_0/status": file("Discharging"),
		}, policy.Power{Percent: -1}},
		{"an empty bay", fstest.MapFS{
			"BAT1/type": file("Battery"), "BAT1/present": file("0"), "BAT1/status": file("Discharging"),
		}, policy.Power{Percent: -1}},
		{"no mains entry at all", fstest.MapFS{
			"BAT0/type": file("Battery"), "BAT0/status": file("Discharging"), "BAT0/capacity": file("300"),
		}, policy.Power{Battery: true, OnBattery: true, Percent: -1}},
	}
	for _, tt := range tests {
		got, err := readPowerSupply(tt.fs)
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v %v, want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestWindowsPower(t *testing.T) {
	tests := []struct {
		ac, flag, pct byte
		want          policy.Power
	}{
		{0, 0, 70, policy.Power{Battery: true, OnBattery: true, Percent: 70}},
		{1, 8, 95, policy.Power{Battery: true, Percent: 95}}, // charging
		{1, 128, 255, policy.Power{Percent: -1}},             // no system battery
		{0, 128, 255, policy.Power{Percent: -1}},
		{255, 255, 255, policy.Power{Percent: -1}}, // unknown
		{0, 2, 255, policy.Power{Battery: true, OnBattery: true, Percent: -1}},
	}
	for _, tt := range tests {
		if got := windowsPower(tt.ac, tt.flag, tt.pct); got != tt.want {
			t.Errorf("windowsPower(%d, %d, %d) = %+v, want %+v", tt.ac, tt.flag, tt.pct, got, tt.want)
		}
	}
}

func TestLogindIdle(t *testing.T) {
	now := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	if d := logindIdle(false, uint64(now.Add(-time.Hour).UnixMicro()), now); d != 0 {
		t.Errorf("in use: %v", d)
	}
	if d := logindIdle(true, uint64(now.Add(-7*time.Minute).UnixMicro()), now); d != 7*time.Minute {
		t.Errorf("idle: %v", d)
	}
	if d := logindIdle(true, 0, now); d != policy.NoSession {
		t.Errorf("never used: %v", d)
	}
	if d := logindIdle(true, uint64(now.Add(time.Minute).UnixMicro()), now); d != 0 {
		t.Errorf("a hint from the future: %v", d)
	}
}

func TestHottestCPU(t *testing.T) {
	tests := []struct {
		name  string
		stats []sensors.TemperatureStat
		want  float64
		ok    bool
	}{
		{"linux intel", []sensors.TemperatureStat{{SensorKey: "acpitz", Temperature: 27.8}, {SensorKey: "coretemp_package_id_0", Temperature: 61}, {SensorKey: "coretemp_core_1", Temperature: 64}, {SensorKey: "nvme_composite", Temperature: 70}}, 64, true},
		{"linux amd", []sensors.TemperatureStat{{SensorKey: "k10temp_tctl", Temperature: 71.5}, {SensorKey: "amdgpu_edge", Temperature: 80}}, 71.5, true},
		{"raspberry pi", []sensors.TemperatureStat{{SensorKey: "cpu_thermal", Temperature: 48.3}}, 48.3, true},
		{"mac intel, unset keys read 0", []sensors.TemperatureStat{{SensorKey: "TA0P", Temperature: 30}, {SensorKey: "TC0P", Temperature: 55}, {SensorKey: "TC0D", Temperature: 0}, {SensorKey: "TG0D", Temperature: 70}}, 55, true},
		{"apple silicon", []sensors.TemperatureStat{{SensorKey: "PMU tdie1", Temperature: 44}, {SensorKey: "pACC MTR Temp Sensor2", Temperature: 52}, {SensorKey: "NAND CH0 temp", Temperature: 35}}, 52, true},
		{"windows", []sensors.TemperatureStat{{SensorKey: `ACPI\ThermalZone\TZ00_0`, Temperature: 49.85}}, 49.85, true},
		{"only other sensors", []sensors.TemperatureStat{{SensorKey: "nvme_composite", Temperature: 40}, {SensorKey: "TG0D", Temperature: 60}}, 0, false},
		{"nonsense", []sensors.TemperatureStat{{SensorKey: "coretemp_core_0", Temperature: 1e6}, {SensorKey: "coretemp_core_1", Temperature: -5}}, 0, false},
		{"none", nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := hottestCPU(tt.stats)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: %v %v, want %v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOtherPercent(t *testing.T) {
	a := cpuSample{total: 1000, busy: 400, self: 100}
	tests := []struct {
		b    cpuSample
		want float64
	}{
		{cpuSample{total: 1100, busy: 480, self: 150}, 30},  // 80 busy, 50 of it ours
		{cpuSample{total: 1100, busy: 500, self: 200}, 0},   // all ours
		{cpuSample{total: 1100, busy: 500, self: 90}, 100},  // a process restart would make ours shrink: capped
		{cpuSample{total: 1000, busy: 400, self: 100}, 0},   // no time passed
		{cpuSample{total: 1100, busy: 600, self: 100}, 100}, // more than the interval: capped
	}
	for _, tt := range tests {
		if got := otherPercent(a, tt.b); got != tt.want {
			t.Errorf("otherPercent(%+v) = %v, want %v", tt.b, got, tt.want)
		}
	}
}

// The real probes of this machine answer without hanging: a reading, or an
// error saying this machine cannot tell. On Linux every probe but the
// thermometer always has an answer.
func TestProbesOfThisMachine(t *testing.T) {
	p := New(nil)
	ctx := t.Context()
	linux := runtime.GOOS == "linux"
	if d, err := p.Input.InputIdle(ctx); err != nil && (linux || !errors.Is(err, policy.ErrUnavailable)) || d < 0 {
		t.Errorf("input idleness: %v %v", d, err)
	}
	if pw, err := p.Power.Power(ctx); err != nil && (linux || !errors.Is(err, policy.ErrUnavailable)) || pw.Percent > 100 || pw.OnBattery && !pw.Battery {
		t.Errorf("power: %+v %v", pw, err)
	}
	if c, err := p.Thermometer.CPUTemperature(ctx); err != nil && !errors.Is(err, policy.ErrUnavailable) || err == nil && (c <= 0 || c > 150) {
		t.Errorf("temperature: %v %v", c, err)
	}
	if l, err := p.Load.OtherProcesses(ctx); err != nil && (linux || !errors.Is(err, policy.ErrUnavailable)) || l < 0 || l > 100 {
		t.Errorf("load: %v %v", l, err)
	}
}
