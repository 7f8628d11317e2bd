package probe

// The readings' pure parts, built on every platform so that each is tested
// everywhere: the texts of macOS's ioreg and pmset, Linux's power_supply
// class, Windows' power status fields and logind's idle hint.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"wowlab/node/policy"
)

// parseHIDIdleTime reads the first `"HIDIdleTime" = N` of ioreg's output
// (nanoseconds).
func parseHIDIdleTime(out []byte) (time.Duration, error) {
	const key = `"HIDIdleTime" = `
	i := bytes.Index(out, []byte(key))
	if i < 0 {
		return 0, fmt.Errorf("%w: ioreg shows no HIDIdleTime", policy.ErrUnavailable)
	}
	rest := out[i+len(key):]
	end := bytes.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	ns, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil || ns < 0 {
		return 0, fmt.Errorf("ioreg HIDIdleTime %q is not a count of nanoseconds", rest[:min(end+1, len(rest), 32)])
	}
	return time.Duration(ns), nil
}

// parsePmsetBatt reads `pmset -g batt`: the first line names the source
// ("Now drawing from 'Battery Power'" or "'AC Power'"), and a computer with
// a battery of its own lists "-InternalBattery-0 ... 87%; discharging".
// A UPS is listed too but is no battery of the computer's.
func parsePmsetBatt(out []byte) (policy.Power, error) {
	text := string(out)
	if !strings.Contains(text, "Now drawing from") {
		return policy.Power{}, errors.New("pmset shows no power source")
	}
	p := policy.Power{Percent: -1}
	for _, line := range strings.Split(text, "\n") {
		if !strings.Contains(line, "InternalBattery") {
			continue
		}
		p.Battery = true
		if pct, _, ok := strings.Cut(line, "%"); ok {
			if f := strings.Fields(pct); len(f) > 0 {
				if n, err := strconv.Atoi(f[len(f)-1]); err == nil && n >= 0 && n <= 100 {
					p.Percent = n
				}
			}
		}
		break
	}
	p.OnBattery = p.Battery && strings.Contains(text, "'Battery Power'")
	return p, nil
}

// readPowerSupply reads Linux's /sys/class/power_supply: a supply of type
// Battery whose scope is not Device (a mouse's or a headset's battery) is
// the computer's own; the computer runs on it when no Mains, USB or UPS
// supply is online and a battery discharges.
func readPowerSupply(fsys fs.FS) (policy.Power, error) {
	p := policy.Power{Percent: -1}
	entries, err := fs.ReadDir(fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil // no power_supply class: no battery
	}
	if err != nil {
		return p, fmt.Errorf("read power supplies: %w", err)
	}
	read := func(name, attr string) string {
		b, err := fs.ReadFile(fsys, name+"/"+attr)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	online, discharging := false, false
	for _, e := range entries {
		name := e.Name()
		switch read(name, "type") {
		case "Battery":
			if read(name, "scope") == "Device" || read(name, "present") == "0" {
				continue
			}
			p.Battery = true
			if read(name, "status") == "Discharging" {
				discharging = true
			}
			if n, err := strconv.Atoi(read(name, "capacity")); err == nil && n >= 0 && n <= 100 && p.Percent < 0 {
				p.Percent = n
			}
		case "Mains", "USB", "UPS":
			if read(name, "online") == "1" {
				online = true
			}
		}
	}
	p.OnBattery = p.Battery && !online && discharging
	return p, nil
}

// windowsPower reads the fields of SYSTEM_POWER_STATUS (Microsoft's
// documentation of GetSystemPowerStatus): ACLineStatus 0 offline, 1
// online, 255 unknown; BatteryFlag 128 "no system battery", 255 unknown;
// BatteryLifePercent 0-100 or 255 unknown.
func windowsPower(acLine, flag, percent byte) policy.Power {
	p := policy.Power{Percent: -1, Battery: flag != 128 && flag != 255}
	if p.Battery && percent <= 100 {
		p.Percent = int(percent)
	}
	p.OnBattery = p.Battery && acLine == 0
	return p
}

// logindIdle turns logind's IdleHint and IdleSinceHint (microseconds of
// the realtime clock) into the time since the last input. A seat idle
// since time zero has never had a session in use.
func logindIdle(hint bool, sinceMicros uint64, now time.Time) time.Duration {
	switch {
	case !hint:
		return 0
	case sinceMicros == 0:
		return policy.NoSession
	}
	return max(0, now.Sub(time.UnixMicro(int64(sinceMicros))))
}
