package sqlite_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wowlab/examples"
	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/sentinel/store"
	"wowlab/sentinel/store/sqlite"
)

// clock is a clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) step() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// node speaks the signed node API to a service on loopback.
type node struct {
	t     *testing.T
	srv   *httptest.Server
	clock *clock
	key   ed25519.PrivateKey
}

// call posts a signed request and decodes a 200 answer into out.
func (n *node) call(path string, body, out any) {
	n.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		n.t.Fatal(err)
	}
	// Identical requests in one second would be refused as replays.
	h := protocol.Sign(n.key, n.clock.step().Unix(), "POST", path, raw)
	req, err := http.NewRequest("POST", n.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(protocol.HeaderKey, h.Key)
	req.Header.Set(protocol.HeaderTimestamp, h.Timestamp)
	req.Header.Set(protocol.HeaderSignature, h.Signature)
	resp, err := n.srv.Client().Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		n.t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		n.t.Fatalf("%s: decode %s: %v", path, b, err)
	}
}

// TestServiceOnSQLite drives the unchanged sentinel service on the SQLite
// store: register, claim, heartbeat, create a job, let the running service
// schedule it from the store's feed, complete every chunk over signed HTTP
// and read the aggregated job.
func TestServiceOnSQLite(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sentinel.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	svc, err := sentinel.New(sentinel.Config{Store: st, JWTSecret: []byte("0123456789abcdef0123456789abcdef"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	sub := st.Subscribe(1024)
	defer sub.Close()

	user, _, err := svc.AddUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, srv: srv, clock: clk, key: key}
	reg := protocol.RegisterRequest{Hostname: "h", TotalCores: 4, EnabledCores: 4, Platform: "linux-x86_64", Version: "1.0.0"}
	var first, again protocol.RegisterResponse
	n.call(protocol.PathRegister, reg, &first)
	n.call(protocol.PathRegister, reg, &again)
	if first.ID == "" || again.ID != first.ID || first.Claimed {
		t.Fatalf("registrations %+v then %+v", first, again)
	}
	mp := 2
	if _, err := svc.ClaimNode(ctx, sentinel.ClaimRequest{UserID: user.ID, Code: first.ClaimCode, MaxParallel: &mp}); err != nil {
		t.Fatal(err)
	}
	var info protocol.NodeInfo
	n.call(protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: protocol.NodeOnline}, &info)
	if info.ID != first.ID || info.Status != protocol.NodeOnline {
		t.Fatalf("heartbeat %+v", info)
	}

	runDone := make(chan error, 1)
	go func() { runDone <- svc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-runDone; err != nil {
			t.Error(err)
		}
	}()

	job, err := svc.CreateJob(ctx, user.ID, sentinel.JobRequest{Config: examples.Quick(1), Iterations: 1500, AccessType: "private"})
	if err != nil || job.Chunks != 2 {
		t.Fatalf("create job %+v, %v", job, err)
	}
	// The feed announces the job's work; the running service carves its
	// two chunks for the node, which the feed announces as inserted.
	var chunks []string
	announced := false
	deadline := time.After(20 * time.Second)
	for !announced || len(chunks) < 2 {
		select {
		case m := <-sub.C:
			switch {
			case m.Kind == store.KindPendingChunk && m.ChunkID == job.JobID:
				announced = true
			case m.Kind == store.KindChange && m.Change.Table == "jobs_chunks" && m.Change.Op == "INSERT":
				chunks = append(chunks, m.Change.ID)
			}
		case <-deadline:
			t.Fatalf("job announced %v, chunks carved: %v", announced, chunks)
		}
	}
	for k, id := range chunks {
		c, err := st.ChunkByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != protocol.StatusRunning || c.NodeID != first.ID || c.SeedOffset != k*protocol.ChunkSize ||
			c.Iterations != min(protocol.ChunkSize, 1500-k*protocol.ChunkSize) {
			t.Fatalf("chunk %d: %+v", k, c)
		}
	}

	for i, id := range chunks {
		c, err := st.ChunkByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var resp protocol.CompleteResponse
		n.call(protocol.PathComplete, protocol.CompleteRequest{ChunkID: id, Result: protocol.ChunkResult{
			Iterations: c.Iterations, MeanDps: 100, StdDps: 5, MinDps: 90, MaxDps: 110}}, &resp)
		if !resp.Success || resp.AlreadyCompleted || resp.JobComplete != (i == 1) {
			t.Fatalf("complete chunk %d: %+v", i, resp)
		}
	}
	var repeat protocol.CompleteResponse
	c, _ := st.ChunkByID(ctx, chunks[0])
	n.call(protocol.PathComplete, protocol.CompleteRequest{ChunkID: chunks[0], Result: protocol.ChunkResult{Iterations: c.Iterations, MeanDps: 100}}, &repeat)
	if !repeat.Success || !repeat.AlreadyCompleted || !repeat.JobComplete {
		t.Fatalf("repeat completion %+v", repeat)
	}

	got, err := svc.Job(ctx, user.ID, job.JobID)
	if err != nil {
		t.Fatal(err)
	}
	var res protocol.JobResult
	if err := json.Unmarshal(got.Result, &res); err != nil || got.Status != protocol.StatusCompleted || got.CompletedIterations != 1500 ||
		res.TotalIterations != 1500 || res.ChunksCompleted != 2 || res.MeanDps != 100 || res.MinDps != 90 || res.MaxDps != 110 {
		t.Fatalf("job %+v result %+v (%v)", got, res, err)
	}
	rows, err := st.ReadRows(ctx, "jobs", []string{job.JobID})
	if err != nil {
		t.Fatal(err)
	}
	row := rows[job.JobID]
	var fields struct {
		Status string             `json:"status"`
		Result protocol.JobResult `json:"result"`
	}
	if err := json.Unmarshal(row, &fields); err != nil || fields.Status != "completed" || fields.Result != res {
		t.Fatalf("job row %s (%v)", row, err)
	}
}
