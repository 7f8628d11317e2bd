package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wowlab/internal/pgtest"
)

// bin holds the paths of the binaries built once for all tests.
var bin struct {
	sentinel, node, gui, engine string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wowlab-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, dst := range map[string]*string{"sentinel": &bin.sentinel, "node-headless": &bin.node, "node-gui": &bin.gui, "engine": &bin.engine} {
		*dst = filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", *dst, "./cmd/"+name)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", name, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := pgtest.Run(m)
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// syncBuffer is an output buffer safe to read while a process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running binary whose output is kept for assertions and for
// the log of a failed test.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func startProc(t *testing.T, name, path string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			out := p.out.String()
			if len(out) > 6000 {
				out = "..." + out[len(out)-6000:]
			}
			t.Logf("--- output of %s:\n%s", name, out)
		}
	})
	return p
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) kill() {
	if p.running() {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// stop sends sig and waits for the process to end.
func (p *proc) stop(t *testing.T, sig syscall.Signal, within time.Duration) {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("%s did not exit within %v of %v", p.name, within, sig)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, not synchronising on time
	}
}

// waitOutput waits until the process printed a line matching re and
// returns the first submatch (or the whole match).
func (p *proc) waitOutput(t *testing.T, re *regexp.Regexp, within time.Duration) string {
	t.Helper()
	var got string
	waitFor(t, fmt.Sprintf("%s to print %q", p.name, re), within, func() bool {
		m := re.FindStringSubmatch(p.out.String())
		if m == nil {
			if !p.running() {
				t.Fatalf("%s exited (%v) before printing %q", p.name, p.err, re)
			}
			return false
		}
		got = m[len(m)-1]
		return true
	})
	return got
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// run runs a binary to completion and returns its standard output.
func run(t *testing.T, path string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(path), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// clusterOptions choose the database and the liveness timings.
type clusterOptions struct {
	sqlite bool
	dbURL  string // PostgreSQL server to use; a fresh test database when empty
	// offlineAfter and reclaimAfter shorten the sentinel's liveness rules
	// so failures are noticed within a test's time.
	offlineAfter, reclaimAfter time.Duration
	// chunkTimeout is the sentinel's --chunk-timeout; its default when zero.
	chunkTimeout time.Duration
}

// cluster is a sentinel process with its database, a user and the nodes
// the test started.
type cluster struct {
	t        *testing.T
	opts     clusterOptions
	dir      string
	dbURL    string // the PostgreSQL database; empty on SQLite
	dbArgs   []string
	secret   string
	port     int
	url      string
	anon     string
	userID   string
	token    string
	sentinel *proc
}

func newCluster(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	if o.offlineAfter == 0 {
		o.offlineAfter = 3 * time.Second
	}
	if o.reclaimAfter == 0 {
		o.reclaimAfter = 6 * time.Second
	}
	c := &cluster{t: t, opts: o, dir: t.TempDir(), secret: randomHex(32), port: freePort(t)}
	c.url = fmt.Sprintf("http://127.0.0.1:%d", c.port)
	if o.sqlite {
		c.dbArgs = []string{"--data-dir", filepath.Join(c.dir, "sentinel-data")}
	} else {
		c.dbURL = o.dbURL
		if c.dbURL == "" {
			c.dbURL = pgtest.New(t)
		}
		c.dbArgs = []string{"--database-url", c.dbURL}
	}
	c.admin("migrate")
	c.startSentinel()
	c.anon = strings.TrimSpace(run(t, bin.sentinel, "keys", "anon", "--jwt-secret", c.secret))
	out := c.admin("users", "add", "e2e")
	m := regexp.MustCompile(`id:\s+(\S+)\s+token:\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("users add printed %q", out)
	}
	c.userID, c.token = m[1], m[2]
	return c
}

// admin runs an operator command of the sentinel on the cluster's database.
func (c *cluster) admin(args ...string) string {
	c.t.Helper()
	return run(c.t, bin.sentinel, append(args, c.dbArgs...)...)
}

func (c *cluster) startSentinel() {
	c.t.Helper()
	args := append([]string{"serve",
		"--listen", fmt.Sprintf("127.0.0.1:%d", c.port),
		"--jwt-secret", c.secret,
		"--offline-after", c.opts.offlineAfter.String(),
		"--reclaim-after", c.opts.reclaimAfter.String(),
	}, c.dbArgs...)
	if c.opts.chunkTimeout > 0 {
		args = append(args, "--chunk-timeout", c.opts.chunkTimeout.String())
	}
	c.sentinel = startProc(c.t, "sentinel", bin.sentinel, args...)
	waitFor(c.t, "the sentinel to answer /status", 30*time.Second, func() bool {
		if !c.sentinel.running() {
			c.t.Fatalf("sentinel exited: %v", c.sentinel.err)
		}
		resp, err := http.Get(c.url + "/status")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

var claimCodeLine = regexp.MustCompile(`Claim code: ([A-Z2-7]{6})`)

// startNode starts a node-headless process with its own config directory
// pointing at url (the sentinel, or a proxy in front of it), waits for its
// claim code and claims it for the cluster's user.
func (c *cluster) startNode(name, url string, extra ...string) *proc {
	c.t.Helper()
	return c.startNodeBinary(bin.node, name, url, extra...)
}

// startNodeBinary is startNode with another node-headless binary.
func (c *cluster) startNodeBinary(path, name, url string, extra ...string) *proc {
	c.t.Helper()
	p := c.runNode(path, name, url, extra...)
	code := p.waitOutput(c.t, claimCodeLine, 30*time.Second)
	c.admin("nodes", "claim", strings.ToLower(code[:3])+"-"+code[3:], "--user", c.userID, "--name", name, "--max-parallel", "2")
	p.waitOutput(c.t, regexp.MustCompile(`claimed as`), 30*time.Second)
	return p
}

// runNode starts the node-headless binary at path with the config
// directory of name; a node started before under that name comes back as
// itself.
func (c *cluster) runNode(path, name, url string, extra ...string) *proc {
	c.t.Helper()
	cfg := filepath.Join(c.dir, name)
	args := append([]string{"run",
		"--config-dir", cfg, "--log-dir", filepath.Join(cfg, "logs"),
		"--sentinel-url", url, "--api-url", url, "--anon-key", c.anon,
		"--cores", "2",
		// Other test packages run beside these; at the default idle
		// priority the nodes would wait for them.
		"--priority", "normal",
	}, extra...)
	return startProc(c.t, name, path, args...)
}

// job is what `sentinel jobs status` prints.
type job struct {
	ID                  string     `json:"id"`
	Status              string     `json:"status"`
	TotalIterations     int        `json:"total_iterations"`
	CompletedIterations int        `json:"completed_iterations"`
	Result              *jobResult `json:"result"`
	Error               string     `json:"error"`
}

type jobResult struct {
	MeanDps         float64 `json:"meanDps"`
	StdDps          float64 `json:"stdDps"`
	MinDps          float64 `json:"minDps"`
	MaxDps          float64 `json:"maxDps"`
	TotalIterations int     `json:"totalIterations"`
	ChunksCompleted int     `json:"chunksCompleted"`
}

func (c *cluster) user(args ...string) string {
	c.t.Helper()
	return run(c.t, bin.sentinel, append(args, "--server", c.url, "--token", c.token, "--anon-key", c.anon)...)
}

// submit creates a job over HTTP as the cluster's user.
func (c *cluster) submit(configFile string, iterations int) string {
	c.t.Helper()
	var created struct {
		JobID  string `json:"jobId"`
		Chunks int    `json:"chunks"`
	}
	out := c.user("jobs", "submit", "--config", configFile, "--iterations", fmt.Sprint(iterations))
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.JobID == "" {
		c.t.Fatalf("jobs submit printed %q: %v", out, err)
	}
	return created.JobID
}

func (c *cluster) job(id string) job {
	c.t.Helper()
	var j job
	out := c.user("jobs", "status", id)
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		c.t.Fatalf("jobs status printed %q: %v", out, err)
	}
	return j
}

// waitJob waits until the job is completed or failed.
func (c *cluster) waitJob(id string, within time.Duration) job {
	c.t.Helper()
	var j job
	waitFor(c.t, "job "+id+" to finish", within, func() bool {
		j = c.job(id)
		return j.Status == "completed" || j.Status == "failed"
	})
	return j
}

// localResult is `engine sim` over the same config and iterations.
func localResult(t *testing.T, configFile string, iterations int) jobResult {
	t.Helper()
	out := run(t, bin.engine, "sim", "--config", configFile, "--iterations", fmt.Sprint(iterations), "--output", "json")
	var r struct {
		Iterations int     `json:"iterations"`
		MeanDps    float64 `json:"meanDps"`
		StdDps     float64 `json:"stdDps"`
		MinDps     float64 `json:"minDps"`
		MaxDps     float64 `json:"maxDps"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("engine sim printed %q: %v", out, err)
	}
	return jobResult{MeanDps: r.MeanDps, StdDps: r.StdDps, MinDps: r.MinDps, MaxDps: r.MaxDps, TotalIterations: r.Iterations}
}

// checkEqualsLocal compares a finished job with the local run: counts and
// min/max exactly, mean and std to a relative 1e-9. A job's chunks are
// sized to its nodes, and a split range may leave a part of any size: there
// are between one and as many as iterations.
func checkEqualsLocal(t *testing.T, j job, local jobResult) {
	t.Helper()
	if j.Status != "completed" || j.Result == nil {
		t.Fatalf("job ended %q (%s), want completed", j.Status, j.Error)
	}
	r := *j.Result
	rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }
	if r.TotalIterations != local.TotalIterations || j.CompletedIterations != local.TotalIterations || r.ChunksCompleted < 1 || r.ChunksCompleted > local.TotalIterations {
		t.Errorf("iterations %d (completed %d), chunks %d; want %d iterations in 1 to %d chunks", r.TotalIterations, j.CompletedIterations, r.ChunksCompleted, local.TotalIterations, local.TotalIterations)
	}
	if r.MinDps != local.MinDps || r.MaxDps != local.MaxDps {
		t.Errorf("min/max %v/%v, local %v/%v", r.MinDps, r.MaxDps, local.MinDps, local.MaxDps)
	}
	if rel(r.MeanDps, local.MeanDps) > 1e-9 || rel(r.StdDps, local.StdDps) > 1e-9 {
		t.Errorf("mean/std %v/%v, local %v/%v", r.MeanDps, r.StdDps, local.MeanDps, local.StdDps)
	}
}

// writeConfig writes the bundled BM example with a shorter fight (the
// tests are about the system, not about long fights) and returns its path.
func writeConfig(t *testing.T, dir string, duration float64, edit func(map[string]any)) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "examples", "bm_hunter.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["duration"] = duration
	if edit != nil {
		edit(doc)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("config-%s.json", randomHex(4)))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ctx is a test-length context for calls made from the test itself.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}
