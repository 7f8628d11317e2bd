// Package pgtest gives tests a real, private PostgreSQL database.
//
// The server is chosen once per test binary, in this order:
//
//  1. $DATABASE_URL, when set;
//  2. a server on 127.0.0.1:5432 accepting user postgres without a password,
//     when one answers;
//  3. a throwaway cluster created with the installed server binaries
//     (initdb and pg_ctl on PATH or under /usr/lib/postgresql/*/bin) in a
//     temporary directory, listening on a free loopback port, run as the
//     postgres user when the tests run as root, and removed afterwards.
//
// Setting PGTEST_THROWAWAY=1 skips the first two and always uses a throwaway
// cluster. Every call of New creates a fresh database with a random name and
// drops it when the test ends, so concurrent test runs never collide.
//
// Use Run from TestMain so a throwaway cluster is stopped when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvThrowaway names the environment variable that forces a throwaway cluster.
const EnvThrowaway = "PGTEST_THROWAWAY"

// EnvDatabaseURL names the environment variable of an existing server.
const EnvDatabaseURL = "DATABASE_URL"

// localURL is the conventional developer server tried second.
const localURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// server is the one chosen for this test binary. It is the package's only
// mutable state: a test binary has one set of tests sharing one server, and
// Run must find the cluster New started to stop it.
var server struct {
	once    sync.Once
	url     string
	cluster *Cluster
	err     error
}

// Run runs the tests, stops the throwaway cluster if one was started, and
// returns the exit code for os.Exit. Call it from TestMain; anything the
// tests set up for the whole binary is removed after it returns.
func Run(m *testing.M) int {
	code := m.Run()
	if server.cluster != nil {
		if err := server.cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping throwaway cluster: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// ServerURL returns the connection string of the administrative database of
// the server chosen for this test binary, starting a throwaway cluster when
// needed.
func ServerURL() (string, error) {
	server.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		src := chooseSource(os.LookupEnv, func() bool { return answers(ctx, localURL) })
		switch src.kind {
		case sourceURL:
			server.url = src.url
		default:
			c, err := StartCluster(ctx)
			if err != nil {
				server.err = err
				return
			}
			server.cluster, server.url = c, c.URL()
		}
	})
	return server.url, server.err
}

type sourceKind int

const (
	sourceURL sourceKind = iota
	sourceThrowaway
)

type source struct {
	kind sourceKind
	url  string
}

// chooseSource applies the selection rule of the package comment.
func chooseSource(lookup func(string) (string, bool), localAnswers func() bool) source {
	if v, _ := lookup(EnvThrowaway); v != "" && v != "0" && v != "false" {
		return source{kind: sourceThrowaway}
	}
	if v, ok := lookup(EnvDatabaseURL); ok && v != "" {
		return source{kind: sourceURL, url: v}
	}
	if localAnswers() {
		return source{kind: sourceURL, url: localURL}
	}
	return source{kind: sourceThrowaway}
}

// answers reports whether a server at connString accepts a connection.
func answers(ctx context.Context, connString string) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx) == nil
}

// New creates a fresh database for the test and returns its connection
// string. The database is dropped when the test and its subtests end.
func New(t testing.TB) string {
	t.Helper()
	admin, err := ServerURL()
	if err != nil {
		t.Fatalf("pgtest: no PostgreSQL server available: %v", err)
	}
	name := "pgtest_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := execSQL(ctx, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := execSQL(ctx, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// NewPool is New plus a connection pool to the fresh database, closed when
// the test ends.
func NewPool(t testing.TB) (string, *pgxpool.Pool) {
	t.Helper()
	dsn := New(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(pool.Close)
	return dsn, pool
}

func execSQL(ctx context.Context, connString, sql string) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", strings.Fields(sql)[0], err)
	}
	return nil
}

// withDatabase returns connString pointed at database name, for both the
// URL and the keyword/value forms.
func withDatabase(connString, name string) (string, error) {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err != nil {
			return "", fmt.Errorf("parse database URL: %w", err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In the keyword/value form a later key overrides an earlier one.
	return strings.TrimSpace(connString) + " dbname=" + name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// freePort returns a TCP port on 127.0.0.1 nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var errNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin; install the postgresql package or set DATABASE_URL")
