package priority

import "testing"

func TestParse(t *testing.T) {
	for _, l := range []Level{Normal, Low, Idle} {
		got, err := Parse(l.String())
		if err != nil || got != l {
			t.Errorf("Parse(%q) = %v, %v; want %v", l.String(), got, err, l)
		}
	}
	for _, bad := range []string{"", "IDLE", "high", "realtime", "19"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
