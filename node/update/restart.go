package update

import "errors"

// ExitRestart is the exit status of a node that installed an update and
// wants to be started again: where a process cannot replace itself
// (Windows), or when a service manager should do the restart. The service
// units written by node-headless restart on it.
const ExitRestart = 3

// ErrRestartByExit is returned by Restart where the process cannot be
// replaced in place: the caller exits with ExitRestart after draining.
var ErrRestartByExit = errors.New("restart by exiting with status 3")
