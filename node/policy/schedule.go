package policy

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Schedule is the weekly windows in which the node may simulate, in the
// computer's local time. Its text form is a comma-separated list of
// windows, each a set of days, a span of the day and optionally a core
// count:
//
//	mon-fri 18:00-08:00, sat-sun all day
//	mon wed fri 09:00-17:00 2 cores, daily 22:00-06:00
//
// Days are mon tue wed thu fri sat sun (or their full names), ranges of
// them (fri-mon wraps over the weekend), daily, weekdays or weekends. A
// span is HH:MM-HH:MM, the end excluded; an end before the start crosses
// midnight, so the window runs into the next day (mon 22:00-06:00 ends on
// Tuesday morning). 24:00 may end a span; "all day" is 00:00-24:00. Times
// are wall-clock times: on the night clocks go forward a window is an hour
// shorter, on the night they go back an hour longer. Where windows
// overlap, the larger core count applies (a window without one has no
// limit). The zero Schedule, written "" or "always", allows every moment.
type Schedule struct {
	windows []window
}

// window is one entry of a schedule.
type window struct {
	days       [7]bool // by time.Weekday: the days the window starts on
	start, end int     // minutes from midnight; end < start crosses midnight; end may be 1440
	cores      int     // 0: no limit
}

const dayMinutes = 24 * 60

// maxWindows bounds a schedule's size; a week has no use for more.
const maxWindows = 64

// dayNames are the short names of the days, by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseSchedule reads a schedule's text form (see Schedule).
func ParseSchedule(s string) (Schedule, error) {
	if len(s) > 4096 {
		return Schedule{}, errors.New("schedule is longer than 4096 characters")
	}
	for _, r := range s {
		if r < ' ' && r != '\t' || r == 0x7f {
			return Schedule{}, fmt.Errorf("schedule contains the control character %q", r)
		}
	}
	text := strings.ToLower(strings.TrimSpace(s))
	if text == "" || text == "always" {
		return Schedule{}, nil
	}
	var sch Schedule
	for i, part := range strings.Split(text, ",") {
		w, err := parseWindow(strings.Fields(part))
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule window %d (%q): %w", i+1, strings.TrimSpace(part), err)
		}
		sch.windows = append(sch.windows, w)
		if len(sch.windows) > maxWindows {
			return Schedule{}, fmt.Errorf("schedule has more than %d windows", maxWindows)
		}
	}
	return sch, nil
}

func parseWindow(tok []string) (window, error) {
	var w window
	if len(tok) == 0 {
		return w, errors.New("empty window (two commas in a row, or one at the end?)")
	}
	i := 0
	for ; i < len(tok) && !startsWithDigit(tok[i]) && tok[i] != "all"; i++ {
		if err := w.addDays(tok[i]); err != nil {
			return w, err
		}
	}
	if i == 0 {
		return w, fmt.Errorf("%q is not a day: start the window with days such as mon-fri, daily or weekends", tok[0])
	}
	if i == len(tok) {
		return w, errors.New("no time span after the days: add HH:MM-HH:MM or all day")
	}
	if tok[i] == "all" {
		if i+1 == len(tok) || tok[i+1] != "day" {
			return w, errors.New(`"all" must be followed by "day"`)
		}
		w.start, w.end = 0, dayMinutes
		i += 2
	} else {
		var err error
		if w.start, w.end, err = parseSpan(tok[i]); err != nil {
			return w, err
		}
		i++
	}
	switch rest := tok[i:]; {
	case len(rest) == 0:
	case len(rest) == 2 && (rest[1] == "cores" || rest[1] == "core"):
		n, err := strconv.Atoi(rest[0])
		if err != nil || n < 1 || n > MaxCores {
			return w, fmt.Errorf("%q is not a core count from 1 to %d", rest[0], MaxCores)
		}
		w.cores = n
	default:
		return w, fmt.Errorf("unexpected %q after the time span: only a core count such as \"2 cores\" may follow", strings.Join(rest, " "))
	}
	return w, nil
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// addDays marks the days one token names.
func (w *window) addDays(tok string) error {
	switch tok {
	case "daily":
		w.days = [7]bool{true, true, true, true, true, true, true}
		return nil
	case "weekdays":
		return w.addRange(time.Monday, time.Friday)
	case "weekends":
		return w.addRange(time.Saturday, time.Sunday)
	}
	from, to, isRange := strings.Cut(tok, "-")
	a, err := parseDay(from)
	if err != nil {
		return err
	}
	b := a
	if isRange {
		if b, err = parseDay(to); err != nil {
			return err
		}
	}
	return w.addRange(a, b)
}

// addRange marks the days from a to b, wrapping past Sunday when b < a.
func (w *window) addRange(a, b time.Weekday) error {
	for d := a; ; d = (d + 1) % 7 {
		w.days[d] = true
		if d == b {
			return nil
		}
	}
}

func parseDay(s string) (time.Weekday, error) {
	for d, name := range dayNames {
		if s == name || s == strings.ToLower(time.Weekday(d).String()) {
			return time.Weekday(d), nil
		}
	}
	return 0, fmt.Errorf("%q is not a day (use mon, tue, wed, thu, fri, sat, sun, daily, weekdays or weekends)", s)
}

// parseSpan reads HH:MM-HH:MM.
func parseSpan(s string) (start, end int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a time span such as 18:00-08:00", s)
	}
	if start, err = parseClock(a); err != nil {
		return 0, 0, err
	}
	if end, err = parseClock(b); err != nil {
		return 0, 0, err
	}
	switch {
	case start == dayMinutes:
		return 0, 0, errors.New("a span cannot start at 24:00 (use 00:00)")
	case end == 0 && start > 0:
		end = dayMinutes // 22:00-00:00 ends at midnight
	case start == end:
		return 0, 0, fmt.Errorf("%q starts and ends at the same time (use all day for a whole day)", s)
	}
	return start, end, nil
}

