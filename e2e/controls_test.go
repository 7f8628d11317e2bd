package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ctlStatus is what `ctl status --json` prints, as far as these tests read it.
type ctlStatus struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
	NodeID string `json:"nodeId"`
	Stats  struct {
		MaxWorkers int `json:"maxWorkers"`
	} `json:"stats"`
}

// ctl runs `node-headless ctl ARGS` against the node with config
// directory of name and returns its output.
func (c *cluster) ctl(name string, args ...string) string {
	c.t.Helper()
	return run(c.t, bin.node, append([]string{"ctl", "--config-dir", filepath.Join(c.dir, name)}, args...)...)
}

func (c *cluster) ctlStatus(name string) ctlStatus {
	c.t.Helper()
	var s ctlStatus
	out := c.ctl(name, "status", "--json")
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		c.t.Fatalf("ctl status --json printed %q: %v", out, err)
	}
	return s
}

// nodeCapacity reads the capacity the sentinel holds for a node; -1: none.
func (c *cluster) nodeCapacity(conn *pgx.Conn, nodeID string) int {
	c.t.Helper()
	var capacity *int
	if err := conn.QueryRow(ctx(c.t), `SELECT capacity FROM nodes WHERE id = $1`, nodeID).Scan(&capacity); err != nil {
		c.t.Fatal(err)
	}
	if capacity == nil {
		return -1
	}
	return *capacity
}

// runningOn lists the chunks the sentinel counts as running on a node.
func (c *cluster) runningOn(conn *pgx.Conn, nodeID string) []string {
	c.t.Helper()
	rows, err := conn.Query(ctx(c.t), `SELECT id::text FROM jobs_chunks WHERE node_id = $1 AND status = 'running' ORDER BY id`, nodeID)
	if err != nil {
		c.t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		c.t.Fatal(err)
	}
	return ids
}

var assignedLine = regexp.MustCompile(`chunk \S+: assigned`)

