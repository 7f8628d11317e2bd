package protocol

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
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
	bad := []struct {
		r    ChunkResult
		want string
	}{
		{ChunkResult{Iterations: 9, MeanDps: 5, MinDps: 3, MaxDps: 7}, "the chunk has 10"},
		{ChunkResult{Iterations: -1}, "negative"},
		{ChunkResult{Iterations: 10, MeanDps: math.NaN(), MinDps: 3, MaxDps: 7}, "finite"},
		{ChunkResult{Iterations: 10, MeanDps: 5, StdDps: math.Inf(1), MinDps: 3, MaxDps: 7}, "finite"},
		{ChunkResult{Iterations: 10, MeanDps: 5, StdDps: -1, MinDps: 3, MaxDps: 7}, "between 0 and"},
		{ChunkResult{Iterations: 10, MeanDps: 9, MinDps: 3, MaxDps: 7}, "meanDps must lie"},
		{ChunkResult{Iterations: 10, MeanDps: 5, MinDps: -3, MaxDps: 7}, "between 0 and"},
		{ChunkResult{Iterations: 10, MeanDps: 5, MinDps: 3, MaxDps: 2 * MaxDps}, "between 0 and"},
		{ChunkResult{Iterations: 10, MeanDps: 5, StdDps: 1e300, MinDps: 3, MaxDps: 7}, "between 0 and"},
		{ChunkResult{Iterations: 10, MeanDps: 5, MinDps: 7, MaxDps: 3}, "above maxDps"},
		// The attack run's forgery: a huge spread where every value is equal.
		{ChunkResult{Iterations: 1000, MeanDps: 100, StdDps: 1e12, MinDps: 100, MaxDps: 100}, "impossible"},
		{ChunkResult{Iterations: 1000, MeanDps: 100, StdDps: 0.001, MinDps: 100, MaxDps: 100}, "impossible"},
		// Values in [3, 7] spread at most 2 around their mean (about 2.0010 as a sample std of 1000).
		{ChunkResult{Iterations: 1000, MeanDps: 5, StdDps: 2.01, MinDps: 3, MaxDps: 7}, "impossible"},
		// With the mean near an end, most values sit there: less spread.
		{ChunkResult{Iterations: 1000, MeanDps: 3.1, StdDps: 1, MinDps: 3, MaxDps: 7}, "impossible"},
		// One value has no spread.
		{ChunkResult{Iterations: 1, MeanDps: 5, StdDps: 1, MinDps: 5, MaxDps: 5}, "impossible"},
	}
	for _, c := range bad {
		err := c.r.Validate(c.r.Iterations)
		if c.r.Iterations == 9 {
			err = c.r.Validate(10)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.r, err, c.want)
		}
	}
}

// Every result computed from real samples is accepted, including the
// extreme ones: identical values, two-point spreads at the bound, values
// whose mean rounds outside [min, max].
func TestChunkResultValidateAcceptsReal(t *testing.T) {
	sets := map[string][]float64{
		"one":            {42},
		"identical":      {0.1, 0.1, 0.1},
		"identical many": slices.Repeat([]float64{123456.789}, 1000),
		"two points":     {3, 7},
		"half and half":  append(slices.Repeat([]float64{3}, 500), slices.Repeat([]float64{7}, 500)...),
		"odd split":      append(slices.Repeat([]float64{3}, 2), slices.Repeat([]float64{7}, 3)...),
		"one outlier":    append(slices.Repeat([]float64{3}, 999), 7),
		"zeros":          {0, 0, 0, 0},
		"at MaxDps":      {MaxDps, 0, MaxDps},
	}
	v := 1000.0
	spread := make([]float64, 1000)
	for i := range spread {
		v = math.Mod(v*1.37+12345.678, 250000) + 50000
		spread[i] = v
	}
	sets["fight-like"] = spread
	for name, xs := range sets {
		r := summarize(xs)
		if err := r.Validate(len(xs)); err != nil {
			t.Errorf("%s: %+v refused: %v", name, r, err)
		}
	}
}

// A result lacking a field does not decode: it would count as zeros.
func TestChunkResultDecodeNeedsEveryField(t *testing.T) {
	full := `{"iterations":1000,"meanDps":100,"stdDps":1,"minDps":98,"maxDps":102}`
	var r ChunkResult
	if err := json.Unmarshal([]byte(full), &r); err != nil || r != (ChunkResult{1000, 100, 1, 98, 102}) {
		t.Fatalf("%+v %v", r, err)
	}
	if err := json.Unmarshal([]byte(`{"iterations":1000,"meanDps":100,"stdDps":1,"minDps":98,"maxDps":102,"engine":"x"}`), &r); err != nil {
		t.Fatalf("extra field refused: %v", err)
	}
	for _, body := range []string{
		`{"iterations":1000}`,
		`{"iterations":1000,"meanDps":100,"stdDps":1,"minDps":98}`,
		`{"iterations":1000,"meanDps":100,"stdDps":null,"minDps":98,"maxDps":102}`,
		`{}`,
		`null`,
		`[]`,
		`{"iterations":"1000","meanDps":100,"stdDps":1,"minDps":98,"maxDps":102}`,
	} {
		var r ChunkResult
		if err := json.Unmarshal([]byte(body), &r); err == nil {
			t.Errorf("%s decoded as %+v", body, r)
		}
	}
	// Inside a completion too.
	var req CompleteRequest
	err := json.Unmarshal([]byte(`{"chunkId":"c","result":{"iterations":1000}}`), &req)
	if err == nil || !strings.Contains(err.Error(), "lacks meanDps") {
		t.Fatalf("completion with a bare result: %v", err)
	}
}
