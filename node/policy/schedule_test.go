package policy

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on any machine
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustParse(t testing.TB, s string) Schedule {
	t.Helper()
	sch, err := ParseSchedule(s)
	if err != nil {
		t.Fatalf("ParseSchedule(%q): %v", s, err)
	}
	return sch
}

func TestParseScheduleCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  always ", ""},
		{"mon-fri 18:00-08:00, sat-sun all day", "mon-fri 18:00-08:00, sat-sun all day"},
		{"Mon-Fri 9:00-17:00 2 cores", "mon-fri 09:00-17:00 2 cores"},
		{"weekdays 22:00-00:00", "mon-fri 22:00-24:00"},
		{"weekends 00:00-24:00 1 core", "sat-sun all day 1 core"},
		{"daily all day", "daily all day"},
		{"monday wednesday friday 06:30-07:45", "mon wed fri 06:30-07:45"},
		{"fri-mon 20:00-06:00", "mon fri-sun 20:00-06:00"},
		{"sun mon tue wed thu fri sat 01:00-02:00 3 cores", "daily 01:00-02:00 3 cores"},
		{"tue\t10:00-11:00 ,  thu 10:00-11:00", "tue 10:00-11:00, thu 10:00-11:00"},
	}
	for _, tt := range tests {
		sch := mustParse(t, tt.in)
		if got := sch.String(); got != tt.want {
			t.Errorf("ParseSchedule(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		if again := mustParse(t, sch.String()); !again.Equal(sch) {
			t.Errorf("%q does not read back to the same schedule", sch.String())
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mon-fry 18:00-08:00", `"fry" is not a day`},
		{"18:00-08:00", `"18:00-08:00" is not a day`},
		{"mon-fri", "no time span after the days"},
		{"mon-fri 18:00", `"18:00" is not a time span`},
		{"mon 25:00-26:00", `"25:00" is not a time of day`},
		{"mon 10:60-11:00", `"10:60" is not a time of day`},
		{"mon 24:00-08:00", "cannot start at 24:00"},
		{"mon 24:30-08:00", `"24:30" is not a time of day`},
		{"mon 08:00-08:00", "starts and ends at the same time"},
		{"mon 8-9", `"8" is not a time of day`},
		{"mon all", `"all" must be followed by "day"`},
		{"mon all night", `"all" must be followed by "day"`},
		{"mon 08:00-09:00 fast", `unexpected "fast"`},
		{"mon 08:00-09:00 0 cores", `"0" is not a core count`},
		{"mon 08:00-09:00 -2 cores", `"-2" is not a core count`},
		{"mon 08:00-09:00 99999 cores", `"99999" is not a core count`},
		{"mon 08:00-09:00,", "window 2"},
		{"mon 08:00-09:00,,tue all day", "empty window"},
		{"mon 08:00-09:00\nsat all day", "control character"},
		{"mon\x00 all day", "control character"},
		{"mon 08:00-09:00" + strings.Repeat(", tue all day", 64), "more than 64 windows"},
		{strings.Repeat("x", 5000), "longer than 4096"},
	}
	for _, tt := range tests {
		_, err := ParseSchedule(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSchedule(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestScheduleAtCrossesMidnight(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	sch := mustParse(t, "mon-fri 18:00-08:00, sat-sun all day")
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 1, day, hh, mm, 0, 0, berlin) } // 2026-01-05 is a Monday
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"monday morning before the first window", at(5, 7, 59), false},
		{"monday at the start", at(5, 18, 0), true},
		{"monday just before", at(5, 17, 59), false},
		{"tuesday early, from monday's window", at(6, 3, 0), true},
		{"tuesday at the end, excluded", at(6, 8, 0), false},
		{"tuesday noon", at(6, 12, 0), false},
		{"friday night", at(9, 23, 30), true},
		{"saturday early, friday's window and saturday's", at(10, 7, 0), true},
		{"saturday noon", at(10, 12, 0), true},
		{"sunday late", at(11, 23, 59), true},
		{"monday early: sunday's day ended at midnight and monday's window starts at 18:00", at(12, 0, 30), false},
	}
	for _, tt := range tests {
		if got, _ := sch.At(tt.t); got != tt.want {
			t.Errorf("%s (%s): At = %v, want %v", tt.name, tt.t.Format("Mon 15:04"), got, tt.want)
		}
	}
}

func TestScheduleAtCores(t *testing.T) {
	sch := mustParse(t, "daily 09:00-17:00 2 cores, mon 12:00-13:00 4 cores, tue 12:00-13:00, wed 20:00-02:00 1 core")
	at := func(day, hh int) time.Time { return time.Date(2026, 1, day, hh, 0, 0, 0, time.UTC) }
	tests := []struct {
		name    string
		t       time.Time
		allowed bool
		cores   int
	}{
		{"a limited window", at(8, 10), true, 2},
		{"overlap: the larger count", at(5, 12), true, 4},
		{"overlap with an unlimited window", at(6, 12), true, 0},
		{"outside", at(8, 18), false, 0},
		{"crossing midnight with a count", at(8, 1), true, 1},
	}
	for _, tt := range tests {
		a, n := sch.At(tt.t)
		if a != tt.allowed || n != tt.cores {
			t.Errorf("%s: At = %v, %d; want %v, %d", tt.name, a, n, tt.allowed, tt.cores)
		}
	}
	if a, n := (Schedule{}).At(at(5, 3)); !a || n != 0 {
		t.Errorf("zero schedule: %v %d", a, n)
	}
}

// The schedule is in wall-clock time: on the night clocks go forward a
// window crossing it is an hour shorter, on the night they go back an hour
// longer, and times that do not exist are simply never reached.
func TestScheduleAcrossDaylightSaving(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	night := mustParse(t, "sat 22:00-06:00")
	length := func(sch Schedule, from time.Time) time.Duration {
		var on time.Duration
		for m := from; m.Before(from.Add(48 * time.Hour)); m = m.Add(time.Minute) {
			if a, _ := sch.At(m); a {
				on += time.Minute
			}
		}
		return on
	}
	// 2026-03-29 02:00 CET becomes 03:00 CEST; 2026-10-25 03:00 CEST becomes 02:00 CET.
	spring := time.Date(2026, 3, 28, 12, 0, 0, 0, berlin)
	autumn := time.Date(2026, 10, 24, 12, 0, 0, 0, berlin)
	plain := time.Date(2026, 6, 6, 12, 0, 0, 0, berlin)
	if got := length(night, plain); got != 8*time.Hour {
		t.Errorf("an ordinary night: %v", got)
	}
	if got := length(night, spring); got != 7*time.Hour {
		t.Errorf("the night clocks go forward: %v, want 7h", got)
	}
	if got := length(night, autumn); got != 9*time.Hour {
		t.Errorf("the night clocks go back: %v, want 9h", got)
	}
	gap := mustParse(t, "sun 02:00-02:30")
	if got := length(gap, spring); got != 0 {
		t.Errorf("a window in the skipped hour ran %v", got)
	}
	if got := length(gap, autumn); got != time.Hour {
		t.Errorf("a window in the repeated hour ran %v, want twice 30 min", got)
	}
	// The end instant in autumn is 06:00 CET, i.e. 05:00 UTC.
	if a, _ := night.At(time.Date(2026, 10, 25, 4, 59, 0, 0, time.UTC).In(berlin)); !a {
		t.Error("05:59 CET on the autumn morning is outside")
	}
	if a, _ := night.At(time.Date(2026, 10, 25, 5, 0, 0, 0, time.UTC).In(berlin)); a {
		t.Error("06:00 CET on the autumn morning is inside")
	}
}

// bruteNext finds the next change by trying every minute.
func bruteNext(sch Schedule, t time.Time) time.Time {
	a0, n0 := sch.At(t)
	for m := t.Truncate(time.Minute).Add(time.Minute); m.Before(t.Add(9 * 24 * time.Hour)); m = m.Add(time.Minute) {
		if a, n := sch.At(m); a != a0 || n != n0 {
			return m
		}
	}
	return time.Time{}
}

func TestScheduleNextMatchesEveryMinute(t *testing.T) {
	schedules := []string{
		"mon-fri 18:00-08:00, sat-sun all day",
		"sat 22:00-06:00",
		"sun 02:00-02:30",
		"sun 01:30-03:30 2 cores, daily 12:00-13:00",
		"daily all day 3 cores, sun 02:15-02:45",
		"wed 10:00-11:00",
	}
	zones := []string{"Europe/Berlin", "Australia/Lord_Howe", "America/New_York", "UTC"}
	for _, z := range zones {
		loc := mustLoad(t, z)
		// Starts around both changes of 2026 in each hemisphere, and a plain week.
		starts := []time.Time{
			time.Date(2026, 3, 28, 21, 17, 30, 0, loc), time.Date(2026, 3, 29, 1, 59, 0, 0, loc),
			time.Date(2026, 10, 25, 1, 40, 0, 0, loc), time.Date(2026, 10, 24, 23, 0, 0, 0, loc),
			time.Date(2026, 4, 4, 23, 0, 0, 0, loc), time.Date(2026, 4, 5, 1, 45, 0, 0, loc),
			time.Date(2026, 11, 1, 0, 30, 0, 0, loc), time.Date(2026, 3, 8, 1, 0, 0, 0, loc),
			time.Date(2026, 10, 4, 1, 0, 0, 0, loc), time.Date(2026, 7, 1, 9, 0, 0, 0, loc),
		}
		for _, s := range schedules {
			sch := mustParse(t, s)
			for _, start := range starts {
				cur := start
				for step := 0; step < 6; step++ {
					got, want := sch.Next(cur), bruteNext(sch, cur)
					if !got.Equal(want) {
						t.Fatalf("%s, %q from %s: Next = %s, every minute says %s", z, s, cur, got, want)
					}
					if got.IsZero() {
						break
					}
					cur = got
				}
			}
		}
	}
	if !(Schedule{}).Next(time.Now()).IsZero() {
		t.Error("the zero schedule changes")
	}
	if !mustParse(t, "daily all day").Next(time.Now()).IsZero() {
		t.Error("a schedule of every day all day changes")
	}
}

func TestScheduleText(t *testing.T) {
	sch := mustParse(t, "sat-sun all day")
	b, err := sch.MarshalText()
	if err != nil || string(b) != "sat-sun all day" {
		t.Fatalf("%q %v", b, err)
	}
	var back Schedule
	if err := back.UnmarshalText([]byte("mon 1:00-2:00")); err != nil || back.String() != "mon 01:00-02:00" {
		t.Fatalf("%v %v", back, err)
	}
	if err := back.UnmarshalText([]byte("nonsense")); err == nil || back.String() != "mon 01:00-02:00" {
		t.Fatalf("bad text: %v, schedule now %v", err, back)
	}
}

// FuzzParseSchedule feeds arbitrary text to the schedule parser: it must
// never panic, and what it accepts must print to a text that reads back to
// the same schedule and answers At the same way.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"mon-fri 18:00-08:00, sat-sun all day", "daily 22:00-00:00 2 cores", "fri-mon 1:00-2:00",
		"weekends all day 1 core", "mon", "mon 24:00-1:00", "", "always", "tue 10:00-10:00"} {
		f.Add(s)
	}
	when := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		sch, err := ParseSchedule(s)
		if err != nil {
			return
		}
		back, err := ParseSchedule(sch.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, sch.String(), err)
		}
		if !back.Equal(sch) {
			t.Fatalf("%q printed as %q reads back differently", s, sch.String())
		}
		for h := 0; h < 7*24; h += 5 {
			m := when.Add(time.Duration(h) * time.Hour)
			a1, n1 := sch.At(m)
			a2, n2 := back.At(m)
			if a1 != a2 || n1 != n2 || n1 < 0 || n1 > MaxCores {
				t.Fatalf("%q at %s: %v %d against %v %d", s, m, a1, n1, a2, n2)
			}
		}
	})
}
