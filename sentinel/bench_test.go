package sentinel

import (
	"context"
	"testing"
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
