package policy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// MaxCores bounds every core count a setting may hold.
const MaxCores = 4096

// TemperatureHysteresis is how far below MaxTemperature the CPU must cool
// before a node paused by the temperature rule resumes.
const TemperatureHysteresis = 5.0

// Settings are the volunteer's rules for when and how hard the node works:
// the [policy] section of config.ini, each also a flag, an environment
// variable and a field of the control API. The zero value enables every
// core the machine's default allows, all the time.
type Settings struct {
	// Cores is how many cores the node simulates on when no rule limits
	// it; 0 takes the machine's default (physical or performance cores).
	Cores int `json:"cores"`
	// IdleMinutes turns on the in-use rule: the computer is in use while
	// there was keyboard or mouse input in the last IdleMinutes; 0: off.
	IdleMinutes int `json:"idleMinutes"`
	// CoresInUse is how many cores the node uses while the computer is in
	// use; 0 pauses it.
	CoresInUse int `json:"coresInUse"`
	// BusyPercent turns on the busy-computer rule: other programs using
	// more than this share of the CPU (percent of all cores) make the
	// computer busy; 0: off.
	BusyPercent int `json:"busyPercent"`
	// BusyCores is how many cores the node uses while the computer is
	// busy; 0 pauses it.
	BusyCores int `json:"busyCores"`
	// Schedule is when the node may simulate; the zero Schedule: always.
	Schedule Schedule `json:"schedule"`
	// PauseOnBattery pauses the node while the computer runs on battery.
	PauseOnBattery bool `json:"pauseOnBattery"`
	// MaxTemperature pauses the node while the CPU is hotter (degrees
	// Celsius), until it is TemperatureHysteresis cooler; 0: off.
	MaxTemperature int `json:"maxTemperature"`
}

// DefaultSettings returns the settings of a node whose config names none:
// every rule off but the battery one, whose default BOINC also sets
// ("Suspend while computer is running on batteries", default Yes, in the
// BOINC preferences reference, scienceunited.org/trac/wiki/PrefsReference).
func DefaultSettings() Settings {
	return Settings{PauseOnBattery: true}
}

// Key describes one setting in each of its spellings.
type Key struct {
	Name  string // config.ini key in [policy], and the ctl name
	JSON  string // field of the control API
	Flag  string // command-line flag, without dashes
	Env   string // environment variable
	Usage string // one line for --help and the config file
	Bool  bool   // a flag that needs no value
}

// keyDef is a Key with its accessors.
type keyDef struct {
	Key
	access
}

// access reads and writes one setting in its text form.
type access struct {
	get func(*Settings) string
	set func(*Settings, string) error
}

func keyDefs() []keyDef {
	def := func(name, flag, env, usage string, a access) keyDef {
		return keyDef{Key: Key{Name: name, JSON: jsonName(name), Flag: flag, Env: env, Usage: usage}, access: a}
	}
	cores := func(n int) error { return checkRange(n, 0, MaxCores) }
	defs := []keyDef{
		def("cores", "cores", "WOWLAB_NODE_CORES",
			"cores to simulate on when no rule limits them (0: physical or performance cores)",
			intAccess(func(s *Settings) *int { return &s.Cores }, cores)),
		def("idle_minutes", "idle-minutes", "WOWLAB_NODE_IDLE_MINUTES",
			"the computer is in use while there was keyboard or mouse input this many minutes ago (0: the in-use rule is off)",
			intAccess(func(s *Settings) *int { return &s.IdleMinutes }, func(n int) error { return checkRange(n, 0, 24*60) })),
		def("cores_in_use", "cores-in-use", "WOWLAB_NODE_CORES_IN_USE",
			"cores while the computer is in use (0 pauses the node)",
			intAccess(func(s *Settings) *int { return &s.CoresInUse }, cores)),
		def("busy_percent", "busy-percent", "WOWLAB_NODE_BUSY_PERCENT",
			"the computer is busy while other programs use more than this percentage of the CPU (0: the busy rule is off)",
			intAccess(func(s *Settings) *int { return &s.BusyPercent }, func(n int) error { return checkRange(n, 0, 99) })),
		def("busy_cores", "busy-cores", "WOWLAB_NODE_BUSY_CORES",
			"cores while the computer is busy (0 pauses the node)",
			intAccess(func(s *Settings) *int { return &s.BusyCores }, cores)),
		def("schedule", "schedule", "WOWLAB_NODE_SCHEDULE",
			`weekly windows in which the node may simulate, e.g. "mon-fri 18:00-08:00, sat-sun all day" (empty: always)`,
			access{func(s *Settings) string { return s.Schedule.String() },
				func(s *Settings, v string) error {
					sch, err := ParseSchedule(v)
					if err != nil {
						return err
					}
					s.Schedule = sch
					return nil
				}}),
		def("pause_on_battery", "pause-on-battery", "WOWLAB_NODE_PAUSE_ON_BATTERY",
			"pause while the computer runs on battery (true or false)",
			access{func(s *Settings) string { return strconv.FormatBool(s.PauseOnBattery) },
				func(s *Settings, v string) error {
					b, err := parseBool(v)
					if err != nil {
						return err
					}
					s.PauseOnBattery = b
					return nil
				}}),
		def("max_temperature", "max-temperature", "WOWLAB_NODE_MAX_TEMPERATURE",
			"pause while the CPU is hotter than this many degrees Celsius, until 5 degrees cooler (0: off)",
			intAccess(func(s *Settings) *int { return &s.MaxTemperature }, checkTemperature)),
	}
	for i := range defs {
		defs[i].Bool = defs[i].Name == "pause_on_battery"
	}
	return defs
}

