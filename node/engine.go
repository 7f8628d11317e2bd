package node

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/maypok86/otter/v2"

	"wowlab/engine"
	"wowlab/protocol"
)

// simulator runs a chunk's iterations on a config document.
type simulator interface {
	run(ctx context.Context, r simRun) (protocol.ChunkResult, error)
}

// simRun is one chunk's run: iterations [offset, offset+n) of the config,
// on threads goroutines that simulate while they hold a slot of gate, with
// progress called as iterations finish (see engine.RunOptions).
type simRun struct {
	config    []byte
	offset, n int
	threads   int
	gate      engine.Gate
	progress  func(done int)
}

// engineSimulator is the real engine. It keeps the last few compiled
// configs, keyed by the document's hash: the chunks of one job share a
// document, so each job is compiled once per node, and the compiled value's
// fight states stay warm from chunk to chunk. The engine's results do not
// depend on that reuse.
type engineSimulator struct {
	compiled *otter.Cache[[sha256.Size]byte, *engine.Sim]
}

func newEngineSimulator() *engineSimulator {
	return &engineSimulator{compiled: otter.Must(&otter.Options[[sha256.Size]byte, *engine.Sim]{
		MaximumSize:      32,
		ExpiryCalculator: otter.ExpiryAccessing[[sha256.Size]byte, *engine.Sim](time.Hour),
	})}
}

// run compiles the document (or reuses its compiled value) and runs the
// iterations on the engine's batch runner (iteration g runs with seed
// offset+g whatever the threads, so the result is the same).
func (e *engineSimulator) run(ctx context.Context, r simRun) (protocol.ChunkResult, error) {
	key := sha256.Sum256(r.config)
	sim, ok := e.compiled.GetIfPresent(key)
	if !ok {
		var err error
		if sim, err = engine.Compile(r.config); err != nil {
			return protocol.ChunkResult{}, err
		}
		e.compiled.Set(key, sim)
	}
	res, err := sim.Run(ctx, r.offset, r.n, engine.RunOptions{Threads: r.threads, Gate: r.gate, Progress: r.progress})
	if err != nil {
		return protocol.ChunkResult{}, err
	}
	return res.Chunk(), nil
}
