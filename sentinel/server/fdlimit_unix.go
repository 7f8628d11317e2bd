//go:build unix

package server

import (
	"errors"
	"syscall"
)

// isTooManyFiles reports whether accept failed because the process is out
// of file descriptors.
func isTooManyFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// openFileLimit returns the process's limit on open files.
func openFileLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}
