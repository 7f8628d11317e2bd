package node

import "time"

// ChunkProgress is a chunk the node holds and how far it got: queued for
// a worker, or running.
type ChunkProgress struct {
	Chunk   Chunk
	Running bool      // a worker simulates it
	Started time.Time // when it started running; zero while queued
	Done    int       // iterations simulated so far
}
