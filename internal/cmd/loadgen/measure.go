package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"wowlab/examples"
	"wowlab/sentinel"
	"wowlab/supabase"
)

// report is what a run measured.
type report struct {
	Nodes      int     `json:"nodes"`
	Instances  int     `json:"instances"`
	Cores      int     `json:"cores"`
	Rate       float64 `json:"ratePerCore"`
	Sized      bool    `json:"sizedChunks"`
	Iterations int64   `json:"iterations"`
	// Database is the database the run created (and dropped).
	Database string `json:"database"`

	Ready          int              `json:"nodesReady"`
	ConnectSeconds float64          `json:"connectSeconds"`
	Connect        map[string]usage `json:"connectUsage"`
	Idle           map[string]usage `json:"idleUsage"`

	JobCompleted       bool             `json:"jobCompleted"`
	JobSeconds         float64          `json:"jobSeconds"`
	IdealSeconds       float64          `json:"idealSeconds"`
	Job                map[string]usage `json:"jobUsage"`
	AssignP50Ms        float64          `json:"assignP50Ms"`
	AssignP99Ms        float64          `json:"assignP99Ms"`
	AssignMaxMs        float64          `json:"assignMaxMs"`
	Completions        int              `json:"completions"`
	CompletionsPerSec  float64          `json:"completionsPerSec"`
	PeakCompletionsSec float64          `json:"peakCompletionsPerSec"`
	IterationsPerSec   float64          `json:"iterationsPerSec"`
	Utilisation        float64          `json:"utilisation"`
	// BusyByTenth is the share of the fleet's cores running a chunk in
	// each tenth of the job's wall time, sampled: where the idle time is.
	BusyByTenth []float64 `json:"busyByTenth"`

	ChunkRows       int   `json:"chunkRows"`
	ChunksLost      int   `json:"chunksLost"`
	AssignedTwice   int64 `json:"chunksAssignedTwice"`
	DuplicateFrames int64 `json:"duplicateFrames"`
	CompleteErrors  int64 `json:"completeErrors"`
	HeartbeatErrors int64 `json:"heartbeatErrors"`

	// LoadgenShare is this process's CPU over the whole run as a share of
	// the machine (all cores).
	LoadgenShare float64 `json:"loadgenMachineShare"`
}

// idleWindow is how long the connected fleet is watched doing nothing,
// for the idle CPU and memory figures.
const idleWindow = 3 * time.Second

