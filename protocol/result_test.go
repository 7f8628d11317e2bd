package protocol

import (
	"math"
	"testing"
)

func summarize(xs []float64) ChunkResult {
	r := ChunkResult{Iterations: len(xs), MinDps: math.Inf(1), MaxDps: math.Inf(-1)}
	for _, x := range xs {
		r.MeanDps += x
		r.MinDps = math.Min(r.MinDps, x)
		r.MaxDps = math.Max(r.MaxDps, x)
	}
	r.MeanDps /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - r.MeanDps) * (x - r.MeanDps)
	}
	if len(xs) > 1 {
		r.StdDps = math.Sqrt(ss / float64(len(xs)-1))
	}
	return r
}

func TestSummaryEqualsDirect(t *testing.T) {
	var all []float64
	var s Summary
	sizes := []int{1000, 1000, 7, 1, 500}
	v := 100000.0
	for _, n := range sizes {
		chunk := make([]float64, n)
		for i := range chunk {
			v = math.Mod(v*1.37+12345.678, 250000) + 50000
			chunk[i] = v
		}
		all = append(all, chunk...)
		s.Add(summarize(chunk))
	}
	got, want := s.Result(), summarize(all)
	rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Abs(b) }
	if got.TotalIterations != len(all) || got.ChunksCompleted != len(sizes) {
		t.Fatalf("counts %+v", got)
	}
	if got.MinDps != want.MinDps || got.MaxDps != want.MaxDps {
		t.Errorf("min/max %v %v, want %v %v", got.MinDps, got.MaxDps, want.MinDps, want.MaxDps)
	}
	if rel(got.MeanDps, want.MeanDps) > 1e-9 || rel(got.StdDps, want.StdDps) > 1e-9 {
		t.Errorf("mean/std %v %v, want %v %v", got.MeanDps, got.StdDps, want.MeanDps, want.StdDps)
	}
}

func TestChunkResultValidate(t *testing.T) {
	ok := ChunkResult{Iterations: 10, MeanDps: 5, StdDps: 1, MinDps: 3, MaxDps: 7}
	if err := ok.Validate(10); err != nil {
		t.Fatal(err)
	}
	bad := []ChunkResult{
		{Iterations: 9, MeanDps: 5, MinDps: 3, MaxDps: 7},
		{Iterations: -1},
		{Iterations: 10, MeanDps: math.NaN(), MinDps: 3, MaxDps: 7},
		{Iterations: 10, MeanDps: 5, StdDps: math.Inf(1), MinDps: 3, MaxDps: 7},
		{Iterations: 10, MeanDps: 5, StdDps: -1, MinDps: 3, MaxDps: 7},
		{Iterations: 10, MeanDps: 9, MinDps: 3, MaxDps: 7},
		{Iterations: 10, MeanDps: 5, MinDps: -3, MaxDps: 7},
		{Iterations: 10, MeanDps: 5, MinDps: 3, MaxDps: 2 * MaxDps},
		{Iterations: 10, MeanDps: 5, StdDps: 1e300, MinDps: 3, MaxDps: 7},
	}
	for _, r := range bad {
		if err := r.Validate(10); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
}
