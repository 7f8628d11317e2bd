package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wowlab/node/policy"
)

func writeConfigText(t *testing.T, dir, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readConfigText(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSaveConfigKeepsOtherSections(t *testing.T) {
	dir := t.TempDir()
	writeConfigText(t, dir, "[node]\napi_url = http://127.0.0.1:1\n\n[policy]\n; mine\ncores = 3\n\n[update]\nauto_update = false\n")
	c, err := LoadConfig(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.NodeID = "6f1c2a9e-2f4b-4a51-9d55-0b7f4c3e2a10"
	if err := SaveConfig(dir, c); err != nil {
		t.Fatal(err)
	}
	text := readConfigText(t, dir)
	for _, want := range []string{"node_id", "6f1c2a9e", "[policy]", "; mine", "cores", "[update]", "auto_update"} {
		if !strings.Contains(text, want) {
			t.Errorf("saved file lost %q:\n%s", want, text)
		}
	}
	if !strings.HasPrefix(text, "[node]") {
		t.Errorf("sections moved:\n%s", text)
	}
	p, err := LoadPolicy(dir)
	if err != nil || p.Cores != 3 {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestLoadPolicyDefaults(t *testing.T) {
	dir := t.TempDir()
	for _, text := range []string{"", "[node]\nanon_key = k\n", "[policy]\n"} {
		if text != "" {
			writeConfigText(t, dir, text)
		}
		s, err := LoadPolicy(dir)
		if err != nil || !s.Equal(policy.DefaultSettings()) {
			t.Errorf("file %q: %+v %v", text, s, err)
		}
	}
	writeConfigText(t, dir, "[policy]\ncores_in_use = 2\nidle_minutes = 5\nschedule = mon-fri 18:00-08:00, sat-sun all day\n")
	s, err := LoadPolicy(dir)
	if err != nil || s.CoresInUse != 2 || s.IdleMinutes != 5 || s.Schedule.String() != "mon-fri 18:00-08:00, sat-sun all day" || !s.PauseOnBattery {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestLoadPolicyRefusesBadValues(t *testing.T) {
	tests := []struct{ text, want string }{
		{"[policy]\ncores = lots\n", `[policy] cores: "lots" is not a whole number`},
		{"[policy]\nschedule = mon-fry all day\n", `[policy] schedule: schedule window 1 ("mon-fry all day"): "fry" is not a day`},
		{"[policy]\ncores-in-use = 2\n", `unknown key "cores-in-use"`},
		{"[policy]\nturbo = 1\n", `unknown key "turbo" (known: [cores idle_minutes`},
		{"[policy\ncores = 1\n", "config.ini"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		writeConfigText(t, dir, tt.text)
		_, err := LoadPolicy(dir)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want an error containing %q", tt.text, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), ConfigFile) {
			t.Errorf("%q: the error does not name the file: %v", tt.text, err)
		}
	}
}

func TestSavePolicyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadConfig(dir, nil); err != nil {
		t.Fatal(err)
	}
	writeConfigText(t, dir, readConfigText(t, dir)+"\n[policy]\nbusy_percent = 40\nobsolete = 1\n\n[update]\nauto_update = true\n")
	want := policy.Settings{Cores: 6, IdleMinutes: 3, CoresInUse: 1, BusyPercent: 70, Schedule: mustSchedule(t, "daily 22:00-07:00 2 cores"), MaxTemperature: 90}
	if err := SavePolicy(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadPolicy(dir)
	if err != nil || !got.Equal(want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	c, err := LoadConfig(dir, nil)
	if err != nil || c != DefaultConfig() {
		t.Fatalf("[node] changed: %+v %v", c, err)
	}
	text := readConfigText(t, dir)
	for _, want := range []string{"[update]", "auto_update", "; cores while the computer is in use (0 pauses the node)", "pause_on_battery = false"} {
		if !strings.Contains(text, want) {
			t.Errorf("file lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "obsolete") {
		t.Errorf("unknown key kept:\n%s", text)
	}
	if st, err := os.Stat(filepath.Join(dir, ConfigFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", st.Mode(), err)
	}
	if err := SavePolicy(dir, policy.Settings{Cores: -1}); err == nil {
		t.Fatal("invalid settings saved")
	}
	if again, _ := LoadPolicy(dir); !again.Equal(want) {
		t.Fatal("a refused save changed the file")
	}
}

func mustSchedule(t *testing.T, s string) policy.Schedule {
	t.Helper()
	sch, err := policy.ParseSchedule(s)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// FuzzLoadPolicy feeds arbitrary config.ini contents to LoadPolicy: it
// must never panic, and settings it accepts survive a save and a load.
func FuzzLoadPolicy(f *testing.F) {
	f.Add("[policy]\ncores = 4\nschedule = mon-fri 18:00-08:00, sat-sun all day\n")
	f.Add("[policy]\npause_on_battery = no\nmax_temperature = 85\nbusy_percent = 70\nbusy_cores = 1\n")
	f.Add("[node]\nnode_id = x\n[policy]\nidle_minutes = 3\ncores_in_use = 0\n")
	f.Add("[policy]\nschedule = `daily all day 2 cores`\n")
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		writeConfigText(t, dir, text)
		s, err := LoadPolicy(dir)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted invalid settings %+v: %v", s, err)
		}
		if err := SavePolicy(dir, s); err != nil {
			return // a file LoadPolicy reads may still be one SavePolicy cannot rewrite (e.g. a broken [node])
		}
		back, err := LoadPolicy(dir)
		if err != nil || !back.Equal(s) {
			t.Fatalf("round trip: %+v, then %+v %v", s, back, err)
		}
	})
}
