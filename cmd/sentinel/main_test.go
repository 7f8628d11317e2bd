package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"wowlab/examples"
	"wowlab/internal/cli"
	"wowlab/internal/filelock"
	"wowlab/internal/pgtest"
	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/sentinel/gateway"
	"wowlab/sentinel/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

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
	testClaimAndGrant(t, env, dsn, out)
	if code, _, errs := run(env, "serve", "--bogus"); code != 2 || !strings.Contains(errs, "unknown flag") {
		t.Fatalf("bad flag: %d %s", code, errs)
	}
	// The limits are flags and environment variables, checked before
	// anything starts.
	for _, c := range []struct {
		env  mapEnv
		args []string
		want string
	}{
		{nil, []string{"--claim-checks-per-user", "ten"}, "N/DURATION"},
		{nil, []string{"--read-timeout", "0s"}, "--read-timeout must be positive"},
		{nil, []string{"--max-connections", "-1"}, "--max-connections must not be negative"},
		{nil, []string{"--realtime-send-queue-bytes", "lots"}, "not a size in bytes"},
		{mapEnv{"SENTINEL_REALTIME_PRESENCE_CHANGES": "5"}, nil, "SENTINEL_REALTIME_PRESENCE_CHANGES"},
		{mapEnv{"SENTINEL_MAX_BODY_MEMORY": "1KiB"}, nil, "body memory"},
	} {
		e := mapEnv{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range c.env {
			e[k] = v
		}
		code, _, errs := run(e, append([]string{"serve", "--listen", "127.0.0.1:0"}, c.args...)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("serve %v %v: %d %q, want an error with %q", c.env, c.args, code, errs, c.want)
		}
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
	if code, _, errs := run(mapEnv{}, "keys", "anon"); code != 2 || !strings.Contains(errs, "jwt-secret") || !strings.Contains(errs, "openssl rand -hex 32") {
		t.Fatalf("keys anon without a secret: %d %s", code, errs)
	}
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, examples.Quick(3), 0o600); err != nil {
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
	testWaitCancelAndRotations(t, user, id)
}

// testWaitCancelAndRotations follows a job no node may take, cancels it,
// and writes rotations, through the commands as the user.
func testWaitCancelAndRotations(t *testing.T, user mapEnv, id string) {
	t.Helper()
	code, _, errs := run(user, "jobs", "status", id, "--wait", "--timeout", "1s")
	if code != 1 || !strings.Contains(errs, "waiting: none of your nodes is online") || !strings.Contains(errs, "is not done after 1s") {
		t.Fatalf("status --wait with no node: %d %s", code, errs)
	}
	if code, _, errs := run(user, "jobs", "status", id, "--wait", "--timeout", "-1s"); code != 2 {
		t.Fatalf("negative --timeout: %d %s", code, errs)
	}
	if code, out, errs := run(user, "jobs", "cancel", id); code != 0 || !strings.Contains(out, "cancelled") {
		t.Fatalf("cancel: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(user, "jobs", "cancel", id); code != 1 || !strings.Contains(errs, "already ended") {
		t.Fatalf("second cancel: %d %s", code, errs)
	}
	if code, _, errs := run(user, "jobs", "status", id, "--wait"); code != 1 || !strings.Contains(errs, "failed: cancelled by its user") {
		t.Fatalf("status --wait of a cancelled job: %d %s", code, errs)
	}
	dir := t.TempDir()
	bad, good := filepath.Join(dir, "bad.json"), filepath.Join(dir, "good.json")
	if err := os.WriteFile(bad, []byte(`{"actions":[{"cast":"kill_comand"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(`{"actions":[{"cast":"kill_command"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(user, "rotations", "add", "--name", "bad", "--file", bad); code != 1 || !strings.Contains(errs, `actions[0].cast: unknown spell "kill_comand"`) {
		t.Fatalf("add of an invalid rotation: %d %s", code, errs)
	}
	if code, _, errs := run(user, "rotations", "add", "--file", good); code != 2 {
		t.Fatalf("add without --name: %d %s", code, errs)
	}
	code, out, errs := run(user, "rotations", "add", "--name", "Kill Command only", "--file", good, "--public")
	if code != 0 || !strings.Contains(out, `"slug": "kill-command-only"`) || !strings.Contains(out, `"is_public": true`) {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	rid := out[strings.Index(out, `"id": "`)+len(`"id": "`):]
	rid = rid[:strings.Index(rid, `"`)]
	if code, out, errs := run(user, "rotations", "list"); code != 0 || !strings.Contains(out, rid) || !strings.Contains(out, "Kill Command only") {
		t.Fatalf("list: %d %s %s", code, out, errs)
	}
	if code, out, errs := run(user, "rotations", "show", rid); code != 0 || !strings.Contains(out, `kill_command`) {
		t.Fatalf("show: %d %s %s", code, out, errs)
	}
	if code, out, errs := run(user, "rotations", "rm", rid); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("rm: %d %s %s", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rotations", "rm", rid}, "not found"},
		{[]string{"rotations", "show", rid}, "not found"},
		{[]string{"rotations", "show", "not-a-uuid"}, `invalid input syntax for type uuid: "not-a-uuid"`},
	} {
		if code, _, errs := run(user, c.args...); code != 1 || !strings.Contains(errs, c.want) || strings.Contains(errs, "SELECT") {
			t.Fatalf("%v: %d %s", c.args, code, errs)
		}
	}
}

// testClaimAndGrant registers a node, claims it for alice (whose users add
// output is given) and grants it to bob, all through the commands.
func testClaimAndGrant(t *testing.T, env mapEnv, dsn, aliceOut string) {
	t.Helper()
	alice := strings.Fields(aliceOut[strings.Index(aliceOut, "id:")+len("id:"):])[0]
	_, bobOut, _ := run(env, "users", "add", "bob")
	bob := strings.Fields(bobOut[strings.Index(bobOut, "id:")+len("id:"):])[0]
	st, err := store.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := sentinel.New(sentinel.Config{Store: st, JWTSecret: []byte(strings.Repeat("s", 32))})
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := svc.Register(context.Background(), pub, protocol.RegisterRequest{Hostname: "rig", TotalCores: 8, EnabledCores: 8, Platform: "linux-x86_64", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(env, "nodes", "grant", reg.ID, "--user", bob); code != 1 || !strings.Contains(errs, "Node not claimed") {
		t.Fatalf("grant of an unclaimed node: %d %s", code, errs)
	}
	code := strings.ToLower(reg.ClaimCode[:3]) + "-" + reg.ClaimCode[3:]
	if c, out, errs := run(env, "nodes", "claim", code, "--user", alice, "--max-parallel", "2"); c != 0 || !strings.Contains(out, "max parallel 2") {
		t.Fatalf("claim: %d %s %s", c, out, errs)
	}
	if c, _, errs := run(env, "nodes", "grant", reg.ID); c != 2 || !strings.Contains(errs, "--user") {
		t.Fatalf("grant without --user: %d %s", c, errs)
	}
	if c, out, errs := run(env, "nodes", "grant", reg.ID, "--user", bob); c != 0 || !strings.Contains(out, bob) {
		t.Fatalf("grant: %d %s %s", c, out, errs)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM nodes_permissions WHERE node_id = $1 AND access_type = 'user' AND target_id = $2`, reg.ID, bob).Scan(&n); err != nil || n != 1 {
		t.Fatalf("permission rows %d (%v)", n, err)
	}

	// A row holding terminal escapes (stored before they were refused)
	// lists escaped: it cannot retitle or clear the operator's terminal.
	if _, err := conn.Exec(context.Background(), `UPDATE nodes SET name = E'\x1b]0;owned\x07\x1b[2J', version = E'1\u009b31m' WHERE id = $1`, reg.ID); err != nil {
		t.Fatal(err)
	}
	c, out, errs := run(env, "nodes", "list")
	if c != 0 || !strings.Contains(out, `\x1b]0;owned\a\x1b[2J`) || !strings.Contains(out, `1\u009b31m`) || strings.ContainsAny(out, "\x1b\x07\u009b") {
		t.Fatalf("nodes list: %d %q %s", c, out, errs)
	}
}

// serve on SQLite refuses to start while another instance holds the
// store's lock, and says what to do.
func TestSecondSQLiteServeRefused(t *testing.T) {
	dir := t.TempDir()
	env := mapEnv{"SENTINEL_DATA_DIR": dir, "SENTINEL_JWT_SECRET": strings.Repeat("s", 32)}
	if code, _, errs := run(env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, errs)
	}
	held, err := filelock.Acquire(filepath.Join(dir, lockName))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	code, _, errs := run(env, "serve", "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "another sentinel serves the SQLite store in "+dir) || !strings.Contains(errs, "--database-url") {
		t.Fatalf("second serve: %d %q", code, errs)
	}
	// Commands that end soon share the store with the serving instance.
	if code, out, errs := run(env, "users", "add", "alice"); code != 0 || !strings.Contains(out, "token:") {
		t.Fatalf("users add beside a serving instance: %d %s %s", code, out, errs)
	}
}

// dev without --data-dir leaves nothing behind in the temporary directory,
// its log included.
func TestDevLeavesNothingBehind(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	code, out, errs := run(mapEnv{}, "dev", "--demo", "--nodes", "1", "--node-cores", "1", "--iterations", "20", "--output", "json")
	if code != 0 || !strings.Contains(out, `"totalIterations": 20`) {
		t.Fatalf("dev --demo: %d %s %s", code, out, errs)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("dev left %s in the temporary directory", e.Name())
	}
}
