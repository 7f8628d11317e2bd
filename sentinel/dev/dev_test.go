package dev

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	"wowlab/engine"
	"wowlab/examples"
)

// A dev cluster runs a job on its in-process nodes over real HTTP and
// WebSockets, and the aggregate equals the engine run locally.
func TestClusterRunsJobLikeTheLocalEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Nodes: 2, NodeCores: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := c.DataDir
	defer func() {
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("temporary data directory %s left behind (%v)", dir, err)
		}
	}()
	if len(c.Nodes()) != 2 || c.UserToken == "" || c.AnonKey == "" {
		t.Fatalf("cluster %+v", c)
	}
	token, err := os.ReadFile(c.TokenFile)
	if err != nil || string(token) != c.UserToken+"\n" {
		t.Fatalf("token file: %q %v", token, err)
	}
	cfg, err := examples.FS.ReadFile("bm_hunter.json")
	if err != nil {
		t.Fatal(err)
	}
	const n = 2_500
	var seen []int
	out, err := c.RunJob(ctx, cfg, n, func(done int) { seen = append(seen, done) })
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != "completed" || out.Chunks != 3 || out.Result.TotalIterations != n || out.Result.ChunksCompleted != 3 {
		t.Fatalf("outcome %+v", out)
	}
	if len(seen) == 0 || seen[len(seen)-1] != n {
		t.Errorf("progress %v", seen)
	}
	sim, err := engine.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	local, err := sim.Run(ctx, 0, n, engine.RunOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Result
	rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Abs(b) }
	if r.MinDps != local.MinDps || r.MaxDps != local.MaxDps || rel(r.MeanDps, local.MeanDps) > 1e-9 || rel(r.StdDps, local.StdDps) > 1e-9 {
		t.Errorf("distributed %+v, local %+v", r, local.Chunk())
	}
}

func TestStartRefusesBadOptions(t *testing.T) {
	if _, err := Start(context.Background(), Options{Nodes: 65}); err == nil {
		t.Error("65 nodes accepted")
	}
	if _, err := Start(context.Background(), Options{Listen: "256.0.0.1:1"}); err == nil {
		t.Error("a bad listen address accepted")
	}
}
