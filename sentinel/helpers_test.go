package sentinel

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"wowlab/examples"
	"wowlab/internal/pgtest"
	"wowlab/protocol"
	"wowlab/sentinel/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var testSecret = []byte("0123456789abcdef0123456789abcdef")

type env struct {
	t     testing.TB
	dsn   string
	db    *store.Postgres
	clock *fakeClock
	svc   *Service
	srv   *httptest.Server
	pool  *pgxpool.Pool
}

func openStore(t testing.TB, dsn string) *store.Postgres {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// newEnv gives a migrated database, a service on a fake clock and a real
// HTTP server on loopback.
func newEnv(t testing.TB) *env {
	t.Helper()
	dsn := pgtest.New(t)
	db := openStore(t, dsn)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	e := &env{t: t, dsn: dsn, db: db, pool: pool, clock: &fakeClock{now: time.Unix(1_800_000_000, 0)}}
	e.svc = e.instance(db)
	e.srv = httptest.NewServer(e.svc.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// instance is another service on the same database and clock.
func (e *env) instance(db store.Store) *Service {
	svc, err := New(Config{Store: db, JWTSecret: testSecret, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

func (e *env) user(name string) (store.User, string) {
	e.t.Helper()
	u, tok, err := e.svc.AddUser(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, tok
}

// testNode is a node identity speaking the signed node API.
type testNode struct {
	e   *env
	key ed25519.PrivateKey
	pub ed25519.PublicKey
	id  string
}

func (e *env) newNode() *testNode {
	e.t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	return &testNode{e: e, key: key, pub: pub}
}

// call posts a signed request and decodes the answer into out (when not
// nil); it returns the status and the raw body.
func (n *testNode) call(path string, body any, out any) (int, string) {
	n.e.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			n.e.t.Fatal(err)
		}
	}
	// Identical requests in one second have identical signatures (Ed25519
	// is deterministic) and would be refused as replays: step the clock.
	n.e.clock.Add(time.Second)
	h := protocol.Sign(n.key, n.e.clock.Now().Unix(), "POST", path, raw)
	return n.e.do(path, raw, h, out)
}

func (e *env) do(path string, raw []byte, h protocol.Headers, out any) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range map[string]string{protocol.HeaderKey: h.Key, protocol.HeaderTimestamp: h.Timestamp, protocol.HeaderSignature: h.Signature} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("decode %s: %v", b, err)
		}
	}
	return resp.StatusCode, string(bytes.TrimSpace(b))
}

// register registers the node and returns its answer.
func (n *testNode) register(cores int) protocol.RegisterResponse {
	n.e.t.Helper()
	var r protocol.RegisterResponse
	if st, body := n.call(protocol.PathRegister, protocol.RegisterRequest{Hostname: "h", TotalCores: cores, EnabledCores: cores, Platform: "linux-x86_64", Version: "1.0.0"}, &r); st != 200 {
		n.e.t.Fatalf("register: %d %s", st, body)
	}
	n.id = r.ID
	return r
}

// online registers, claims for user with maxParallel and heartbeats.
func (e *env) onlineNode(userID string, cores, maxParallel int) *testNode {
	e.t.Helper()
	n := e.newNode()
	r := n.register(cores)
	mp := maxParallel
	if _, err := e.svc.ClaimNode(context.Background(), ClaimRequest{UserID: userID, Code: r.ClaimCode, MaxParallel: &mp}); err != nil {
		e.t.Fatal(err)
	}
	n.heartbeat()
	return n
}

func (n *testNode) heartbeat() {
	n.e.t.Helper()
	if st, body := n.call(protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: "online"}, nil); st != 200 {
		n.e.t.Fatalf("heartbeat: %d %s", st, body)
	}
}

func (e *env) job(userID string, iterations int, access string) JobCreated {
	e.t.Helper()
	j, err := e.svc.CreateJob(context.Background(), userID, JobRequest{Config: examples.Quick(1), Iterations: iterations, AccessType: access})
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

func (e *env) schedule() int {
	e.t.Helper()
	n, err := e.svc.Schedule(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// chunks returns the job's chunks in seed order, up to the first part of
// its range no chunk covers.
func (e *env) chunks(jobID string) []store.Chunk {
	e.t.Helper()
	var out []store.Chunk
	off := 0
	for {
		var id string
		err := e.dbQueryRow("SELECT id::text FROM jobs_chunks WHERE job_id = $1 AND seed_offset = $2", jobID, off).Scan(&id)
		if err != nil {
			return out
		}
		c, err := e.db.ChunkByID(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, c)
		off += c.Iterations
	}
}

type scanner interface{ Scan(...any) error }

func (e *env) dbQueryRow(sql string, args ...any) scanner {
	return e.pool.QueryRow(context.Background(), sql, args...)
}

func jsonBody(v any) ([]byte, error)      { return json.Marshal(v) }
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func completeReq(id string, n int) protocol.CompleteRequest {
	return protocol.CompleteRequest{ChunkID: id, Result: protocol.ChunkResult{Iterations: n, MeanDps: 10, StdDps: 1, MinDps: 9, MaxDps: 11}}
}
