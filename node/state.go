package node

import (
	"fmt"
	"time"

	"wowlab/node/policy"
	"wowlab/protocol"
)

// Phase is where the node is in its lifecycle (PROTOCOL section 7).
type Phase int

// Phases.
const (
	Verifying   Phase = iota + 1 // checking a saved node id
	Registering                  // announcing the key to get an id
	Claiming                     // waiting for a user to enter the claim code
	Running                      // claimed, taking work
	Unavailable                  // the backend cannot be reached; retrying
	Paused                       // claimed, taking no work: State.Reason says why
	Finishing                    // claimed, finishing the chunks it holds, then stopping
	Finished                     // stopped after Finish; Run returned
)

// claimed reports whether a node in phase p is claimed and linked to the
// sentinel: running, paused or finishing.
func (p Phase) claimed() bool { return p == Running || p == Paused || p == Finishing }

func (p Phase) String() string {
	switch p {
	case Verifying:
		return "verifying"
	case Registering:
		return "registering"
	case Claiming:
		return "claiming"
	case Running:
		return "running"
	case Unavailable:
		return "unavailable"
	case Paused:
		return "paused"
	case Finishing:
		return "finishing"
	case Finished:
		return "finished"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// State is the node's lifecycle state with what belongs to it.
type State struct {
	Phase     Phase
	NodeID    string        // known from Claiming on
	ClaimCode string        // set while Claiming
	ClaimURL  string        // the sentinel's claim page for ClaimCode, when it publishes one
	Name      string        // node name, once claimed
	Reason    policy.Rule   // why, while Paused: user, schedule, busy, battery, temperature, in-use
	RetryIn   time.Duration // set while Unavailable
	Err       string        // why, while Unavailable; when Finished, why Unlink did not unlink
	Unlinked  bool          // Finished after Unlink: the identity is forgotten
}

func (s State) String() string {
	switch s.Phase {
	case Claiming:
		return fmt.Sprintf("claiming (code %s)", s.ClaimCode)
	case Unavailable:
		return fmt.Sprintf("unavailable, retrying in %s: %s", s.RetryIn, s.Err)
	case Paused:
		return fmt.Sprintf("paused (%s)", s.Reason.Label())
	case Finished:
		switch {
		case s.Unlinked:
			return "finished and unlinked (the next start registers a new node)"
		case s.Err != "":
			return "finished; " + s.Err
		}
	}
	return s.Phase.String()
}

// Connection is the state of the realtime link.
type Connection int

// Connection states.
const (
	Disconnected Connection = iota
	Connecting
	Connected
)

func (c Connection) String() string {
	switch c {
	case Disconnected:
		return "disconnected"
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	}
	return fmt.Sprintf("Connection(%d)", int(c))
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	StateChanged      EventKind = iota + 1 // Event.State
	ConnectionChanged                      // Event.Connection
	Claimed                                // Event.State holds the node id and name
	ChunkAssigned                          // Event.Chunk
	ChunkCompleted                         // Event.Chunk, Event.Result: the sentinel took the result
	ChunkFailed                            // Event.Chunk, Event.Err: not run, or its result refused
	ChunkReleased                          // Event.Chunk (handed back at a pause or at shutdown)
	Error                                  // Event.Err: something went wrong that the node recovers from
)

func (k EventKind) String() string {
	names := [...]string{"", "state changed", "connection changed", "claimed", "chunk assigned",
		"chunk completed", "chunk failed", "chunk released", "error"}
	if int(k) > 0 && int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one thing that happened in the core.
type Event struct {
	Kind       EventKind
	Time       time.Time
	State      State
	Connection Connection
	Chunk      Chunk
	Result     protocol.ChunkResult
	Err        error
}
