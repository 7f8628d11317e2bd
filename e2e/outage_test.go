package e2e

import (
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Case 9: the sentinel is killed mid-job and comes back after an outage
// longer than the node's old patience (15 s), or longer than the chunk
// time limit; in one case the node restarts too while the sentinel is
// away. Each time the node keeps what it finished, delivers it when the
// sentinel is back, and the job completes with the local engine's result,
// every chunk completed once and no attempt counted.
func TestSentinelOutage(t *testing.T) {
	for _, tc := range []struct {
		name        string
		outage      time.Duration
		opts        clusterOptions
		restartNode bool
	}{
		{name: "25s", outage: 25 * time.Second},
		// The node is silent for longer than the chunk limit, but not
		// long enough to be reclaimed: only the sentinel's timeout rule
		// keeps those chunks from being counted as failed attempts.
		{name: "90s over the chunk limit", outage: 90 * time.Second,
			opts: clusterOptions{chunkTimeout: time.Minute, offlineAfter: 3 * time.Second, reclaimAfter: 10 * time.Minute}},
		{name: "25s with a node restart", outage: 25 * time.Second, restartNode: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sentinelOutage(t, tc.opts, tc.outage, tc.restartNode)
		})
	}
}

var (
	resultKeptLine  = regexp.MustCompile(`result is kept until it takes it`)
	keptForNextLine = regexp.MustCompile(`results kept for the next start of the node`)
	deliverKeptLine = regexp.MustCompile(`delivering results kept from the last run`)
)

func sentinelOutage(t *testing.T, opts clusterOptions, outage time.Duration, restartNode bool) {
	c := newCluster(t, opts)
	n := c.startNode("node", c.url)
	cfg := writeConfig(t, c.dir, 300, nil)
	const iterations = 60_000
	id := c.submit(cfg, iterations)
	n.waitOutput(t, regexp.MustCompile(`chunk \S+: completed`), time.Minute)
	c.requireUnfinished(id)
	c.sentinel.stop(t, syscall.SIGKILL, 10*time.Second)
	killed := time.Now()
	// The chunks the node was given finish while the sentinel is away.
	n.waitOutput(t, resultKeptLine, time.Minute)
	if restartNode {
		// Owed results are in the journal: the drain does not wait for
		// the sentinel (its limit is the grace period of 30 s).
		n.stop(t, syscall.SIGTERM, 20*time.Second)
		n.waitOutput(t, keptForNextLine, time.Second)
		n = c.runNode(bin.node, "node", c.url)
		n.waitOutput(t, deliverKeptLine, 30*time.Second)
	}
	// The outage itself is the scenario: it is waited out, nothing else.
	time.Sleep(time.Until(killed.Add(outage)))
	c.startSentinel()
	j := c.waitJob(id, 4*time.Minute)
	checkEqualsLocal(t, j, localResult(t, cfg, iterations))
	c.checkChunksCompletedOnce(id, iterations)
}

// checkChunksCompletedOnce reads the job's chunk rows in the database:
// each is completed with a result and no failed attempt counted, they hold
// the job's iterations, and the job counted each chunk's iterations once.
func (c *cluster) checkChunksCompletedOnce(jobID string, iterations int) {
	c.t.Helper()
	conn, err := pgx.Connect(ctx(c.t), c.dbURL)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close(ctx(c.t))
	var total, completed, failedAttempts, withResult, sum, counted int
	err = conn.QueryRow(ctx(c.t), `SELECT count(*), count(*) FILTER (WHERE c.status = 'completed'),
			coalesce(sum(c.attempts), 0), count(c.result), coalesce(sum(c.iterations), 0), max(j.completed_iterations)
		FROM jobs_chunks c JOIN jobs j ON j.id = c.job_id WHERE c.job_id = $1`, jobID).
		Scan(&total, &completed, &failedAttempts, &withResult, &sum, &counted)
	if err != nil {
		c.t.Fatal(err)
	}
	if total == 0 || completed != total || withResult != total || failedAttempts != 0 || counted != sum || sum != iterations {
		c.t.Errorf("chunks: %d rows, %d completed, %d with a result, %d failed attempts; job counted %d of %d iterations",
			total, completed, withResult, failedAttempts, counted, sum)
	}
}