// measure runs the whole load test and cleans up after it.
func measure(ctx context.Context, o options, log *slog.Logger) (_ *report, err error) {
	runStart := time.Now()
	c, err := startCluster(ctx, o)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := c.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	rep := &report{Nodes: o.nodes, Instances: o.instances, Cores: o.cores, Rate: o.rate, Sized: o.sized, Iterations: int64(o.iterations), Database: c.dbName}
	smp := newSampler(c.pids(), c.dbName)
	stopSampling := sampleEvery(smp, 500*time.Millisecond)
	defer stopSampling()

	// The nodes live until the end of the run; connecting them is timed.
	nodeCtx, stopNodes := context.WithCancel(ctx)
	defer stopNodes()
	f := newFleet(o, c, log)
	start := time.Now()
	smp.reset(start)
	rep.Ready, err = f.connect(nodeCtx)
	now := time.Now()
	smp.sample()
	rep.ConnectSeconds, rep.Connect = now.Sub(start).Seconds(), smp.window(now)
	if err != nil {
		return nil, fmt.Errorf("connect (%d of %d ready after %.1fs): %w", rep.Ready, o.nodes, rep.ConnectSeconds, err)
	}

	smp.reset(time.Now())
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(idleWindow):
	}
	smp.sample()
	rep.Idle = smp.window(time.Now())

	// The measurement starts before the job exists: its first chunks may
	// be assigned and completed before the submission's answer arrives.
	start = time.Now()
	smp.reset(start)
	f.beginJob(start)
	stopBusy := f.sampleBusy(start, 100*time.Millisecond)
	jobID, err := submit(ctx, c, o.iterations)
	if err != nil {
		return nil, err
	}
	rep.JobCompleted, err = waitJob(ctx, c, jobID)
	if !rep.JobCompleted {
		for i := range c.logs {
			log.Warn("job not completed; the end of the sentinel's log follows", "instance", i, "log", c.logTail(i))
		}
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	now = time.Now()
	smp.sample()
	rep.Job = smp.window(now)
	s := f.stats(now)
	rep.BusyByTenth = tenths(stopBusy(), s.wall, float64(o.nodes*o.cores))
	rep.JobSeconds = s.wall.Seconds()
	rep.IdealSeconds = float64(o.iterations) / (float64(o.nodes*o.cores) * o.rate)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	rep.AssignP50Ms, rep.AssignP99Ms = ms(percentile(s.latencies, 50)), ms(percentile(s.latencies, 99))
	rep.AssignMaxMs = ms(percentile(s.latencies, 100))
	rep.Completions, rep.CompletionsPerSec, rep.PeakCompletionsSec = s.completions, s.meanPerSec, s.peakPerSec
	if s.wall > 0 {
		rep.IterationsPerSec = float64(s.iterations) / s.wall.Seconds()
		rep.Utilisation = s.busy.Seconds() / (float64(o.nodes*o.cores) * s.wall.Seconds())
	}
	stopNodes()
	if rep.ChunkRows, rep.ChunksLost, err = checkChunks(context.WithoutCancel(ctx), c, jobID, o.iterations); err != nil {
		return nil, err
	}
	rep.AssignedTwice, rep.DuplicateFrames = f.assignedTwice.Load(), f.dupFrames.Load()
	rep.CompleteErrors, rep.HeartbeatErrors = f.completeErrs.Load(), f.heartbeatErrs.Load()
	if self, err := readProc(os.Getpid(), false); err == nil {
		rep.LoadgenShare = self.cpu.Seconds() / (time.Since(runStart).Seconds() * float64(runtime.NumCPU()))
	}
	return rep, nil
}

// sampleEvery samples s in the background until the returned stop is called.
func sampleEvery(s *sampler, every time.Duration) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return func() { close(done); <-exited }
}

// submit creates the job as the cluster's user, over the REST gateway.
func submit(ctx context.Context, c *cluster, iterations int) (string, error) {
	cfg, err := examples.FS.ReadFile("bm_hunter.json")
	if err != nil {
		return "", err
	}
	rest, err := supabase.NewREST(c.urls[0], c.anonKey, supabase.RESTOptions{Token: c.userToken})
	if err != nil {
		return "", err
	}
	var created sentinel.JobCreated
	if err := rest.RPC(ctx, "create_job", sentinel.JobRequest{Config: cfg, Iterations: iterations, AccessType: sentinel.AccessPrivate}, &created); err != nil {
		return "", fmt.Errorf("create job: %w", err)
	}
	return created.JobID, nil
}

