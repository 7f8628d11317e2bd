// Package control is a node's local control API, one for node-headless
// (driven by `node-headless ctl`) and node-gui (its dashboard): JSON over
// HTTP on loopback. It reads the node's status, pauses, resumes or
// finishes it, reads and changes its settings, serves its recent log lines
// and a live stream of new ones (server-sent events), and its Prometheus
// metrics.
//
// Every request must come with the API key kept in the node's config
// directory (file control.key, mode 0600), in the X-API-Key header or as
// a bearer token; a browser exchanges the key, or a one-time link, for a
// session cookie (HttpOnly, SameSite=Strict) and sends the session's CSRF
// token in X-CSRF-Token with every request that changes something. The
// Host and Origin of every request are checked, so a web page the user
// visits can neither drive the API nor read it, also through DNS
// rebinding. The address the API listens on is written beside the key
// (control.url), where ctl finds it.
package control

import (
	"errors"
	"fmt"

	"wowlab/node"
	"wowlab/node/policy"
)

// Node is what the API drives: node.Core implements it.
type Node interface {
	State() node.State
	Connection() node.Connection
	Host() node.Host
	Stats() node.Stats
	// Chunks returns the chunks the node holds, queued or running.
	Chunks() []node.ChunkProgress
	// Policy returns the settings and what they decide now.
	Policy() policy.Status
	// Pause stops taking chunks; running ones finish unless now, when
	// they are handed back too.
	Pause(now bool) error
	// Resume ends a Pause.
	Resume() error
	// Finish takes no new chunks, finishes those it holds, then stops.
	Finish() error
	// Unlink is Finish, then forgets the node's identity (key pair and
	// node id) once no result needs it: the next start registers anew.
	Unlink() error
	// RetryNow ends a wait for the sentinel: it is tried again at once.
	RetryNow()
	// UpdateSettings validates, saves and applies changed settings; an
	// invalid one is a *policy.KeyError.
	UpdateSettings(policy.Overrides) error
	// Subscribe returns the node's events until the returned func is called.
	Subscribe(buf int) (<-chan node.Event, func())
}

var _ Node = (*node.Core)(nil)

// Files in the node's config directory.
const (
	KeyFile = "control.key" // the API key, mode 0600
	URLFile = "control.url" // the base URL of the running node's API
)

// ErrNotRunning means no node answers for a config directory.
var ErrNotRunning = errors.New("no node is running")

// ErrUnauthorized means the API refused the key.
var ErrUnauthorized = errors.New("the API key was refused")

// AlreadyRunningError is returned by Listen when a node already serves the
// API for the same config directory.
type AlreadyRunningError struct {
	URL string
}

func (e *AlreadyRunningError) Error() string {
	return fmt.Sprintf("a node is already running with this config directory (its control API is %s)", e.URL)
}
