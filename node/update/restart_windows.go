//go:build windows

package update

// Restart cannot replace a process in place on Windows: it returns
// ErrRestartByExit, and the caller exits with ExitRestart for the service
// manager (or whoever started it) to start the new binary.
func Restart(string) error { return ErrRestartByExit }
