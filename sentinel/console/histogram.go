package console

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// histogram is the distribution of a job's chunk means, drawn as SVG bars
// in a 600x160 view box.
type histogram struct {
	Bars     []bar
	Min, Max float64
	Chunks   int
	// Smallest and Largest are the iterations of the smallest and largest
	// chunk: nodes are given chunks sized to them.
	Smallest, Largest int
}

type bar struct {
	X, Y, W, H float64
	Count      int
	From, To   float64
}

// histogramBins is how many bars a histogram has at most.
const histogramBins = 16

// minHistogramChunks is the fewest chunks a histogram is drawn for.
const minHistogramChunks = 8

// chunkHistogram reads the completed chunks of a job of the user and bins
// their mean DPS; nil with fewer than minHistogramChunks.
func (c *Console) chunkHistogram(r *http.Request, jobID string) (*histogram, error) {
	raw, err := c.store.Select(r.Context(), store.Query{Table: "jobs_chunks", Columns: []string{"result"}, Limit: store.MaxRows,
		Access: store.Access{Role: store.AccessUser, UserID: sessionOf(r).user.ID},
		Filters: []store.Filter{{Column: "job_id", Op: store.OpEq, Values: []string{jobID}},
			{Column: "status", Op: store.OpEq, Values: []string{protocol.StatusCompleted}}}})
	if err != nil {
		return nil, fmt.Errorf("read chunks: %w", err)
	}
	var rows []struct {
		Result *protocol.ChunkResult `json:"result"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("read chunks: %w", err)
	}
	var means []float64
	smallest, largest := 0, 0
	for _, row := range rows {
		if row.Result != nil {
			means = append(means, row.Result.MeanDps)
			if n := row.Result.Iterations; smallest == 0 || n < smallest {
				smallest = n
			}
			largest = max(largest, row.Result.Iterations)
		}
	}
	h := binMeans(means)
	if h != nil {
		h.Smallest, h.Largest = smallest, largest
	}
	return h, nil
}

// binMeans bins values into at most histogramBins bars; nil with fewer
// than minHistogramChunks values.
func binMeans(values []float64) *histogram {
	if len(values) < minHistogramChunks {
		return nil
	}
	h := &histogram{Min: math.Inf(1), Max: math.Inf(-1), Chunks: len(values)}
	for _, v := range values {
		h.Min, h.Max = math.Min(h.Min, v), math.Max(h.Max, v)
	}
	n := min(histogramBins, len(values))
	width := (h.Max - h.Min) / float64(n)
	counts := make([]int, n)
	for _, v := range values {
		i := n - 1
		if width > 0 {
			i = min(int((v-h.Min)/width), n-1)
		}
		counts[i]++
	}
	most := 0
	for _, k := range counts {
		most = max(most, k)
	}
	const viewW, viewH = 600.0, 160.0
	bw := viewW / float64(n)
	for i, k := range counts {
		bh := viewH * float64(k) / float64(most)
		h.Bars = append(h.Bars, bar{X: float64(i)*bw + 1, Y: viewH - bh, W: bw - 2, H: bh, Count: k,
			From: h.Min + float64(i)*width, To: h.Min + float64(i+1)*width})
	}
	return h
}
