package protocol

import (
	"encoding/json"
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

// chunkResultFields are the JSON names of ChunkResult, all required.
var chunkResultFields = [...]string{"iterations", "meanDps", "stdDps", "minDps", "maxDps"}

// UnmarshalJSON decodes a result and refuses one that lacks a field or
// holds null for it: a result missing a figure would otherwise count as
// zeros and change the job's result. Unknown fields are allowed (PROTOCOL
// section 3: results may carry more fields, never fewer).
func (r *ChunkResult) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	if fields == nil {
		return errors.New("chunk result must be a JSON object")
	}
	for _, name := range chunkResultFields {
		if v, ok := fields[name]; !ok || string(v) == "null" {
			return fmt.Errorf("chunk result lacks %s", name)
		}
	}
	type plain ChunkResult // without this method
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*r = ChunkResult(p)
	return nil
}

// resultTolerance is the relative slack Validate allows for floating-point
// rounding: a mean computed as sum/n may lie an ulp outside [min, max], and
// the standard deviation of identical values may come out a few ulps above
// zero.
const resultTolerance = 1e-9

// Validate reports why a result cannot be accepted for a chunk of the given
// number of iterations, or nil. Besides the count and the ranges it checks
// that the figures can come from that many samples: the mean lies within
// [min, max], and the standard deviation is at most the largest one n
// values in [min, max] with that mean can have (MaxStdDps).
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
	if r.Iterations == 0 {
		return nil
	}
	tol := resultTolerance * r.MaxDps
	switch {
	case r.MinDps > r.MaxDps:
		return fmt.Errorf("minDps %g is above maxDps %g", r.MinDps, r.MaxDps)
	case r.MeanDps < r.MinDps-tol || r.MeanDps > r.MaxDps+tol:
		return errors.New("meanDps must lie between minDps and maxDps")
	}
	if limit := MaxStdDps(r.Iterations, r.MeanDps, r.MinDps, r.MaxDps); r.StdDps > limit+tol {
		return fmt.Errorf("stdDps %g is impossible for %d values between %g and %g with mean %g (at most %g)",
			r.StdDps, r.Iterations, r.MinDps, r.MaxDps, r.MeanDps, limit)
	}
	return nil
}

// MaxStdDps is the largest sample (n-1) standard deviation that n values in
// [lo, hi] with the given mean can have. Two bounds apply and the smaller
// is returned: the variance of values in [lo, hi] with mean m is at most
// (hi-m)(m-lo) (Bhatia and Davis, "A Better Bound on the Variance", The
// American Mathematical Monthly 107(4), 2000); and n values reach their
// largest spread with floor(n/2) of them at lo and the rest at hi, a
// variance of (hi-lo)^2 floor(n/2) ceil(n/2) / n^2. Both are population
// variances; the sample variance is n/(n-1) times that. One value has no
// spread: 0.
func MaxStdDps(n int, mean, lo, hi float64) float64 {
	if n < 2 || hi <= lo {
		return 0
	}
	m := min(max(mean, lo), hi)
	fn := float64(n)
	half := float64(n / 2)
	spread := (hi - lo) * (hi - lo) * half * (fn - half) / (fn * fn)
	variance := min((hi-m)*(m-lo), spread)
	return math.Sqrt(variance * fn / (fn - 1))
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
