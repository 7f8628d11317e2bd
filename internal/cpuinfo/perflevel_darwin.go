package cpuinfo

import "golang.org/x/sys/unix"

// perfLevel0 returns the number of performance cores of an Apple silicon
// Mac (sysctl hw.perflevel0.physicalcpu), or 0 when the key is missing.
func perfLevel0() int {
	n, err := unix.SysctlUint32("hw.perflevel0.physicalcpu")
	if err != nil {
		return 0
	}
	return int(n)
}
