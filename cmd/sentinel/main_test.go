package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wowlab/internal/cli"
	"wowlab/internal/pgtest"
	"wowlab/sentinel"
	"wowlab/sentinel/gateway"
	"wowlab/sentinel/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type mapEnv map[string]string

func (m mapEnv) LookupEnv(k string) (string, bool) { v, ok := m[k]; return v, ok }

func run(env mapEnv, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	root := newRoot(env)
	root.SetOut(&out)
	root.SetErr(&errb)
	code := cli.Run(root, args, &errb)
	return code, out.String(), errb.String()
}

func TestCommands(t *testing.T) {
	dsn := pgtest.New(t)
	env := mapEnv{"DATABASE_URL": dsn, "SENTINEL_JWT_SECRET": strings.Repeat("s", 32)}
	if code, _, errs := run(env, "serve", "--listen", "127.0.0.1:0"); code != 1 || !strings.Contains(errs, "run 'sentinel migrate'") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("serve on unmigrated database: %d %q", code, errs)
	}
	if code, out, errs := run(env, "migrate"); code != 0 || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(env, "migrate"); code != 0 {
		t.Fatalf("second migrate: %d %s", code, errs)
	}
	code, out, errs := run(env, "users", "add", "alice")
	if code != 0 || !strings.Contains(out, "token: wlu_") {
		t.Fatalf("users add: %d %s %s", code, out, errs)
	}
	token := strings.TrimSpace(out[strings.Index(out, "token:")+len("token:"):])
	if code, _, _ := run(env, "nodes", "list"); code != 0 {
		t.Fatalf("nodes list: %d", code)
	}
	if code, _, errs := run(env, "nodes", "claim", "ABCDEF"); code != 2 || !strings.Contains(errs, "--user") {
		t.Fatalf("claim without --user: %d %s", code, errs)
	}
	if code, _, errs := run(env, "serve", "--bogus"); code != 2 || !strings.Contains(errs, "unknown flag") {
		t.Fatalf("bad flag: %d %s", code, errs)
	}
	if code, _, errs := run(mapEnv{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, "nodes", "list"); code != 1 || strings.Count(errs, "\n") != 1 {
		t.Fatalf("unreachable database: %d %q", code, errs)
	}

	// jobs submit --wait and jobs status over HTTP against a real service.
	st, err := store.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := sentinel.New(sentinel.Config{Store: st, JWTSecret: []byte(strings.Repeat("s", 32))})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{Service: svc, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	gw.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	code, out, errs = run(env, "keys", "anon")
	if code != 0 || strings.Count(out, ".") != 2 {
		t.Fatalf("keys anon: %d %s %s", code, out, errs)
	}
	anon := strings.TrimSpace(out)
	if code, _, errs := run(mapEnv{}, "keys", "anon"); code != 2 || !strings.Contains(errs, "jwt-secret") {
		t.Fatalf("keys anon without a secret: %d %s", code, errs)
	}
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(`{"seed": 3}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(mapEnv{"WOWLAB_SERVER": srv.URL, "WOWLAB_TOKEN": token}, "jobs", "status", "x"); code != 2 || !strings.Contains(errs, "--anon-key") {
		t.Fatalf("status without anon key: %d %s", code, errs)
	}
	user := mapEnv{"WOWLAB_SERVER": srv.URL, "WOWLAB_TOKEN": token, "WOWLAB_ANON_KEY": anon}
	code, out, errs = run(user, "jobs", "submit", "--config", cfg, "--iterations", "2500")
	if code != 0 || !strings.Contains(out, `"chunks": 3`) {
		t.Fatalf("submit: %d %s %s", code, out, errs)
	}
	id := out[strings.Index(out, `"jobId": "`)+len(`"jobId": "`):]
	id = id[:strings.Index(id, `"`)]
	code, out, errs = run(user, "jobs", "status", id)
	if code != 0 || !strings.Contains(out, `"status": "pending"`) || !strings.Contains(out, `"total_iterations": 2500`) {
		t.Fatalf("status: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(mapEnv{"WOWLAB_SERVER": srv.URL, "WOWLAB_TOKEN": "wlu_wrong", "WOWLAB_ANON_KEY": anon}, "jobs", "status", id); code != 1 || !strings.Contains(errs, "invalid user token") {
		t.Fatalf("bad token: %d %s", code, errs)
	}
}
