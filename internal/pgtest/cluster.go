package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// Cluster is a throwaway PostgreSQL cluster in a temporary directory.
type Cluster struct {
	dir    string // temporary directory holding data and socket
	binDir string // directory of initdb and pg_ctl
	port   int
	cred   *syscall.Credential // the user the server runs as, nil for the current one
}

// StartCluster creates and starts a throwaway cluster with trust
// authentication for user postgres on a free port of 127.0.0.1. When the
// process runs as root the cluster runs as the postgres system user, which
// must exist. Stop it with Stop.
func StartCluster(ctx context.Context) (*Cluster, error) {
	binDir, err := findBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{binDir: binDir}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresCredential(); err != nil {
			return nil, err
		}
	}
	if c.dir, err = os.MkdirTemp("", "pgtest-cluster-"); err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			os.RemoveAll(c.dir)
			return nil, fmt.Errorf("hand cluster directory to postgres: %w", err)
		}
	}
	if err := c.start(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	data := filepath.Join(c.dir, "data")
	if err := c.run(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		return err
	}
	// A port can be taken between choosing and binding; try a few.
	var err error
	for range 5 {
		if c.port, err = freePort(); err != nil {
			return err
		}
		if err = c.startServer(ctx); err == nil {
			return nil
		}
	}
	return err
}

// URL is the connection string of the cluster's postgres database.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Dir is the temporary directory holding the cluster; it is gone after Stop.
func (c *Cluster) Dir() string { return c.dir }

// Restart stops the server and starts it again on the same port with the
// same data: every connection is cut. The stop is a fast (clean) shutdown,
// because the cluster runs without fsync and synchronous commit, so an
// immediate one could lose committed rows. down, when not nil, is called
// while the server is stopped.
func (c *Cluster) Restart(ctx context.Context, down func()) error {
	data := filepath.Join(c.dir, "data")
	if err := c.run(ctx, "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"); err != nil {
		return err
	}
	if down != nil {
		down()
	}
	return c.startServer(ctx)
}

// startServer starts the server of an initialised cluster on c.port.
func (c *Cluster) startServer(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", c.port, c.dir)
	return c.run(ctx, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
}

// Stop stops the server at once and removes its directory.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := filepath.Join(c.dir, "data")
	var stopErr error
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		stopErr = c.run(ctx, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
	}
	if err := os.RemoveAll(c.dir); err != nil && stopErr == nil {
		stopErr = fmt.Errorf("remove cluster directory: %w", err)
	}
	return stopErr
}

func (c *Cluster) run(ctx context.Context, tool string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, tool), args...)
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// findBinaries returns the directory holding initdb and pg_ctl: PATH first,
// then the newest /usr/lib/postgresql/<version>/bin.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errNoBinaries
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// postgresCredential is the postgres system user, which initdb needs when
// the tests run as root (PostgreSQL refuses to run as root).
func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres system user for the throwaway cluster: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
