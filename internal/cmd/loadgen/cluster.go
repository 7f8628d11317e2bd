package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// cluster is what the load generator starts: a fresh database on the
// PostgreSQL server, the sentinel instances serving it, and the user who
// owns the simulated nodes. close removes all of it.
type cluster struct {
	adminURL, dbURL, dbName string
	dir                     string // sentinel logs
	secret                  []byte
	anonKey                 string
	urls                    []string
	procs                   []*exec.Cmd
	logs                    []string
	store                   *store.Postgres
	svc                     *sentinel.Service
	userID, userToken       string
}

// checkLoopback refuses a URL whose host is not a loopback address: the
// load generator measures this machine and sends nothing elsewhere.
func checkLoopback(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s: host %q is not a loopback address; the load generator runs on this machine only", what, host)
}

// startCluster creates the database, migrates it, adds the user and starts
// instances `sentinel serve` processes from bin. On error everything
// started so far is removed.
func startCluster(ctx context.Context, o options) (_ *cluster, err error) {
	if err := checkLoopback("--database-url", o.databaseURL); err != nil {
		return nil, err
	}
	c := &cluster{adminURL: o.databaseURL}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	if c.dir, err = os.MkdirTemp("", "wowlab-loadgen-"); err != nil {
		return nil, err
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	c.dbName = "loadgen_" + hex.EncodeToString(suffix)
	if err := c.adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{c.dbName}.Sanitize()); err != nil {
		c.dbName = ""
		return nil, fmt.Errorf("create database: %w", err)
	}
	u, _ := url.Parse(o.databaseURL)
	u.Path = "/" + c.dbName
	c.dbURL = u.String()
	if c.store, err = store.Open(ctx, c.dbURL, nil); err != nil {
		return nil, err
	}
	if err := c.store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	c.secret = []byte(hex.EncodeToString(suffix) + strings.Repeat("s", 32))
	if c.anonKey, err = sentinel.AnonKey(c.secret, time.Now()); err != nil {
		return nil, err
	}
	if c.svc, err = sentinel.New(sentinel.Config{Store: c.store, JWTSecret: c.secret}); err != nil {
		return nil, err
	}
	user, tok, err := c.svc.AddUser(ctx, "loadgen")
	if err != nil {
		return nil, fmt.Errorf("add user: %w", err)
	}
	c.userID, c.userToken = user.ID, tok
	for i := range o.instances {
		if err := c.startSentinel(ctx, o, i); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// startSentinel starts one `sentinel serve` on a free loopback port and
// waits until its /status answers.
func (c *cluster) startSentinel(ctx context.Context, o options, i int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(c.dir, fmt.Sprintf("sentinel-%d.log", i))
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	args := []string{"serve", "--listen", addr, "--database-url", c.dbURL,
		"--registrations-per-address", fmt.Sprintf("%d/1h", 2*o.nodes+100),
		"--max-connections", strconv.Itoa(o.nodes*2 + 1000)}
	args = append(args, o.sentinelArgs...)
	cmd := exec.Command(o.sentinelBin, args...)
	cmd.Env = append(os.Environ(), "SENTINEL_JWT_SECRET="+string(c.secret))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the load generator
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", o.sentinelBin, err)
	}
	c.procs = append(c.procs, cmd)
	c.logs = append(c.logs, logPath)
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("sentinel %d did not answer /status within 30s: %v\n%s", i, err, c.logTail(i))
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	c.urls = append(c.urls, base)
	return nil
}

// logTail returns the end of sentinel i's log, for error messages.
func (c *cluster) logTail(i int) string {
	raw, err := os.ReadFile(c.logs[i])
	if err != nil {
		return ""
	}
	if len(raw) > 4000 {
		raw = raw[len(raw)-4000:]
	}
	return string(raw)
}

// pids are the sentinels' process ids.
func (c *cluster) pids() []int {
	out := make([]int, len(c.procs))
	for i, p := range c.procs {
		out[i] = p.Process.Pid
	}
	return out
}

func (c *cluster) adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.adminURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", c.adminURL, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// close stops the sentinels (SIGTERM, SIGKILL after 10 s), drops the
// database and removes the log directory.
func (c *cluster) close() error {
	var errs []error
	for _, p := range c.procs {
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- p.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	if c.store != nil {
		c.store.Close()
	}
	if c.dbName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.adminExec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{c.dbName}.Sanitize()+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", c.dbName, err))
		}
	}
	if c.dir != "" {
		errs = append(errs, os.RemoveAll(c.dir))
	}
	return errors.Join(errs...)
}
