package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSettingsSetAndValue(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"cores", "4", "4"},
		{"cores", " 0 ", "0"},
		{"idle-minutes", "5", "5"},
		{"coresInUse", "0", "0"},
		{"busy_percent", "70", "70"},
		{"busy_cores", "1", "1"},
		{"schedule", "Mon-Fri 18:00-08:00", "mon-fri 18:00-08:00"},
		{"schedule", "", ""},
		{"pause_on_battery", "no", "false"},
		{"pause_on_battery", "ON", "true"},
		{"max_temperature", "85", "85"},
		{"max_temperature", "0", "0"},
	}
	for _, tt := range tests {
		var s Settings
		if err := s.Set(tt.name, tt.value); err != nil {
			t.Errorf("Set(%q, %q): %v", tt.name, tt.value, err)
			continue
		}
		got, err := s.Value(tt.name)
		if err != nil || got != tt.want {
			t.Errorf("after Set(%q, %q): Value = %q, %v; want %q", tt.name, tt.value, got, err, tt.want)
		}
	}
}

func TestSettingsSetRejects(t *testing.T) {
	tests := []struct{ name, value, key, want string }{
		{"cores", "-1", "cores", "not between 0 and 4096"},
		{"cores", "4097", "cores", "not between"},
		{"cores", "four", "cores", "not a whole number"},
		{"cores", "NaN", "cores", "not a whole number"},
		{"cores", "1e3", "cores", "not a whole number"},
		{"idle_minutes", "1441", "idle_minutes", "not between 0 and 1440"},
		{"busy_percent", "100", "busy_percent", "not between 0 and 99"},
		{"schedule", "mon-fry all day", "schedule", `"fry" is not a day`},
		{"pause_on_battery", "maybe", "pause_on_battery", "not true or false"},
		{"max_temperature", "20", "max_temperature", "not 0 (off) or between 40 and 110"},
		{"max_temperature", "200", "max_temperature", "between 40 and 110"},
		{"cores", "4\x00", "cores", "NUL"},
		{"turbo", "1", "turbo", "unknown setting"},
	}
	for _, tt := range tests {
		s := DefaultSettings()
		before := s
		err := s.Set(tt.name, tt.value)
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != tt.key || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Set(%q, %q) = %v, want a KeyError for %s containing %q", tt.name, tt.value, err, tt.key, tt.want)
		}
		if !s.Equal(before) {
			t.Errorf("Set(%q, %q) changed the settings", tt.name, tt.value)
		}
	}
	var ke *KeyError
	if err := new(Settings).Set("turbo", "1"); !errors.Is(err, ErrUnknownKey) || !errors.As(err, &ke) || !strings.Contains(err.Error(), "known: cores,") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestKeysSpellings(t *testing.T) {
	owner := map[string]string{} // spelling -> key
	for _, k := range Keys() {
		for _, name := range []string{k.Name, k.Flag, k.JSON, k.Env} {
			if o, ok := owner[name]; name == "" || ok && o != k.Name {
				t.Errorf("key %s: spelling %q empty or also used by %s", k.Name, name, o)
			}
			owner[name] = k.Name
		}
		for _, name := range []string{k.Name, k.Flag, k.JSON} {
			if got, ok := LookupKey(name); !ok || got.Name != k.Name {
				t.Errorf("LookupKey(%q) = %+v, %v", name, got, ok)
			}
		}
		if !strings.HasPrefix(k.Env, "WOWLAB_NODE_") || k.Usage == "" {
			t.Errorf("key %+v: env or usage", k)
		}
		if k.Bool != (k.Name == "pause_on_battery") {
			t.Errorf("key %s: Bool = %v", k.Name, k.Bool)
		}
	}
	if k, _ := LookupKey("cores_in_use"); k.JSON != "coresInUse" || k.Flag != "cores-in-use" || k.Env != "WOWLAB_NODE_CORES_IN_USE" {
		t.Errorf("cores_in_use: %+v", k)
	}
	if _, ok := LookupKey("WOWLAB_NODE_CORES"); ok {
		t.Error("an environment variable is not a setting's name")
	}
}

func TestSettingsValidate(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Settings{}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Settings{{Cores: -1}, {BusyPercent: 150}, {MaxTemperature: 7}, {CoresInUse: MaxCores + 1}, {IdleMinutes: -5}} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v validated", s)
		}
	}
}

func TestSettingsWithOverrides(t *testing.T) {
	saved := DefaultSettings()
	got, err := saved.With(Overrides{"cores": "2", "schedule": "daily 20:00-06:00", "pause-on-battery": "false"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Cores != 2 || got.Schedule.String() != "daily 20:00-06:00" || got.PauseOnBattery {
		t.Fatalf("%+v", got)
	}
	if !saved.PauseOnBattery || saved.Cores != 0 {
		t.Fatal("With changed its receiver")
	}
	if _, err := saved.With(Overrides{"cores": "2", "busy_percent": "x"}); err == nil || !strings.Contains(err.Error(), "busy_percent") {
		t.Fatalf("bad override: %v", err)
	}
	canon, err := Overrides{"cores-in-use": "1", "maxTemperature": "80"}.Canonical()
	if err != nil || len(canon) != 2 || canon["cores_in_use"] != "1" || canon["max_temperature"] != "80" {
		t.Fatalf("%v %v", canon, err)
	}
	if _, err := (Overrides{"nope": "1"}).Canonical(); !errors.Is(err, ErrUnknownKey) {
		t.Fatal(err)
	}
}

func TestSettingsJSON(t *testing.T) {
	s := Settings{Cores: 3, IdleMinutes: 5, CoresInUse: 1, Schedule: mustParse(t, "sat-sun all day"), PauseOnBattery: true, MaxTemperature: 90}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cores":3,"idleMinutes":5,"coresInUse":1,"busyPercent":0,"busyCores":0,"schedule":"sat-sun all day","pauseOnBattery":true,"maxTemperature":90}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back Settings
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(s) {
		t.Fatalf("%+v %v", back, err)
	}
	// Every key's JSON name is the field's JSON name.
	var fields map[string]any
	_ = json.Unmarshal(b, &fields)
	for _, k := range Keys() {
		if _, ok := fields[k.JSON]; !ok {
			t.Errorf("key %s: no JSON field %q", k.Name, k.JSON)
		}
	}
	if len(fields) != len(Keys()) {
		t.Errorf("%d fields, %d keys", len(fields), len(Keys()))
	}
}
