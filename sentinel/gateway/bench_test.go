package gateway

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// BenchmarkFanout holds 1000 Realtime sockets on loopback, each bound to
// its node's chunks (jobs_chunks node_id=eq.<id>), and per iteration
// commits one statement changing every node's chunk. It reports the
// fan-out latency from the commit's acknowledgement to each socket's frame
// (p50, p99, max) and the memory (heap and stacks) held per socket. The
// clients run in the same process, so mem-B/socket covers both ends of
// each connection: an upper bound of the sentinel's share.
func BenchmarkFanout(b *testing.B) {
	const sockets = 1000
	e := newEnv(b, Limits{})
	ctx := context.Background()
	userID, _ := e.user("bench")
	nodes := make([]string, sockets)
	for i := range nodes {
		nodes[i] = uuid.NewString()
	}
	e.exec(`INSERT INTO nodes (id, user_id, status, public_key, last_seen_at) SELECT id, $1, 'online', id::text, now() FROM unnest($2::uuid[]) AS id`, userID, nodes)
	e.exec(`INSERT INTO jobs_configs (hash, config) VALUES ('bench', '{}')`)
	jobID := uuid.NewString()
	e.exec(`INSERT INTO jobs (id, user_id, config_hash, total_iterations, status) VALUES ($1, $2, 'bench', $3, 'running')`, jobID, userID, sockets*1000)
	e.exec(`INSERT INTO jobs_chunks (job_id, node_id, config_hash, iterations, seed_offset, status, claimed_at)
		SELECT $1, id, 'bench', 1000, (ord - 1) * 1000, 'running', now() FROM unnest($2::uuid[]) WITH ORDINALITY AS u(id, ord)`, jobID, nodes)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var mu sync.Mutex
	var t0 time.Time
	var lat []time.Duration
	got := make(chan struct{}, sockets)
	conns := make([]*websocket.Conn, sockets)
	url := strings.Replace(e.a.srv.URL, "http://", "ws://", 1) + "/realtime/v1/websocket?vsn=2.0.0&apikey=" + e.anon
	for i, id := range nodes {
		// A lean client: the test helper's buffers would dwarf the server's.
		conn, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = conn
		tok := nodeToken(b, testSecret, id, time.Hour)
		join := `["1","1","realtime:chunks:` + id + `","phx_join",{"config":{"postgres_changes":[{"event":"*","schema":"public","table":"jobs_chunks","filter":"node_id=eq.` + id + `"}]},"access_token":"` + tok + `"}]`
		if err := conn.Write(ctx, websocket.MessageText, []byte(join)); err != nil {
			b.Fatal(err)
		}
		if _, reply, err := conn.Read(ctx); err != nil || !strings.Contains(string(reply), `"status":"ok"`) {
			b.Fatalf("join %d: %s %v", i, reply, err)
		}
		go func() {
			for {
				_, data, err := conn.Read(context.Background())
				if err != nil {
					return
				}
				if !strings.Contains(string(data[:min(len(data), 128)]), `,"postgres_changes",`) {
					continue
				}
				mu.Lock()
				lat = append(lat, max(time.Since(t0), 0))
				mu.Unlock()
				got <- struct{}{}
			}
		}()
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perSocket := float64(after.HeapInuse+after.StackInuse-before.HeapInuse-before.StackInuse) / sockets

	b.ResetTimer()
	for b.Loop() {
		tx, err := e.pool.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE jobs_chunks SET attempts = attempts + 1 WHERE job_id = $1`, jobID); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		t0 = time.Now()
		mu.Unlock()
		timeout := time.After(60 * time.Second)
		for range sockets {
			select {
			case <-got:
			case <-timeout:
				b.Fatal("not every socket got its change within 60s")
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(perSocket, "mem-B/socket")
	b.ReportMetric(float64(sockets), "sockets")
	if n := e.a.gw.hub.socketCount(); n != sockets {
		b.Fatalf("%d sockets open, want %d", n, sockets)
	}
	for _, c := range conns {
		_ = c.CloseNow()
	}
}
