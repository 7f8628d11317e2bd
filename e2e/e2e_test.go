package e2e

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"

	"wowlab/internal/pgtest"
	"wowlab/protocol"
)

// Case 1: a job over three nodes gives the same aggregate as `engine sim`
// over the same config and iterations, on PostgreSQL and on SQLite.
func TestDistributedEqualsLocal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sqlite bool
	}{{"postgres", false}, {"sqlite", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, clusterOptions{sqlite: tc.sqlite})
			for i := range 3 {
				c.startNode(fmt.Sprintf("node%d", i+1), c.url)
			}
			cfg := writeConfig(t, c.dir, 60, nil)
			const n = 20_000
			id := c.submit(cfg, n)
			j := c.waitJob(id, 3*time.Minute)
			checkEqualsLocal(t, j, localResult(t, cfg, n))
		})
	}
}

// Case 2: a node killed mid-chunk has its chunks reclaimed and finished by
// the others; nothing is lost or counted twice.
func TestKilledNodeChunksAreReclaimed(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	victim := c.startNode("victim", c.url)
	c.startNode("survivor", c.url)
	cfg := writeConfig(t, c.dir, 300, nil)
	const n = 40_000
	id := c.submit(cfg, n)
	victim.waitOutput(t, regexp.MustCompile(`chunk \S+: assigned`), time.Minute)
	c.requireUnfinished(id)
	victim.stop(t, syscall.SIGKILL, 10*time.Second)
	j := c.waitJob(id, 3*time.Minute)
	checkEqualsLocal(t, j, localResult(t, cfg, n))
}

// Case 3: SIGTERM makes a node hand back its unfinished chunks at once;
// they finish elsewhere long before the reclaim limit.
func TestStoppedNodeReleasesChunks(t *testing.T) {
	c := newCluster(t, clusterOptions{offlineAfter: 5 * time.Minute, reclaimAfter: 10 * time.Minute})
	leaving := c.startNode("leaving", c.url, "--grace", "0s")
	c.startNode("staying", c.url)
	cfg := writeConfig(t, c.dir, 300, nil)
	const n = 40_000
	id := c.submit(cfg, n)
	leaving.waitOutput(t, regexp.MustCompile(`chunk \S+: assigned`), time.Minute)
	c.requireUnfinished(id)
	leaving.stop(t, syscall.SIGTERM, 30*time.Second)
	if !strings.Contains(leaving.out.String(), "handed back") {
		t.Errorf("the stopped node handed nothing back")
	}
	// The reclaim limit is ten minutes: finishing within two shows the
	// chunks came back by release.
	j := c.waitJob(id, 2*time.Minute)
	checkEqualsLocal(t, j, localResult(t, cfg, n))
}

// Case 4: the sentinel restarted mid-job; nodes reconnect, resync and the
// job completes with the same result.
func TestSentinelRestart(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	a := c.startNode("a", c.url)
	c.startNode("b", c.url)
	cfg := writeConfig(t, c.dir, 300, nil)
	const n = 40_000
	id := c.submit(cfg, n)
	a.waitOutput(t, regexp.MustCompile(`chunk \S+: completed`), time.Minute)
	c.requireUnfinished(id)
	c.sentinel.stop(t, syscall.SIGTERM, 30*time.Second)
	c.startSentinel()
	j := c.waitJob(id, 3*time.Minute)
	checkEqualsLocal(t, j, localResult(t, cfg, n))
}

