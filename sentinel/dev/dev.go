// Package dev runs a whole WoWLab cluster in one process, like `nomad
// agent -dev`: a sentinel on the embedded SQLite store in a data directory,
// a generated JWT secret and anon key, a user, and N nodes built from the
// real node library (real signing, real HTTP and WebSockets on loopback,
// the real engine), registered and claimed, ready to take jobs.
package dev

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"wowlab/node"
	"wowlab/node/policy"
	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/sentinel/server"
	"wowlab/sentinel/store/sqlite"
)

// Options configure a Cluster. The zero value runs two nodes on a
// temporary directory and a free loopback port.
type Options struct {
	// DataDir holds the database, the nodes' config directories and the
	// token file. Empty: a temporary directory, removed by Close.
	DataDir string
	// Listen is the sentinel's address; empty: 127.0.0.1 on a free port.
	Listen string
	// Nodes is how many in-process nodes to run; 0 means 2.
	Nodes int
	// NodeCores is how many cores each node simulates on; 0 shares the
	// machine's cores among the nodes (at least one each).
	NodeCores int
	// Logger receives the sentinel's and nodes' logs; discarded when nil.
	Logger *slog.Logger
}

// Cluster is a running dev cluster.
type Cluster struct {
	// DataDir is the cluster's directory; TokenFile holds the dev user's
	// token.
	DataDir, TokenFile string
	// URL is the sentinel's base URL (node API, REST and Realtime).
	URL string
	// AnonKey is the apikey of every REST and Realtime request.
	AnonKey string
	// UserID and UserToken identify the dev user, who owns the nodes.
	UserID, UserToken string

	tempDir bool
	store   *sqlite.Store
	server  *server.Server
	nodes   []*node.Core
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	log     *slog.Logger
}

// Start brings the cluster up and returns once every node is claimed and
// running.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Nodes == 0 {
		o.Nodes = 2
	}
	if o.Nodes < 1 || o.Nodes > 64 {
		return nil, fmt.Errorf("dev: %d nodes: use 1 to 64", o.Nodes)
	}
	if o.NodeCores == 0 {
		o.NodeCores = max(1, runtime.NumCPU()/o.Nodes)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{DataDir: o.DataDir, log: o.Logger}
	if c.DataDir == "" {
		if c.DataDir, err = os.MkdirTemp("", "wowlab-dev-"); err != nil {
			return nil, fmt.Errorf("dev: %w", err)
		}
		c.tempDir = true
	} else if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	defer func() {
		if err != nil {
			c.Close(context.Background())
		}
	}()

	if c.store, err = sqlite.Open(ctx, filepath.Join(c.DataDir, "sentinel.db")); err != nil {
		return nil, err
	}
	if err := c.store.Migrate(ctx); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	secret = []byte(hex.EncodeToString(secret))
	if c.AnonKey, err = sentinel.AnonKey(secret, time.Now()); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("dev: listen on %s: %w", o.Listen, err)
	}
	if c.server, err = server.Start(server.Config{Store: c.store, JWTSecret: secret, Logger: o.Logger}, ln); err != nil {
		ln.Close()
		return nil, err
	}
	c.URL = c.server.URL()
	svc := c.server.Service()
	user, token, err := svc.AddUser(ctx, "dev")
	if err != nil {
		return nil, err
	}
	c.UserID, c.UserToken = user.ID, token
	c.TokenFile = filepath.Join(c.DataDir, "dev-user-token")
	if err := os.WriteFile(c.TokenFile, []byte(token+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("dev: write token file: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	for i := range o.Nodes {
		if err := c.startNode(ctx, runCtx, i, o.NodeCores); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// startNode runs node i and claims it for the dev user.
func (c *Cluster) startNode(ctx, runCtx context.Context, i, cores int) error {
	name := fmt.Sprintf("dev-node-%d", i+1)
	core, err := node.New(node.Options{
		ConfigDir: filepath.Join(c.DataDir, "nodes", name),
		Overrides: node.Overrides{APIURL: c.URL, SentinelURL: c.URL, AnonKey: c.AnonKey},
		Policy:    coresPolicy(cores),
		Version:   "dev",
		Logger:    c.log.With("node", name),
	})
	if err != nil {
		return fmt.Errorf("dev: %s: %w", name, err)
	}
	events, unsubscribe := core.Subscribe(64)
	defer unsubscribe()
	c.nodes = append(c.nodes, core)
	c.wg.Go(func() {
		if err := core.Run(runCtx); err != nil {
			c.log.Error("node stopped", "node", name, "err", err)
		}
	})
	claimed := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-events:
			if !ok {
				return fmt.Errorf("dev: %s stopped while starting", name)
			}
			if e.Kind != node.StateChanged {
				continue
			}
			switch e.State.Phase {
			case node.Claiming:
				if claimed {
					continue
				}
				max := cores
				if _, err := c.server.Service().ClaimNode(ctx, sentinel.ClaimRequest{
					UserID: c.UserID, Code: e.State.ClaimCode, Name: &name, MaxParallel: &max,
				}); err != nil {
					return fmt.Errorf("dev: claim %s: %w", name, err)
				}
				claimed = true
			case node.Running:
				return nil
			}
		}
	}
}

// Nodes returns the in-process nodes.
func (c *Cluster) Nodes() []*node.Core { return c.nodes }

// Service is the sentinel's service, for in-process calls.
func (c *Cluster) Service() *sentinel.Service { return c.server.Service() }

// Outcome is a finished job.
type Outcome struct {
	JobID  string
	Chunks int
	Status string
	Result protocol.JobResult
	Error  string
	Wall   time.Duration
}

// RunJob submits config as the dev user, waits for the job to finish and
// returns its outcome; progress, when set, is called with the completed
// iterations as they rise.
func (c *Cluster) RunJob(ctx context.Context, config []byte, iterations int, progress func(done int)) (Outcome, error) {
	start := time.Now()
	svc := c.server.Service()
	created, err := svc.CreateJob(ctx, c.UserID, sentinel.JobRequest{Config: config, Iterations: iterations})
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{JobID: created.JobID, Chunks: created.Chunks}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last := -1
	for {
		j, err := svc.Job(ctx, c.UserID, created.JobID)
		if err != nil {
			return out, err
		}
		if progress != nil && j.CompletedIterations != last {
			last = j.CompletedIterations
			progress(last)
		}
		switch j.Status {
		case protocol.StatusCompleted:
			out.Status, out.Wall = j.Status, time.Since(start)
			if err := json.Unmarshal(j.Result, &out.Result); err != nil {
				return out, fmt.Errorf("dev: job result: %w", err)
			}
			return out, nil
		case protocol.StatusFailed:
			out.Status, out.Error, out.Wall = j.Status, j.Error, time.Since(start)
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-tick.C:
		}
	}
}

// Close stops the nodes (they hand back unfinished work), the sentinel and
// the store, and removes a temporary data directory.
func (c *Cluster) Close(ctx context.Context) error {
	var errs []error
	if c.cancel != nil {
		c.cancel()
		c.wg.Wait()
	}
	if c.server != nil {
		errs = append(errs, c.server.Shutdown(ctx))
	}
	if c.store != nil {
		errs = append(errs, c.store.Close())
	}
	if c.tempDir {
		errs = append(errs, os.RemoveAll(c.DataDir))
	}
	return errors.Join(errs...)
}

// coresPolicy sets the cores of a dev node; 0 keeps the machine's default.
func coresPolicy(cores int) policy.Overrides {
	if cores <= 0 {
		return nil
	}
	return policy.Overrides{"cores": strconv.Itoa(cores)}
}
