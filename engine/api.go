package engine

import (
	"context"
	"fmt"

	"wowlab/protocol"
)

// ConfigError reports a config document (or its rotation) the engine cannot
// run. Path is the JSON path of the problem ("player.stats.haste_pct",
// "rotation.actions[3].if"); Msg says what is wrong and, where it can, what
// was meant. A node reports it with /chunks/fail; retrying will not help.
type ConfigError struct {
	Path string
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Path == "" {
		return "config: " + e.Msg
	}
	return fmt.Sprintf("config: %s: %s", e.Path, e.Msg)
}

// EngineError reports a failure while simulating a valid config (an
// iteration that cannot make progress, a numeric blow-up). It is a bug or a
// limit of the engine, never of the caller's input format.
type EngineError struct {
	Iteration int // the 0-based global iteration that failed
	Msg       string
}

func (e *EngineError) Error() string {
	return fmt.Sprintf("engine: iteration %d: %s", e.Iteration, e.Msg)
}

// MaxIterations is the most iterations one call of Sim.Run simulates. Run
// keeps every iteration's DPS (8 bytes each) until it summarises them, so
// the limit caps one call at 400 MB; a larger count is refused with a
// ConfigError instead of being attempted (with or without KeepDps).
const MaxIterations = 50_000_000

// RunOptions tune one call of Sim.Run. The zero value runs on one goroutine.
type RunOptions struct {
	// Threads is the number of goroutines to simulate on; values below 1
	// mean 1. The result does not depend on it.
	Threads int
	// Progress, when set, is called from the running goroutines as
	// iterations finish (after each batch of up to 16, and after the last)
	// with the number finished so far in this call. It must be safe for
	// concurrent use.
	Progress func(done int)
	// KeepDps asks for every iteration's DPS in Result.Dps, in iteration
	// order (tests and percentile reports use it).
	KeepDps bool
	// Breakdown asks for per-ability damage and cast counts in
	// Result.Abilities.
	Breakdown bool
	// Gate, when set, bounds how many of the run's goroutines simulate at
	// once: each holds a slot of it for a batch of iterations. Runs sharing
	// one gate share its slots, so a caller can start each run on as many
	// goroutines as it may ever get cores and let the gate follow the
	// cores it has. The result does not depend on it.
	Gate Gate
}

// Gate hands out slots to simulate in (see RunOptions.Gate). Acquire
// blocks until a slot is free or ctx ends; each successful Acquire is
// followed by one Release.
type Gate interface {
	Acquire(ctx context.Context) error
	Release()
}

// Result summarises a batch of iterations.
type Result struct {
	// Patch is the game version the engine's data describes.
	Patch      string  `json:"patch"`
	Iterations int     `json:"iterations"`
	MeanDps    float64 `json:"meanDps"`
	StdDps     float64 `json:"stdDps"` // sample (n-1) standard deviation
	MinDps     float64 `json:"minDps"`
	MaxDps     float64 `json:"maxDps"`
	// Events is the number of simulation events processed in the batch.
	Events int64 `json:"events"`
	// Dps holds the per-iteration DPS when RunOptions.KeepDps was set.
	Dps []float64 `json:"-"`
	// Abilities holds per-ability totals when RunOptions.Breakdown was set,
	// in the spec's ability order.
	Abilities []AbilityStats `json:"abilities,omitempty"`
}

// AbilityStats are one ability's totals over a batch, with per-iteration means.
type AbilityStats struct {
	Name               string  `json:"name"`
	Actor              string  `json:"actor"`   // "player", "pet" or "guardian"
	SpellID            int     `json:"spellId"` // the game spell of the line's damage, 0 for auto attacks
	Damage             float64 `json:"damage"`
	DamagePerIteration float64 `json:"damagePerIteration"`
	CastsPerIteration  float64 `json:"castsPerIteration"`
	HitsPerIteration   float64 `json:"hitsPerIteration"` // damage events (hits and ticks, every target counted)
	CritRate           float64 `json:"critRate"`         // share of the hits that were critical strikes
	DamageShare        float64 `json:"damageShare"`
}

// Chunk returns the wire form of the result that a node reports.
func (r *Result) Chunk() protocol.ChunkResult {
	return protocol.ChunkResult{
		Iterations: r.Iterations,
		MeanDps:    r.MeanDps,
		StdDps:     r.StdDps,
		MinDps:     r.MinDps,
		MaxDps:     r.MaxDps,
	}
}