// Case 5: PostgreSQL restarted mid-job (a throwaway cluster of this test,
// never a shared server): the sentinel reconnects, LISTEN resumes and the
// job completes.
func TestDatabaseRestart(t *testing.T) {
	pg, err := pgtest.StartCluster(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Stop() })
	c := newCluster(t, clusterOptions{dbURL: pg.URL()})
	a := c.startNode("a", c.url)
	c.startNode("b", c.url)
	cfg := writeConfig(t, c.dir, 300, nil)
	const n = 40_000
	id := c.submit(cfg, n)
	a.waitOutput(t, regexp.MustCompile(`chunk \S+: completed`), time.Minute)
	c.requireUnfinished(id)
	err = pg.Restart(ctx(t), func() {
		waitFor(t, "the sentinel to report the database down", time.Minute, func() bool {
			return !c.databaseReachable()
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	j := c.waitJob(id, 3*time.Minute)
	checkEqualsLocal(t, j, localResult(t, cfg, n))
}

// requireUnfinished fails the test when the job is already done: a fault
// injected after the end would prove nothing.
func (c *cluster) requireUnfinished(id string) {
	c.t.Helper()
	if j := c.job(id); j.Status == "completed" || j.Status == "failed" {
		c.t.Fatalf("job %s already %s before the fault; make it longer", id, j.Status)
	}
}

// databaseReachable reads the sentinel's /status.
func (c *cluster) databaseReachable() bool {
	resp, err := http.Get(c.url + "/status")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var s struct {
		Database string `json:"database"`
	}
	raw, _ := io.ReadAll(resp.Body)
	return json.Unmarshal(raw, &s) == nil && s.Database == "ok"
}

// Case 6: a config the engine refuses is refused at submit with the
// engine's message; a poison job (its rotation was made invalid after it
// was submitted, so every node's engine rejects it) fails each chunk three
// times, ends failed with the engine's message, and the nodes keep serving
// other jobs.
func TestPoisonJob(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	invalid := writeConfig(t, c.dir, 60, func(doc map[string]any) {
		doc["rotation"] = `{"actions":[{"cast":"kil_command"}]}`
	})
	out, err := exec.Command(bin.sentinel, "jobs", "submit", "--config", invalid, "--iterations", "2000",
		"--server", c.url, "--token", c.token, "--anon-key", c.anon).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unknown spell "kil_command"`) {
		t.Fatalf("an invalid config was not refused at submit (%v): %s", err, out)
	}
	conn, err := pgx.Connect(ctx(t), c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx(t))
	var rotID string
	if err := conn.QueryRow(ctx(t), `INSERT INTO rotations (user_id, slug, name, script) VALUES ($1, 'poison', 'poison', $2) RETURNING id`,
		c.userID, `{"actions":[{"cast":"kill_command"}]}`).Scan(&rotID); err != nil {
		t.Fatal(err)
	}
	poison := writeConfig(t, c.dir, 60, func(doc map[string]any) { doc["rotationId"] = rotID })
	bad := c.submit(poison, 2_000)
	if _, err := conn.Exec(ctx(t), `UPDATE rotations SET script = $2 WHERE id = $1`, rotID, `{"actions":[{"cast":"kil_command"}]}`); err != nil {
		t.Fatal(err)
	}
	c.startNode("a", c.url)
	c.startNode("b", c.url)
	j := c.waitJob(bad, 2*time.Minute)
	if j.Status != "failed" || !strings.Contains(j.Error, `unknown spell "kil_command"`) {
		t.Fatalf("poison job ended %q with %q", j.Status, j.Error)
	}
	good := writeConfig(t, c.dir, 60, nil)
	ok := c.waitJob(c.submit(good, 3_000), 2*time.Minute)
	checkEqualsLocal(t, ok, localResult(t, good, 3_000))
}

// Case 7: a completion from a node that does not hold the chunk, a
// replayed signed request and a forged Realtime token are refused, and
// none of them changes any row.
func TestRefusals(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	cfg := writeConfig(t, c.dir, 60, nil)
	id := c.submit(cfg, 2_000)
	// A node of the job's user that never runs anything takes its chunks
	// (a job's chunks are carved as nodes take work).
	_, holder, _ := ed25519.GenerateKey(nil)
	var held protocol.RegisterResponse
	if status := c.signed(t, holder, protocol.PathRegister, protocol.RegisterRequest{Hostname: "holder", TotalCores: 1, EnabledCores: 1, Platform: "linux-x86_64", Version: "x"}, &held); status != 200 {
		t.Fatalf("register holder: %d", status)
	}
	c.admin("nodes", "claim", held.ClaimCode, "--user", c.userID)
	if status := c.signed(t, holder, protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: protocol.NodeOnline}, nil); status != 200 {
		t.Fatalf("holder heartbeat: %d", status)
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.job(id).Status != "running" {
		if time.Now().After(deadline) {
			t.Fatal("the holder was given no chunk within 30s")
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, not synchronising on time
	}
	before := c.job(id)

	// An intruder registers a node of its own (it is never claimed).
	_, key, _ := ed25519.GenerateKey(nil)
	var reg protocol.RegisterResponse
	if status := c.signed(t, key, protocol.PathRegister, protocol.RegisterRequest{Hostname: "intruder", TotalCores: 1, EnabledCores: 1, Platform: "linux-x86_64", Version: "x"}, &reg); status != 200 {
		t.Fatalf("register: %d", status)
	}
	// It is claimed, by a user of its own, so it is a proper node: just not
	// the holder of any chunk.
	out := c.admin("users", "add", "intruder")
	intruder := regexp.MustCompile(`id:\s+(\S+)`).FindStringSubmatch(out)
	if intruder == nil {
		t.Fatalf("users add printed %q", out)
	}
	c.admin("nodes", "claim", reg.ClaimCode, "--user", intruder[1])
	chunkID := c.someChunk(t, id)
	complete := protocol.CompleteRequest{ChunkID: chunkID, Result: protocol.ChunkResult{Iterations: 1000, MeanDps: 1, MinDps: 1, MaxDps: 1}}
	if status := c.signed(t, key, protocol.PathComplete, complete, nil); status != http.StatusForbidden {
		t.Errorf("completion by a node that does not hold the chunk: %d, want 403", status)
	}
	// The exact same signed request again is a replay.
	body, _ := json.Marshal(protocol.FailRequest{ChunkID: chunkID, Error: "x"})
	h := protocol.Sign(key, time.Now().Unix(), "POST", protocol.PathFail, body)
	first := c.post(t, protocol.PathFail, body, h)
	second := c.post(t, protocol.PathFail, body, h)
	if first == http.StatusUnauthorized || second != http.StatusUnauthorized {
		t.Errorf("first fail %d (refused as not holding the chunk), replay %d (want 401)", first, second)
	}
	// A token signed with another secret is refused at join.
	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"role": "authenticated", "sub": reg.ID, "node_id": reg.ID, "exp": time.Now().Add(time.Hour).Unix(),
	})
	tok, _ := forged.SignedString([]byte(strings.Repeat("f", 40)))
	if reply := c.joinRealtime(t, "realtime:chunks:"+reg.ID, reg.ID, tok); !strings.Contains(reply, `"status":"error"`) {
		t.Errorf("join with a forged token answered %s", reply)
	}
	after := c.job(id)
	if after.Status != before.Status || after.CompletedIterations != before.CompletedIterations || after.Result != nil {
		t.Errorf("job changed: before %+v, after %+v", before, after)
	}
}

// signed posts a signed node API request and decodes a 200 answer.
func (c *cluster) signed(t *testing.T, key ed25519.PrivateKey, path string, req, out any) int {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	h := protocol.Sign(key, time.Now().Unix(), "POST", path, body)
	resp := c.postRaw(t, path, body, h)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func (c *cluster) post(t *testing.T, path string, body []byte, h protocol.Headers) int {
	t.Helper()
	resp := c.postRaw(t, path, body, h)
	resp.Body.Close()
	return resp.StatusCode
}

func (c *cluster) postRaw(t *testing.T, path string, body []byte, h protocol.Headers) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", c.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(protocol.HeaderKey, h.Key)
	req.Header.Set(protocol.HeaderTimestamp, h.Timestamp)
	req.Header.Set(protocol.HeaderSignature, h.Signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// someChunk returns the id of a chunk of a job, read over REST as its user.
func (c *cluster) someChunk(t *testing.T, jobID string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", c.url+"/rest/v1/jobs_chunks?select=id&order=seed_offset&job_id=eq."+jobID, nil)
	req.Header.Set("apikey", c.anon)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rows []struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rows); err != nil || len(rows) == 0 {
		t.Fatalf("chunks of job %s: %v %v", jobID, rows, err)
	}
	return rows[0].ID
}

// joinRealtime joins topic with a postgres_changes binding on the node's
// chunks and returns the join reply frame (serializer 1.0.0).
func (c *cluster) joinRealtime(t *testing.T, topic, nodeID, token string) string {
	t.Helper()
	url := strings.Replace(c.url, "http://", "ws://", 1) + "/realtime/v1/websocket?apikey=" + c.anon + "&vsn=1.0.0"
	conn, _, err := websocket.Dial(ctx(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	join := map[string]any{
		"topic": topic, "event": "phx_join", "ref": "1", "join_ref": "1",
		"payload": map[string]any{
			"config": map[string]any{
				"broadcast":        map[string]any{"ack": false, "self": false},
				"presence":         map[string]any{"key": "", "enabled": false},
				"postgres_changes": []any{map[string]any{"event": "*", "schema": "public", "table": "jobs_chunks", "filter": "node_id=eq." + nodeID}},
				"private":          false,
			},
			"access_token": token,
		},
	}
	frame, _ := json.Marshal(join)
	if err := conn.Write(ctx(t), websocket.MessageText, frame); err != nil {
		t.Fatal(err)
	}
	for {
		_, msg, err := conn.Read(ctx(t))
		if err != nil {
			t.Fatalf("read join reply: %v", err)
		}
		if strings.Contains(string(msg), `"phx_reply"`) {
			return string(msg)
		}
	}
}

// Case 8: the network between a node and the sentinel is cut and later
// restored: the node notices, retries with backoff, resumes, and the job
// completes correctly.
func TestNetworkCut(t *testing.T) {
	c := newCluster(t, clusterOptions{offlineAfter: 5 * time.Minute, reclaimAfter: 10 * time.Minute})
	proxy := newTCPProxy(t, fmt.Sprintf("127.0.0.1:%d", c.port))
	n := c.startNode("remote", "http://"+proxy.addr)
	cfg := writeConfig(t, c.dir, 300, nil)
	const n2 = 30_000
	id := c.submit(cfg, n2)
	n.waitOutput(t, regexp.MustCompile(`chunk \S+: completed`), time.Minute)
	c.requireUnfinished(id)
	proxy.cut()
	n.waitOutput(t, regexp.MustCompile(`realtime: disconnected`), time.Minute)
	proxy.restore(t)
	j := c.waitJob(id, 3*time.Minute)
	checkEqualsLocal(t, j, localResult(t, cfg, n2))
}

// A second `serve` on a SQLite store another instance serves is refused,
// naming the directory; it starts once the first has stopped.
func TestSecondSQLiteServeRefused(t *testing.T) {
	c := newCluster(t, clusterOptions{sqlite: true})
	args := append([]string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--jwt-secret", c.secret}, c.dbArgs...)
	out, err := exec.Command(bin.sentinel, args...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another sentinel serves the SQLite store in "+c.dbArgs[1]) {
		t.Fatalf("second serve: %v\n%s", err, out)
	}
	c.sentinel.stop(t, syscall.SIGTERM, 30*time.Second)
	second := startProc(t, "second sentinel", bin.sentinel, args...)
	waitFor(t, "the second sentinel to serve", 30*time.Second, func() bool {
		return strings.Contains(second.out.String(), "sentinel serving")
	})
}
