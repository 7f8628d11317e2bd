package e2e

import (
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var assignedSizeLine = regexp.MustCompile(`chunk \S+: assigned, (\d+) iterations from (\d+)`)

// assignedSizes lists the iterations of every chunk a node's output says
// it was assigned.
func assignedSizes(p *proc) []int {
	var out []int
	for _, m := range assignedSizeLine.FindAllStringSubmatch(p.out.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// A job run by a node taking sized chunks and one announcing nothing (an
// original node: chunks of exactly 1 000) merges to the local engine's
// result; the sized node is given chunks beyond 1 000 once it measured
// its speed.
func TestMixedChunkSizesEqualLocal(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	sized := c.startNode("sized", c.url)
	fixed := c.startNode("fixed", c.url, "--fixed-chunks")
	cfg := writeConfig(t, c.dir, 300, nil)
	const n = 60_000
	id := c.submit(cfg, n)
	j := c.waitJob(id, 3*time.Minute)
	checkEqualsLocal(t, j, localResult(t, cfg, n))
	fixedSizes, sizedSizes := assignedSizes(fixed), assignedSizes(sized)
	if len(fixedSizes) == 0 {
		t.Fatal("the fixed-chunk node was given no chunk")
	}
	for _, s := range fixedSizes {
		if s != 1000 {
			t.Fatalf("the fixed-chunk node was given a chunk of %d iterations (all: %v)", s, fixedSizes)
		}
	}
	largest := 0
	for _, s := range sizedSizes {
		largest = max(largest, s)
	}
	if largest <= 1000 {
		t.Fatalf("the sized node was given no chunk beyond 1 000 iterations: %v", sizedSizes)
	}
}

// A node killed while it runs a sized chunk has that chunk's range
// finished by the other node, with the local engine's result.
func TestKilledSizedChunkIsFinishedByOthers(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	victim := c.startNode("victim", c.url)
	survivor := c.startNode("survivor", c.url, "--fixed-chunks")
	cfg := writeConfig(t, c.dir, 300, nil)
	const n = 80_000
	id := c.submit(cfg, n)
	victim.waitOutput(t, regexp.MustCompile(`chunk \S+: assigned, ([2-9]\d{3}|\d{5,}) iterations`), 2*time.Minute)
	c.requireUnfinished(id)
	victim.stop(t, syscall.SIGKILL, 10*time.Second)
	j := c.waitJob(id, 3*time.Minute)
	checkEqualsLocal(t, j, localResult(t, cfg, n))
	if len(assignedSizes(survivor)) == 0 {
		t.Fatal("the survivor was given no chunk")
	}
}

// A job of 10^9 iterations writes chunk rows for the work handed out, not
// for its size; cancelled, it ends (failed, with the cancel as its error)
// with none running.
func TestHugeJobWritesRowsForTheWorkHandedOut(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	c.startNode("a", c.url)
	c.startNode("b", c.url, "--fixed-chunks")
	cfg := writeConfig(t, c.dir, 300, nil)
	const n = 1_000_000_000
	id := c.submit(cfg, n)
	waitFor(t, "the job to pass 50 000 iterations", 3*time.Minute, func() bool { return c.job(id).CompletedIterations >= 50_000 })
	c.user("jobs", "cancel", id)
	conn, err := pgx.Connect(ctx(t), c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx(t))
	var rows, running int
	var handedOut int64
	if err := conn.QueryRow(ctx(t), `SELECT count(*), count(*) FILTER (WHERE status = 'running'), coalesce(sum(iterations), 0)
		FROM jobs_chunks WHERE job_id = $1`, id).Scan(&rows, &running, &handedOut); err != nil {
		t.Fatal(err)
	}
	j := c.job(id)
	t.Logf("cancelled at %d of %d iterations: %d chunk rows holding %d iterations", j.CompletedIterations, n, rows, handedOut)
	if j.Status != "failed" || running != 0 {
		t.Fatalf("after the cancel the job is %q with %d chunks running", j.Status, running)
	}
	// Every row holds at least 1 000 iterations, and what was handed out is
	// what the nodes could do in the time: a millionth of the job's rows.
	if rows < 1 || int64(rows) > handedOut/1000 || handedOut > 10*int64(j.CompletedIterations)+1_000_000 {
		t.Fatalf("%d rows for %d iterations handed out (%d completed)", rows, handedOut, j.CompletedIterations)
	}
}
