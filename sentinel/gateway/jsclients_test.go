package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wowlab/examples"
	"wowlab/sentinel"
)

// TestOfficialJSClients runs the official @supabase/realtime-js and
// @supabase/postgrest-js (versions pinned in testdata/jsclients) against
// the gateway. npm ci installs them from npm's cache when it holds them
// (--prefer-offline: after the first run the test needs no network); the
// test is skipped only when node or npm is missing (scripts/test installs
// them).
func TestOfficialJSClients(t *testing.T) {
	nodeBin, errNode := exec.LookPath("node")
	npmBin, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		t.Skip("node and npm are not on PATH; install the Debian packages nodejs and npm (scripts/test does) to run the official Supabase JS clients")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "jsclients"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npmBin, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	t.Run("realtime-js", func(t *testing.T) { testRealtimeJS(t, nodeBin, dir) })
	t.Run("postgrest-js", func(t *testing.T) { testPostgrestJS(t, nodeBin, dir) })
}

// script runs `node <name>` with env and returns its output lines and its
// exit status.
type script struct {
	lines chan string
	done  chan error
	out   *strings.Builder
}

func runScript(t *testing.T, nodeBin, dir, name string, env map[string]string) *script {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, nodeBin, name)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &script{lines: make(chan string, 100), done: make(chan error, 1), out: stderr}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
		s.done <- cmd.Wait()
	}()
	return s
}

// expect waits for a line starting with each prefix, in any order, and
// returns them by prefix.
func (s *script) expect(t *testing.T, prefixes ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	deadline := time.After(60 * time.Second)
	for len(got) < len(prefixes) {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("script ended before printing %v (got %v): %v\n%s", prefixes, got, <-s.done, s.out)
			}
			for _, p := range prefixes {
				if strings.HasPrefix(line, p) {
					got[p] = line
				}
			}
		case <-deadline:
			t.Fatalf("script did not print %v (got %v)\n%s", prefixes, got, s.out)
		}
	}
	return got
}

func (s *script) wait(t *testing.T) {
	t.Helper()
	for range s.lines {
	}
	if err := <-s.done; err != nil {
		t.Fatalf("script failed: %v\n%s", err, s.out)
	}
}

func testRealtimeJS(t *testing.T, nodeBin, dir string) {
	e := newEnv(t, Limits{})
	u, _ := e.user("alice")
	other, _ := e.user("bob")
	n, o := e.newNode(u), e.newNode(other)
	e.exec(`UPDATE nodes SET status = 'offline', last_seen_at = now() - interval '1 hour' WHERE id = $1`, n.id)
	s := runScript(t, nodeBin, dir, "realtime.mjs", map[string]string{
		"WOWLAB_REALTIME_URL":  strings.Replace(e.a.srv.URL, "http://", "ws://", 1) + "/realtime/v1",
		"WOWLAB_ANON_KEY":      e.anon,
		"WOWLAB_NODE_ID":       n.id,
		"WOWLAB_NODE_TOKEN":    n.token,
		"WOWLAB_OTHER_NODE_ID": o.id,
	})
	got := s.expect(t, "SUBSCRIBED chunks", "TRACKED", "REFUSED", "PRESENCE_SYNC")
	if got["TRACKED"] != "TRACKED ok" || !strings.Contains(got["REFUSED"], "own chunks") {
		t.Fatalf("script said %v", got)
	}
	// Presence made the node online in the sentinel's view.
	var status string
	if err := e.pool.QueryRow(context.Background(), `SELECT status FROM nodes WHERE id = $1`, n.id).Scan(&status); err != nil || status != "online" {
		t.Fatalf("node status %q %v after presence", status, err)
	}
	job, err := e.a.svc.CreateJob(context.Background(), u, sentinel.JobRequest{Config: examples.Quick(2), Iterations: 700})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := e.a.svc.Schedule(context.Background()); err != nil || k != 1 {
		t.Fatalf("schedule: %d %v", k, err)
	}
	var chunkID string
	if err := e.pool.QueryRow(context.Background(), `SELECT id FROM jobs_chunks WHERE job_id = $1 AND node_id = $2`, job.JobID, n.id).Scan(&chunkID); err != nil {
		t.Fatal(err)
	}
	line := s.expect(t, "ASSIGNED")["ASSIGNED"]
	if !strings.HasPrefix(line, "ASSIGNED "+chunkID+" 700 ") {
		t.Fatalf("script saw %q, want chunk %s", line, chunkID)
	}
	s.wait(t)
	// The script's socket is gone, and so is its presence.
	deadline := time.Now().Add(10 * time.Second)
	for e.a.gw.hub.socketCount() != 0 || len(presenceOf(e.a.gw, presenceTopic)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("socket or presence left behind after the script exited")
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}

func presenceOf(g *Gateway, topic string) map[string]metas {
	g.hub.mu.RLock()
	defer g.hub.mu.RUnlock()
	var state map[string]metas
	_ = json.Unmarshal(g.hub.presenceStateLocked(topic, nil), &state)
	return state
}

func testPostgrestJS(t *testing.T, nodeBin, dir string) {
	f := newRESTFixture(t)
	s := runScript(t, nodeBin, dir, "postgrest.mjs", map[string]string{
		"WOWLAB_API_URL":             f.env.a.srv.URL,
		"WOWLAB_ANON_KEY":            f.anon,
		"WOWLAB_NODE_TOKEN":          f.a.token,
		"WOWLAB_USER_TOKEN":          f.tok1,
		"WOWLAB_CONFIG_HASH":         f.configHash,
		"WOWLAB_ROTATION_ID":         f.rotPriv1,
		"WOWLAB_PRIVATE_ROTATION_ID": f.rotPriv2,
		"WOWLAB_JOB_CONFIG":          string(examples.Quick(5)),
	})
	got := s.expect(t, "CONFIG ok", "ROTATION ok", "PRIVATE refused", "CREATED ")
	s.wait(t)
	jobID := strings.TrimPrefix(got["CREATED "], "CREATED ")
	var owner string
	var total int
	if err := f.pool.QueryRow(context.Background(), `SELECT user_id, total_iterations FROM jobs WHERE id = $1`, jobID).Scan(&owner, &total); err != nil || owner != f.u1 || total != 1500 {
		t.Fatalf("job %s: owner %s total %d %v", jobID, owner, total, err)
	}
}