// waitJob polls the job's status until it is completed or failed.
func waitJob(ctx context.Context, c *cluster, id string) (bool, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		j, err := c.svc.Job(ctx, c.userID, id)
		switch {
		case err != nil && ctx.Err() != nil:
			return false, ctx.Err()
		case err != nil:
			return false, fmt.Errorf("read job: %w", err)
		case j.Status == "completed":
			return true, nil
		case j.Status == "failed":
			return false, fmt.Errorf("job failed: %s", j.Error)
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

// checkChunks reads the job's chunk rows and counts those not completed
// and the iterations the completed ones miss or cover twice: a complete
// job's completed chunks cover [0, iterations) exactly once.
func checkChunks(ctx context.Context, c *cluster, jobID string, iterations int) (rows, lost int, err error) {
	conn, err := pgx.Connect(ctx, c.dbURL)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	r, err := conn.Query(ctx, `SELECT seed_offset, iterations, status FROM jobs_chunks WHERE job_id = $1 ORDER BY seed_offset`, jobID)
	if err != nil {
		return 0, 0, fmt.Errorf("read chunks: %w", err)
	}
	next := 0
	for r.Next() {
		var off, n int
		var status string
		if err := r.Scan(&off, &n, &status); err != nil {
			return 0, 0, err
		}
		rows++
		if status != "completed" || off != next {
			lost++
		}
		next = max(next, off+n)
	}
	if err := r.Err(); err != nil {
		return 0, 0, err
	}
	if next != iterations {
		lost++
	}
	return rows, lost, nil
}

func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	chunks := "fixed 1000-iteration chunks"
	if r.Sized {
		chunks = "sized chunks"
	}
	p("fleet\t%d nodes x %d cores at %.0f it/s per core, %s, %d instance(s)", r.Nodes, r.Cores, r.Rate, chunks, r.Instances)
	p("connect\t%d ready in %.1fs", r.Ready, r.ConnectSeconds)
	for _, ph := range []struct {
		name string
		u    map[string]usage
	}{{"connect", r.Connect}, {"idle", r.Idle}, {"job", r.Job}} {
		for _, g := range []string{"sentinel", "postgres", "loadgen"} {
			u := ph.u[g]
			p("%s cpu/mem\t%s %.2f cores (%.1f cpu-s), peak %.0f MiB", ph.name, g, u.CPUShare, u.CPUSeconds, u.PeakRSSMiB)
		}
	}
	p("job\t%d iterations, completed %v in %.2fs (ideal %.2fs)", r.Iterations, r.JobCompleted, r.JobSeconds, r.IdealSeconds)
	p("assignment latency\tp50 %.1f ms, p99 %.1f ms, max %.1f ms", r.AssignP50Ms, r.AssignP99Ms, r.AssignMaxMs)
	p("completions\t%d, %.0f/s mean, %.0f/s peak", r.Completions, r.CompletionsPerSec, r.PeakCompletionsSec)
	p("coordinated\t%.0f iterations/s", r.IterationsPerSec)
	p("utilisation\t%.1f%% (busy / available core time)", 100*r.Utilisation)
	if len(r.BusyByTenth) > 0 {
		var b strings.Builder
		for i, v := range r.BusyByTenth {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.0f%%", 100*v)
		}
		p("busy by tenth of job\t%s", b.String())
	}
	p("chunk rows\t%d; lost %d, assigned twice %d, duplicate frames %d", r.ChunkRows, r.ChunksLost, r.AssignedTwice, r.DuplicateFrames)
	p("errors\t%d completion attempts (each retried), %d heartbeats", r.CompleteErrors, r.HeartbeatErrors)
	p("loadgen\t%.1f%% of the machine's CPU", 100*r.LoadgenShare)
	tw.Flush()
}

// busySample is how many of the fleet's cores ran a chunk at a moment of
// the job.
type busySample struct {
	at    time.Duration // since the job's start
	cores int64
}

// sampleBusy records the fleet's running cores every period from start
// until the returned function is called; that returns the samples.
func (f *fleet) sampleBusy(start time.Time, period time.Duration) func() []busySample {
	var (
		mu      sync.Mutex
		samples []busySample
	)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				mu.Lock()
				samples = append(samples, busySample{at: now.Sub(start), cores: f.runningCores.Load()})
				mu.Unlock()
			}
		}
	}()
	return func() []busySample {
		close(done)
		<-stopped
		return samples
	}
}

// tenths averages samples over each tenth of wall, as a share of total
// cores; a tenth without a sample is 0.
func tenths(samples []busySample, wall time.Duration, total float64) []float64 {
	if wall <= 0 || total <= 0 {
		return nil
	}
	sum, n := make([]float64, 10), make([]int, 10)
	for _, s := range samples {
		i := int(10 * s.at / wall)
		if i < 0 || i >= 10 {
			continue
		}
		sum[i] += float64(s.cores)
		n[i]++
	}
	out := make([]float64, 10)
	for i := range out {
		if n[i] > 0 {
			out[i] = sum[i] / float64(n[i]) / total
		}
	}
	return out
}
