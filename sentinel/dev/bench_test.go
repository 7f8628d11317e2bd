package dev

import (
	"context"
	"testing"
	"time"

	"wowlab/engine"
	"wowlab/examples"
)

// BenchmarkThroughput compares the distributed path (a dev cluster with
// one node of two workers) with the engine run locally on two threads,
// over the same BM job. Run with -benchtime 1x; the job size is fixed:
//
//	go test ./sentinel/dev -run XXX -bench Throughput -benchtime 1x
func BenchmarkThroughput(b *testing.B) {
	const iterations = 200_000
	ctx := context.Background()
	cfg, err := examples.FS.ReadFile("bm_hunter.json")
	if err != nil {
		b.Fatal(err)
	}
	c, err := Start(ctx, Options{Nodes: 1, NodeCores: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	sim, err := engine.Compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var local, distributed time.Duration
	runLocal := func() time.Duration {
		start := time.Now()
		if _, err := sim.Run(ctx, 0, iterations, engine.RunOptions{Threads: 2}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for b.Loop() {
		// The machine's speed drifts; measuring the local run before and
		// after the distributed one and averaging keeps the ratio fair.
		local += runLocal() / 2
		out, err := c.RunJob(ctx, cfg, iterations, nil)
		if err != nil || out.Status != "completed" {
			b.Fatalf("job %+v: %v", out, err)
		}
		distributed += out.Wall
		local += runLocal() / 2
	}
	n := float64(b.N * iterations)
	b.ReportMetric(n/local.Seconds(), "local-iterations/s")
	b.ReportMetric(n/distributed.Seconds(), "distributed-iterations/s")
	b.ReportMetric(local.Seconds()/distributed.Seconds(), "distributed/local")
}
