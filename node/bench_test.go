package node

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"wowlab/engine"
	"wowlab/protocol"
)

// BenchmarkChunkOverhead measures what the node adds to each chunk besides
// the engine run: decoding the assignment, the config cache hit, building
// the engine document, compiling it, and posting the result to a loopback
// sentinel.
func BenchmarkChunkOverhead(b *testing.B) {
	be := newBackend(b)
	go func() {
		for range be.calls {
		}
	}()
	_, config, _ := exampleConfig(b)
	var self map[string]json.RawMessage
	_ = json.Unmarshal(config, &self)
	delete(self, "rotationId")
	raw, _ := json.Marshal(exampleRotationDoc(b, self))
	core, err := New(Options{ConfigDir: b.TempDir(), Overrides: Overrides{APIURL: be.URL(), SentinelURL: be.URL(), AnonKey: testAnonKey},
		Host: Host{Hostname: "bench", TotalCores: 1, EnabledCores: 1, Platform: "linux-x86_64"}})
	if err != nil {
		b.Fatal(err)
	}
	core.cache.SetConfig("h", raw)
	record := json.RawMessage(`{"id":"c1","job_id":"j1","node_id":"` + testNodeID + `","config_hash":"h","iterations":1000,"seed_offset":0,"status":"running"}`)
	res := protocol.ChunkResult{Iterations: 1000, MeanDps: 2, StdDps: 1, MinDps: 1, MaxDps: 3}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		ch, ok, err := parseAssignment(record, testNodeID)
		if !ok || err != nil {
			b.Fatal("assignment not recognised", err)
		}
		doc, err := core.buildConfig(ctx, ch.ConfigHash)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := engine.Compile(doc); err != nil {
			b.Fatal(err)
		}
		if _, err := core.api.Complete(ctx, ch.ID, res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/chunk")
}

// exampleRotationDoc puts the example's rotation back into the config.
func exampleRotationDoc(b *testing.B, doc map[string]json.RawMessage) map[string]json.RawMessage {
	_, _, rot := exampleConfig(b)
	doc["rotation"], _ = json.Marshal(rot.Script)
	return doc
}

// BenchmarkEngineChunk measures the engine's time for one 1000-iteration
// chunk of the bundled BM hunter example on one goroutine, as a worker runs it.
func BenchmarkEngineChunk(b *testing.B) {
	_, config, _ := exampleConfig(b)
	var doc map[string]json.RawMessage
	_ = json.Unmarshal(config, &doc)
	delete(doc, "rotationId")
	raw, _ := json.Marshal(exampleRotationDoc(b, doc))
	sim := newEngineSimulator()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := sim.run(context.Background(), simRun{config: raw, offset: i * protocol.ChunkSize, n: protocol.ChunkSize, threads: 1}); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.ReportMetric(el.Seconds()*1000/float64(b.N), "ms/chunk")
	b.ReportMetric(float64(b.N*protocol.ChunkSize)/el.Seconds(), "iterations/s")
}