// parseClock reads H:MM or HH:MM, 00:00 to 24:00.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	bad := fmt.Errorf("%q is not a time of day such as 08:00", s)
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !allDigits(h) || !allDigits(m) {
		return 0, bad
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 24 || mm > 59 || hh == 24 && mm != 0 {
		return 0, bad
	}
	return hh*60 + mm, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// IsZero reports whether s allows every moment (the rule is off).
func (s Schedule) IsZero() bool { return len(s.windows) == 0 }

// String returns the canonical text form, which ParseSchedule reads back
// to an equal schedule.
func (s Schedule) String() string {
	parts := make([]string, len(s.windows))
	for i, w := range s.windows {
		parts[i] = w.String()
	}
	return strings.Join(parts, ", ")
}

func (w window) String() string {
	var b strings.Builder
	b.WriteString(formatDays(w.days))
	if w.start == 0 && w.end == dayMinutes {
		b.WriteString(" all day")
	} else {
		fmt.Fprintf(&b, " %02d:%02d-%02d:%02d", w.start/60, w.start%60, w.end/60, w.end%60)
	}
	switch {
	case w.cores == 1:
		b.WriteString(" 1 core")
	case w.cores > 1:
		fmt.Fprintf(&b, " %d cores", w.cores)
	}
	return b.String()
}

// formatDays writes the days as runs in week order from Monday.
func formatDays(days [7]bool) string {
	if days == [7]bool{true, true, true, true, true, true, true} {
		return "daily"
	}
	order := [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	var runs []string
	for p := 0; p < len(order); {
		if !days[order[p]] {
			p++
			continue
		}
		q := p
		for q+1 < len(order) && days[order[q+1]] {
			q++
		}
		run := dayNames[order[p]]
		if q > p {
			run += "-" + dayNames[order[q]]
		}
		runs = append(runs, run)
		p = q + 1
	}
	return strings.Join(runs, " ")
}

// MarshalText returns String().
func (s Schedule) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses the text form.
func (s *Schedule) UnmarshalText(b []byte) error {
	p, err := ParseSchedule(string(b))
	if err != nil {
		return err
	}
	*s = p
	return nil
}

// Equal reports whether two schedules have the same windows.
func (s Schedule) Equal(o Schedule) bool { return slices.Equal(s.windows, o.windows) }

// At reports whether the schedule allows simulating at t, judged on t's
// wall clock in its location, and the core limit there (0: no limit).
func (s Schedule) At(t time.Time) (allowed bool, cores int) {
	if s.IsZero() {
		return true, 0
	}
	day, minute := t.Weekday(), t.Hour()*60+t.Minute()
	yesterday := (day + 6) % 7
	limited := true
	for _, w := range s.windows {
		var in bool
		if w.start < w.end {
			in = w.days[day] && minute >= w.start && minute < w.end
		} else {
			in = w.days[day] && minute >= w.start || w.days[yesterday] && minute < w.end
		}
		if !in {
			continue
		}
		allowed = true
		if w.cores == 0 {
			limited = false
		}
		cores = max(cores, w.cores)
	}
	if !allowed || !limited {
		cores = 0
	}
	return allowed, cores
}

// Next returns the first instant after t at which At gives another answer,
// or the zero time when it never does. It is exact across daylight-saving
// changes: a window's edge on a day is reached at each instant whose wall
// clock shows it under one of the zone's offsets, or where a clock change
// jumps over it.
func (s Schedule) Next(t time.Time) time.Time {
	if s.IsZero() {
		return time.Time{}
	}
	loc := t.Location()
	horizon := t.Add(9 * 24 * time.Hour)
	// Clock changes within the horizon, and every offset in use.
	offsets := map[int]bool{}
	var candidates []time.Time
	for at := t; at.Before(horizon); {
		_, off := at.Zone()
		offsets[off] = true
		_, end := at.ZoneBounds()
		if end.IsZero() {
			break
		}
		candidates = append(candidates, end)
		at = end
	}
	y, m, d := t.Date()
	for day := -1; day <= 8; day++ {
		date := time.Date(y, m, d+day, 0, 0, 0, 0, time.UTC) // a calendar day, without zone
		for _, w := range s.windows {
			for _, edge := range []int{w.start, w.end} {
				wall := date.Add(time.Duration(edge) * time.Minute)
				for off := range offsets {
					candidates = append(candidates, time.Unix(wall.Unix()-int64(off), 0).In(loc))
				}
			}
		}
	}
	slices.SortFunc(candidates, func(a, b time.Time) int { return a.Compare(b) })
	nowAllowed, nowCores := s.At(t)
	for _, c := range candidates {
		if !c.After(t) || !c.Before(horizon) {
			continue
		}
		if a, n := s.At(c); a != nowAllowed || n != nowCores {
			return c
		}
	}
	return time.Time{}
}
