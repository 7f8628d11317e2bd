package cpuinfo

import (
	"testing"
	"testing/fstest"
)

func TestCountMaxCapacity(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name string
		fs   fstest.MapFS
		want int
	}{
		{"big.LITTLE 4+4", fstest.MapFS{
			"cpu0/cpu_capacity": file("446\n"), "cpu1/cpu_capacity": file("446\n"),
			"cpu2/cpu_capacity": file("446\n"), "cpu3/cpu_capacity": file("446\n"),
			"cpu4/cpu_capacity": file("1024\n"), "cpu5/cpu_capacity": file("1024\n"),
			"cpu6/cpu_capacity": file("1024\n"), "cpu7/cpu_capacity": file("1024\n"),
			"cpufreq/x": file(""), "online": file("0-7"),
		}, 4},
		{"uniform", fstest.MapFS{"cpu0/cpu_capacity": file("1024"), "cpu1/cpu_capacity": file("1024")}, 0},
		{"none published", fstest.MapFS{"cpu0/online": file("1")}, 0},
		{"garbage", fstest.MapFS{"cpu0/cpu_capacity": file("x"), "cpuX/cpu_capacity": file("5")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CountMaxCapacity(tt.fs); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDefaultEnabledWithinLogical(t *testing.T) {
	n := DefaultEnabled()
	if n < 1 || n > Logical() {
		t.Fatalf("DefaultEnabled = %d, Logical = %d", n, Logical())
	}
}
