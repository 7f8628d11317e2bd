// Package cpuinfo reports the processor topology a node uses to choose how
// many cores to simulate on.
package cpuinfo

import (
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/cpu"
)

// Logical returns the number of logical CPUs usable by this process (at least 1).
func Logical() int {
	return max(1, runtime.NumCPU())
}

// DefaultEnabled returns how many cores a node enables by default: physical
// cores on x86 (hyper-threads add little to a CPU-bound simulation),
// performance cores on ARM where the platform tells them apart, else every
// logical CPU. The answer is between 1 and Logical().
func DefaultEnabled() int {
	n := 0
	switch runtime.GOARCH {
	case "amd64", "386":
		if c, err := cpu.Counts(false); err == nil {
			n = c
		}
	case "arm64", "arm":
		n = performanceCores()
	}
	if n <= 0 || n > Logical() {
		return Logical()
	}
	return n
}

// performanceCores counts performance cores, or returns 0 when unknown.
func performanceCores() int {
	if runtime.GOOS == "linux" {
		return CountMaxCapacity(os.DirFS("/sys/devices/system/cpu"))
	}
	return perfLevel0()
}

// CountMaxCapacity counts the CPUs of a Linux sysfs cpu directory
// (cpuN/cpu_capacity) whose capacity equals the largest one, i.e. the
// performance cores of a big.LITTLE system. It returns 0 when no capacity
// is published or every core has the same capacity (no distinction known).
func CountMaxCapacity(sys fs.FS) int {
	entries, err := fs.ReadDir(sys, ".")
	if err != nil {
		return 0
	}
	var caps []int
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "cpu") {
			continue
		}
		if _, err := strconv.Atoi(name[3:]); err != nil {
			continue
		}
		raw, err := fs.ReadFile(sys, name+"/cpu_capacity")
		if err != nil {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			continue
		}
		caps = append(caps, v)
	}
	if len(caps) == 0 {
		return 0
	}
	top, count, distinct := caps[0], 0, false
	for _, c := range caps {
		if c != caps[0] {
			distinct = true
		}
		top = max(top, c)
	}
	if !distinct {
		return 0
	}
	for _, c := range caps {
		if c == top {
			count++
		}
	}
	return count
}