// intAccess returns the text accessors of an int field.
func intAccess(field func(*Settings) *int, check func(int) error) access {
	return access{func(s *Settings) string { return strconv.Itoa(*field(s)) },
		func(s *Settings, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			if err := check(n); err != nil {
				return err
			}
			*field(s) = n
			return nil
		}}
}

func checkRange(n, lo, hi int) error {
	if n < lo || n > hi {
		return fmt.Errorf("%d is not between %d and %d", n, lo, hi)
	}
	return nil
}

// checkTemperature allows 0 (off) or a plausible CPU limit.
func checkTemperature(n int) error {
	if n != 0 && (n < 40 || n > 110) {
		return fmt.Errorf("%d °C is not 0 (off) or between 40 and 110", n)
	}
	return nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

// jsonName turns a snake_case key into its camelCase field name.
func jsonName(name string) string {
	parts := strings.Split(name, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// Keys lists the settings in the order config.ini and --help show them.
func Keys() []Key {
	defs := keyDefs()
	out := make([]Key, len(defs))
	for i, d := range defs {
		out[i] = d.Key
	}
	return out
}

// LookupKey finds a setting by any of its spellings: the config.ini name
// (cores_in_use), the flag (cores-in-use) or the API field (coresInUse).
func LookupKey(name string) (Key, bool) {
	d, ok := lookup(name)
	return d.Key, ok
}

func lookup(name string) (keyDef, bool) {
	for _, d := range keyDefs() {
		if name == d.Name || name == d.Flag || name == d.JSON {
			return d, true
		}
	}
	return keyDef{}, false
}

// KeyError is a setting that cannot take the value it was given.
type KeyError struct {
	Key string // the config.ini name, or the name as given when unknown
	Err error
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }

// ErrUnknownKey is wrapped by a KeyError for a name no setting has.
var ErrUnknownKey = errors.New("unknown setting")

// Set sets the setting name (any spelling) from its text form. A value
// that is not valid leaves s unchanged and returns a *KeyError.
func (s *Settings) Set(name, value string) error {
	d, ok := lookup(name)
	if !ok {
		return &KeyError{Key: name, Err: fmt.Errorf("%w (known: %s)", ErrUnknownKey, strings.Join(names(), ", "))}
	}
	if strings.ContainsRune(value, 0) {
		return &KeyError{Key: d.Name, Err: errors.New("value contains a NUL character")}
	}
	if err := d.set(s, value); err != nil {
		return &KeyError{Key: d.Name, Err: err}
	}
	return nil
}

// Value returns the text form of the setting name (any spelling), as
// config.ini holds it.
func (s Settings) Value(name string) (string, error) {
	d, ok := lookup(name)
	if !ok {
		return "", &KeyError{Key: name, Err: ErrUnknownKey}
	}
	return d.get(&s), nil
}

func names() []string {
	var out []string
	for _, d := range keyDefs() {
		out = append(out, d.Name)
	}
	return out
}

// Validate reports the first setting out of its range.
func (s Settings) Validate() error {
	for _, d := range keyDefs() {
		var probe Settings
		if err := d.set(&probe, d.get(&s)); err != nil {
			return &KeyError{Key: d.Name, Err: err}
		}
	}
	return nil
}

// Equal reports whether two settings are the same.
func (s Settings) Equal(o Settings) bool {
	for _, d := range keyDefs() {
		if d.get(&s) != d.get(&o) {
			return false
		}
	}
	return true
}

// Overrides are settings given by name (any spelling) and text value:
// this run's flags and environment variables, or a change made through the
// control API.
type Overrides map[string]string

// With returns s with the overrides applied, or a *KeyError naming the
// first that cannot be (in key order), leaving s as it was.
func (s Settings) With(o Overrides) (Settings, error) {
	for _, name := range slices.Sorted(maps.Keys(o)) {
		if err := s.Set(name, o[name]); err != nil {
			return Settings{}, err
		}
	}
	return s, nil
}

// Canonical returns the overrides keyed by config.ini names, or a
// *KeyError for a name no setting has.
func (o Overrides) Canonical() (Overrides, error) {
	out := make(Overrides, len(o))
	for name, v := range o {
		d, ok := lookup(name)
		if !ok {
			return nil, &KeyError{Key: name, Err: ErrUnknownKey}
		}
		out[d.Name] = v
	}
	return out, nil
}
