//go:build !darwin

package cpuinfo

// perfLevel0 is only known on macOS.
func perfLevel0() int { return 0 }
