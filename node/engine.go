package node

import (
	"context"

	"wowlab/engine"
	"wowlab/protocol"
)

// simulator runs a chunk's iterations on a config document.
type simulator interface {
	run(ctx context.Context, config []byte, offset, n int, progress func(done int)) (protocol.ChunkResult, error)
}

// engineSimulator is the real engine: compile the document, run the
// iterations on one goroutine (the pool runs one chunk per core).
type engineSimulator struct{}

func (engineSimulator) run(ctx context.Context, config []byte, offset, n int, progress func(done int)) (protocol.ChunkResult, error) {
	sim, err := engine.Compile(config)
	if err != nil {
		return protocol.ChunkResult{}, err
	}
	res, err := sim.Run(ctx, offset, n, engine.RunOptions{Threads: 1, Progress: progress})
	if err != nil {
		return protocol.ChunkResult{}, err
	}
	return res.Chunk(), nil
}
