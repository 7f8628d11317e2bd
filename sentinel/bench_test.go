package sentinel

import (
	"context"
	"testing"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// BenchmarkAssign measures the assignment path with 100 online nodes: each
// iteration creates 400 chunks and schedules them all.
func BenchmarkAssign(b *testing.B) {
	e := newEnv(b)
	u, _ := e.user("bench")
	for range 100 {
		e.onlineNode(u.ID, 4, 4)
	}
	ctx := context.Background()
	assigned := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if _, err := e.pool.Exec(ctx, "UPDATE jobs_chunks SET status = 'completed' WHERE status = 'running'"); err != nil {
			b.Fatal(err)
		}
		e.job(u.ID, 400_000, AccessPrivate)
		b.StartTimer()
		assigned += e.schedule()
	}
	b.ReportMetric(float64(assigned)/b.Elapsed().Seconds(), "chunks/s")
}

// BenchmarkComplete measures completion handling through the service.
func BenchmarkComplete(b *testing.B) {
	e := newEnv(b)
	u, _ := e.user("bench")
	n := e.onlineNode(u.ID, 1024, 1024)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		j := e.job(u.ID, 1000, AccessPrivate)
		e.schedule()
		c := e.chunkOn(j.JobID, n.id)
		b.StartTimer()
		if _, err := e.svc.CompleteChunk(ctx, n.pub, completeReq(c.ID, c.Iterations)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "completions/s")
}

// BenchmarkCompleteLargeJob measures completions of the chunks of one
// 1 000-chunk job, the common case when many nodes share a big job: each
// completion locks the job and checks whether it was the last.
func BenchmarkCompleteLargeJob(b *testing.B) {
	e := newEnv(b)
	u, _ := e.user("bench")
	n := e.onlineNode(u.ID, 1024, 1024)
	ctx := context.Background()
	var running []store.Chunk
	b.ResetTimer()
	for range b.N {
		if len(running) == 0 {
			b.StopTimer()
			j := e.job(u.ID, 1000*protocol.ChunkSize, AccessPrivate)
			for e.schedule() > 0 {
			}
			for _, c := range e.chunks(j.JobID) {
				if c.NodeID == n.id && c.Status == protocol.StatusRunning {
					running = append(running, c)
				}
			}
			b.StartTimer()
		}
		c := running[0]
		running = running[1:]
		if _, err := e.svc.CompleteChunk(ctx, n.pub, completeReq(c.ID, c.Iterations)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "completions/s")
}

// BenchmarkCompleteBatch writes completions as group commit does under
// load: batches of maxCommitBatch chunks of one job in one transaction.
func BenchmarkCompleteBatch(b *testing.B) {
	e := newEnv(b)
	u, _ := e.user("bench")
	n := e.onlineNode(u.ID, 2*maxCommitBatch, 2*maxCommitBatch)
	ctx := context.Background()
	var running []store.Chunk
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if len(running) < maxCommitBatch {
			j := e.job(u.ID, 2*maxCommitBatch*protocol.ChunkSize, AccessPrivate)
			running = running[:0]
			for e.schedule() > 0 {
			}
			for _, c := range e.chunks(j.JobID) {
				if c.NodeID == n.id && c.Status == protocol.StatusRunning {
					running = append(running, c)
				}
			}
		}
		batch := make([]store.Completion, maxCommitBatch)
		for i, c := range running[:maxCommitBatch] {
			batch[i] = store.Completion{ChunkID: c.ID, NodeID: n.id, Result: completeReq(c.ID, c.Iterations).Result, Now: e.clock.Now()}
		}
		running = running[maxCommitBatch:]
		b.StartTimer()
		outs, err := e.svc.completions.write(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for i, o := range outs {
			if !o.Applied {
				b.Fatalf("completion %d not applied: %+v", i, o)
			}
		}
	}
	b.ReportMetric(float64(b.N*maxCommitBatch)/b.Elapsed().Seconds(), "completions/s")
}