// The volunteer's controls through `ctl` on a running node, against the
// real sentinel on PostgreSQL: pause (the sentinel stops assigning within
// 2 s, the other node finishes the job with the local engine's result),
// resume, cores 1 and 2 (the pool and the sentinel's capacity follow),
// finish (the node exits 0 after its last chunk, nothing lost or counted
// twice). The other node is started with only --sentinel-url.
func TestVolunteerControls(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	conn, err := pgx.Connect(ctx(t), c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx(t))

	a := c.startNode("a", c.url)
	b := c.startNodeWithSentinelURLOnly("b")
	aID := c.ctlStatus("a").NodeID
	waitFor(t, "node a's capacity", 30*time.Second, func() bool { return c.nodeCapacity(conn, aID) == 2 })

	// Pause: within 2 s the sentinel gives a nothing more.
	cfg := writeConfig(t, c.dir, 1200, nil)
	const n1 = 16_000
	job1 := c.submit(cfg, n1)
	a.waitOutput(t, assignedLine, time.Minute)
	c.requireUnfinished(job1)
	paused := time.Now()
	if out := c.ctl("a", "pause"); !strings.Contains(out, "Paused.") {
		t.Fatalf("ctl pause printed %q", out)
	}
	waitFor(t, "the sentinel to see node a paused", 2*time.Second-time.Since(paused), func() bool { return c.nodeCapacity(conn, aID) == 0 })
	held := c.runningOn(conn, aID)
	assigned := len(assignedLine.FindAllString(a.out.String(), -1))
	if s := c.ctlStatus("a"); s.State != "paused" || s.Reason != "user" {
		t.Fatalf("ctl status: %+v, want paused by the user", s)
	}
	waitFor(t, "job 1 to finish on node b", 3*time.Minute, func() bool {
		for _, id := range c.runningOn(conn, aID) {
			if !slices.Contains(held, id) {
				t.Fatalf("chunk %s was assigned to the paused node", id)
			}
		}
		j := c.job(job1)
		return j.Status == "completed" || j.Status == "failed"
	})
	checkEqualsLocal(t, c.job(job1), localResult(t, cfg, n1))
	c.checkChunksCompletedOnce(job1, n1)
	if got := len(assignedLine.FindAllString(a.out.String(), -1)); got != assigned {
		t.Errorf("the paused node started %d chunks", got-assigned)
	}

	// Resume: a works again.
	cfg2 := writeConfig(t, c.dir, 2400, nil)
	const n2 = 16_000
	c.ctl("a", "resume")
	waitFor(t, "the sentinel to see node a resumed", 10*time.Second, func() bool { return c.nodeCapacity(conn, aID) == 2 })
	job2 := c.submit(cfg2, n2)
	waitFor(t, "node a to take a chunk again", time.Minute, func() bool {
		return len(assignedLine.FindAllString(a.out.String(), -1)) > assigned
	})

	// Cores 1, then 2: the pool and the sentinel's capacity follow.
	for _, cores := range []int{1, 2} {
		if out := c.ctl("a", "set", "cores", fmt.Sprint(cores)); !strings.Contains(out, fmt.Sprintf("cores = %d", cores)) {
			t.Fatalf("ctl set cores %d printed %q", cores, out)
		}
		waitFor(t, fmt.Sprintf("capacity %d at the sentinel", cores), 10*time.Second, func() bool { return c.nodeCapacity(conn, aID) == cores })
		if s := c.ctlStatus("a"); s.Stats.MaxWorkers != cores {
			t.Fatalf("after set cores %d: %d workers", cores, s.Stats.MaxWorkers)
		}
	}
	c.requireUnfinished(job2)

	// Finish: a stops taking chunks, finishes what it holds and exits 0.
	if out := c.ctl("a", "finish"); !strings.Contains(out, "Finishing") {
		t.Fatalf("ctl finish printed %q", out)
	}
	waitFor(t, "the sentinel to see node a finishing", 2*time.Second, func() bool { return c.nodeCapacity(conn, aID) == 0 })
	select {
	case <-a.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("node a did not exit after finishing")
	}
	if a.err != nil {
		t.Fatalf("node a exited with %v after finishing", a.err)
	}
	if !strings.Contains(a.out.String(), "finished: every chunk is done") {
		t.Errorf("node a did not say it finished")
	}
	if left := c.runningOn(conn, aID); len(left) != 0 {
		t.Errorf("chunks still running on the finished node: %v", left)
	}
	j2 := c.waitJob(job2, 4*time.Minute)
	checkEqualsLocal(t, j2, localResult(t, cfg2, n2))
	c.checkChunksCompletedOnce(job2, n2)
	if !b.running() {
		t.Fatalf("node b stopped: %v", b.err)
	}
}

// startNodeWithSentinelURLOnly starts a node given nothing but the
// sentinel's address (it learns the rest from /bootstrap), checks that its
// claim message names the sentinel's claim page, and claims it.
func (c *cluster) startNodeWithSentinelURLOnly(name string) *proc {
	c.t.Helper()
	cfg := filepath.Join(c.dir, name)
	p := startProc(c.t, name, bin.node, "run", "--config-dir", cfg, "--log-dir", filepath.Join(cfg, "logs"),
		"--sentinel-url", c.url, "--cores", "2", "--priority", "normal")
	code := p.waitOutput(c.t, claimCodeLine, 30*time.Second)
	if page := fmt.Sprintf("Open %s/claim?code=%s", c.url, code); !strings.Contains(p.out.String(), page) {
		c.t.Errorf("the claim message does not say %q", page)
	}
	c.admin("nodes", "claim", strings.ToLower(code[:3])+"-"+code[3:], "--user", c.userID, "--name", name, "--max-parallel", "2")
	p.waitOutput(c.t, regexp.MustCompile(`claimed as`), 30*time.Second)
	raw, err := os.ReadFile(filepath.Join(cfg, "config.ini"))
	if err != nil {
		c.t.Fatal(err)
	}
	for _, want := range []string{"sentinel_url = " + c.url, "api_url      = " + c.url} {
		if !strings.Contains(strings.Join(strings.Fields(string(raw)), " "), strings.Join(strings.Fields(want), " ")) {
			c.t.Errorf("config.ini does not hold %q:\n%s", want, raw)
		}
	}
	return p
}
