//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package priority

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Lower sets the process's priority to l unless it is already as low. On
// these systems the nice value belongs to the whole process.
func Lower(l Level) error {
	if l == Normal {
		return nil
	}
	want := l.niceness()
	if cur, err := unix.Getpriority(unix.PRIO_PROCESS, 0); err == nil && cur >= want {
		return nil
	}
	if err := unix.Setpriority(unix.PRIO_PROCESS, 0, want); err != nil {
		return fmt.Errorf("lower process priority: %w", err)
	}
	return nil
}
