//go:build unix

package update

import (
	"fmt"
	"os"
	"syscall"
)

// Restart replaces this process by the binary at path with the same
// arguments and environment (exec: same PID, so a service manager keeps
// tracking it). It returns only on failure.
func Restart(path string) error {
	if err := syscall.Exec(path, os.Args, os.Environ()); err != nil {
		return fmt.Errorf("restart as %s: %w", path, err)
	}
	return nil
}
