package protocol

import (
	"errors"
	"fmt"
	"math"
)

// ChunkResult is what a node reports for one chunk: the count and summary
// statistics of its per-iteration DPS. StdDps is the sample (n-1) standard
// deviation.
type ChunkResult struct {
	Iterations int     `json:"iterations"`
	MeanDps    float64 `json:"meanDps"`
	StdDps     float64 `json:"stdDps"`
	MinDps     float64 `json:"minDps"`
	MaxDps     float64 `json:"maxDps"`
}

// MaxDps bounds every DPS figure of a result. Damage is never negative,
// and real fights stay far below a trillion per second (tens of thousands
// to a few million); the bound keeps the sums of squares that merging
// results computes finite, so no result can make a job's aggregate
// infinite.
const MaxDps = 1e12

// Validate reports why a result cannot be accepted for a chunk of the given
// number of iterations, or nil.
func (r ChunkResult) Validate(iterations int) error {
	if r.Iterations < 0 {
		return errors.New("iterations must not be negative")
	}
	if r.Iterations != iterations {
		return fmt.Errorf("result has %d iterations, the chunk has %d", r.Iterations, iterations)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"meanDps", r.MeanDps}, {"stdDps", r.StdDps}, {"minDps", r.MinDps}, {"maxDps", r.MaxDps}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s must be a finite number", f.name)
		}
		if f.v < 0 || f.v > MaxDps {
			return fmt.Errorf("%s must be between 0 and %g, got %g", f.name, float64(MaxDps), f.v)
		}
	}
	if r.Iterations > 0 && (r.MinDps > r.MeanDps || r.MeanDps > r.MaxDps) {
		return errors.New("meanDps must lie between minDps and maxDps")
	}
	return nil
}

// JobResult is the aggregated result stored in jobs.result (PROTOCOL section 8).
type JobResult struct {
	MeanDps         float64 `json:"meanDps"`
	StdDps          float64 `json:"stdDps"`
	MinDps          float64 `json:"minDps"`
	MaxDps          float64 `json:"maxDps"`
	TotalIterations int     `json:"totalIterations"`
	ChunksCompleted int     `json:"chunksCompleted"`
}

// Summary accumulates chunk results exactly: counts summed, min of mins, max
// of maxes, means weighted by count and variances pooled with the
// parallel-variance formula. The zero value is an empty summary.
type Summary struct {
	n        int
	chunks   int
	mean, m2 float64
	min, max float64
}

// Add merges one chunk's result into the summary. Chunks with zero
// iterations count as chunks but carry no statistics.
func (s *Summary) Add(r ChunkResult) {
	s.chunks++
	if r.Iterations == 0 {
		return
	}
	nb := float64(r.Iterations)
	m2b := r.StdDps * r.StdDps * (nb - 1)
	if s.n == 0 {
		s.n, s.mean, s.m2, s.min, s.max = r.Iterations, r.MeanDps, m2b, r.MinDps, r.MaxDps
		return
	}
	na := float64(s.n)
	n := na + nb
	delta := r.MeanDps - s.mean
	s.mean += delta * nb / n
	s.m2 += m2b + delta*delta*na*nb/n
	s.n += r.Iterations
	s.min = math.Min(s.min, r.MinDps)
	s.max = math.Max(s.max, r.MaxDps)
}

// Result returns the aggregate of everything added so far.
func (s *Summary) Result() JobResult {
	r := JobResult{
		MeanDps: s.mean, MinDps: s.min, MaxDps: s.max,
		TotalIterations: s.n, ChunksCompleted: s.chunks,
	}
	if s.n > 1 {
		r.StdDps = math.Sqrt(s.m2 / float64(s.n-1))
	}
	return r
}
