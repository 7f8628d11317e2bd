// Package filelock takes an exclusive, advisory lock on a file that the
// operating system releases when the process ends, however it ends: a
// guard against two processes using one resource (a SQLite store's
// directory) at once.
package filelock

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked means another holder has the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is a held lock.
type Lock struct {
	f *os.File
}

// Acquire creates path if needed and locks it without waiting; ErrLocked
// (wrapped) when another open of the file holds it, in this process or
// another.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release unlocks and closes the file; the file stays.
func (l *Lock) Release() error {
	err := unlock(l.f)
	return errors.Join(err, l.f.Close())
}
