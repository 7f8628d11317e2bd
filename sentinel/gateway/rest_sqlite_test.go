package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wowlab/sentinel"
	"wowlab/sentinel/store/sqlite"
)

// newSQLiteEnv is an env whose one instance runs on the embedded SQLite
// store (no PostgreSQL pool).
func newSQLiteEnv(t *testing.T) *env {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sentinel.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	svc, err := sentinel.New(sentinel.Config{Store: db, JWTSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := New(Config{Service: svc, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	gw.Routes(mux)
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = gw.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	e := &env{t: t, a: &instance{svc: svc, gw: gw, srv: srv}}
	e.anon, err = sentinel.AnonKey(testSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The REST reads answer on SQLite as on PostgreSQL: row access, filters,
// order, PostgreSQL's JSON and its refusals.
func TestRESTSelectOnSQLite(t *testing.T) {
	e := newSQLiteEnv(t)
	ctx := context.Background()
	u1, tok1 := e.user("alice")
	_, tok2 := e.user("bob")
	a := e.newNode(u1)
	cfg := quickWith(t, 1, map[string]any{"rotationId": nil})
	job, err := e.a.svc.CreateJob(ctx, u1, sentinel.JobRequest{Config: cfg, Iterations: 1500})
	if err != nil {
		t.Fatal(err)
	}
	canon, _ := sentinel.CanonicalJSON(cfg)
	hash := sentinel.ConfigHash(canon)
	if n, err := e.a.svc.Schedule(ctx); err != nil || n != 2 {
		t.Fatalf("schedule: %d %v", n, err)
	}
	cases := []struct {
		name   string
		path   string
		bearer string
		status int
		want   string // exact JSON, or a substring when prefixed with ~
	}{
		{"config by hash, node running it", "/rest/v1/jobs_configs?hash=eq." + hash + "&select=config", a.token, 200, `[{"config":` + string(cfg) + `}]`},
		{"config by hash, its user", "/rest/v1/jobs_configs?hash=eq." + hash + "&select=hash", tok1, 200, `[{"hash":"` + hash + `"}]`},
		{"config by hash, another user", "/rest/v1/jobs_configs?hash=eq." + hash + "&select=config", tok2, 200, `[]`},
		{"configs, anon", "/rest/v1/jobs_configs?select=hash", "", 200, `[]`},
		{"running chunks, node", "/rest/v1/jobs_chunks?node_id=eq." + a.id + "&status=eq.running&select=iterations,seed_offset,result&order=seed_offset.desc",
			a.token, 200, `[{"iterations":500,"seed_offset":1000,"result":null},{"iterations":1000,"seed_offset":0,"result":null}]`},
		{"chunks in, limit and offset", "/rest/v1/jobs_chunks?job_id=eq." + job.JobID + "&seed_offset=in.(0,1000)&select=seed_offset&order=seed_offset&limit=1&offset=1",
			tok1, 200, `[{"seed_offset":1000}]`},
		{"own job", "/rest/v1/jobs?id=eq." + job.JobID + "&select=status,total_iterations,completed_at", tok1, 200,
			`[{"status":"running","total_iterations":1500,"completed_at":null}]`},
		{"other's job", "/rest/v1/jobs?id=eq." + job.JobID, tok2, 200, `[]`},
		{"own node", "/rest/v1/nodes?select=id,user_id,claim_code", tok1, 200, `[{"id":"` + a.id + `","user_id":"` + u1 + `","claim_code":null}]`},
		{"nodes, anon", "/rest/v1/nodes?select=id", "", 200, `[]`},
		{"no public rotations", "/rest/v1/rotations?select=id", "", 200, `[]`},
		{"bad uuid", "/rest/v1/jobs?id=eq.nope", tok1, 400, `~"code":"22P02"`},
		{"bad integer", "/rest/v1/jobs_chunks?seed_offset=gt.x", tok1, 400, `~"code":"22P02"`},
		{"bad timestamp", "/rest/v1/jobs?created_at=lt.soon", tok1, 400, `~"code":"22007"`},
		{"is true on text", "/rest/v1/jobs?status=is.true", tok1, 400, `~"code":"42804"`},
		{"unknown column", "/rest/v1/jobs?select=password", tok1, 400, `~"code":"42703"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.rest("GET", c.path, e.anon, c.bearer, nil)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			if sub, ok := strings.CutPrefix(c.want, "~"); ok {
				if !strings.Contains(string(body), sub) {
					t.Fatalf("body %s lacks %s", body, sub)
				}
				return
			}
			assertJSON(t, body, c.want)
		})
	}
	// Timestamps come out as PostgreSQL writes them.
	status, body := e.rest("GET", "/rest/v1/jobs?id=eq."+job.JobID+"&select=created_at", e.anon, tok1, nil)
	var rows []struct {
		CreatedAt string `json:"created_at"`
	}
	if status != 200 || json.Unmarshal(body, &rows) != nil || len(rows) != 1 || !strings.HasSuffix(rows[0].CreatedAt, "+00:00") {
		t.Fatalf("created_at: %d %s", status, body)
	}
	if _, err := time.Parse(time.RFC3339Nano, rows[0].CreatedAt); err != nil {
		t.Fatalf("created_at %q: %v", rows[0].CreatedAt, err)
	}
}
