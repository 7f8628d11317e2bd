package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"wowlab/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func open(t *testing.T) *Postgres {
	t.Helper()
	p, err := Open(context.Background(), pgtest.New(t), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

func migrated(t *testing.T) *Postgres {
	t.Helper()
	p := open(t)
	if err := p.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	ctx := context.Background()
	p := open(t)
	if err := p.CheckSchema(ctx); !errors.Is(err, ErrNotMigrated) {
		t.Fatalf("unmigrated database: got %v, want ErrNotMigrated", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = p.Migrate(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if err := p.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := p.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != LatestSchemaVersion() {
		t.Fatalf("schema_migrations rows %d (%v), want %d", n, err, LatestSchemaVersion())
	}
	if _, err := p.pool.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')"); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckSchema(ctx); !errors.Is(err, ErrNotMigrated) {
		t.Fatalf("newer database: got %v", err)
	}
}

func waitFor(t *testing.T, sub *Subscription, match func(Notification) bool) Notification {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case n := <-sub.C:
			if match(n) {
				return n
			}
		case <-deadline:
			t.Fatal("notification did not arrive")
		}
	}
}

// TestListenFeedAndReconnect checks the change feed and pending_chunk
// notifications, then kills the listening connection and expects a reset
// and working notifications afterwards.
func TestListenFeedAndReconnect(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := migrated(t)
	sub := p.Subscribe(1024)
	defer sub.Close()
	done := make(chan error, 1)
	go func() { done <- p.Listen(ctx) }()
	waitFor(t, sub, func(n Notification) bool { return n.Kind == KindReset })

	now := time.Now()
	user := User{ID: uuid.NewString(), Name: "u", TokenHash: "h", CreatedAt: now}
	if err := p.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	job := NewJob{Job: Job{ID: uuid.NewString(), UserID: user.ID, ConfigHash: "abc", TotalIterations: 5, Status: "pending", AccessType: "private"},
		Chunks: []Chunk{{ID: uuid.NewString(), Iterations: 5}}, Config: []byte(`{}`), Now: now}
	if err := p.CreateJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	chunkID := job.Chunks[0].ID
	// Both arrive, in trigger order: collect them in one pass.
	var ins Notification
	gotPending := false
	waitFor(t, sub, func(n Notification) bool {
		switch {
		case n.Kind == KindPendingChunk && n.ChunkID == chunkID:
			gotPending = true
		case n.Kind == KindChange && n.Change.Table == "jobs_chunks":
			ins = n
		}
		return gotPending && ins.Kind != 0
	})
	if ins.Change.Op != "INSERT" || ins.Change.ID != chunkID || ins.Change.Old != nil {
		t.Fatalf("insert change %+v", ins.Change)
	}

	var pid int
	if err := p.pool.QueryRow(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", ListenApplicationName).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	var killed bool
	if err := p.pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate listener: %v %v", killed, err)
	}
	waitFor(t, sub, func(n Notification) bool { return n.Kind == KindReset })

	if _, err := p.pool.Exec(ctx, "UPDATE jobs SET status = 'running' WHERE id = $1", job.Job.ID); err != nil {
		t.Fatal(err)
	}
	upd := waitFor(t, sub, func(n Notification) bool {
		return n.Kind == KindChange && n.Change.Table == "jobs" && n.Change.Op == "UPDATE"
	})
	if upd.Change.ID != job.Job.ID || upd.Change.Old["user_id"] != user.ID || upd.Change.Old["status"] != "pending" {
		t.Fatalf("update change %+v", upd.Change)
	}
	rows, err := p.ReadRows(ctx, "jobs", []string{upd.Change.ID})
	if err != nil || len(rows[job.Job.ID]) == 0 {
		t.Fatalf("read the changed row: %v %v", rows, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFeedOverflowSendsReset(t *testing.T) {
	var f Feed
	s := f.Subscribe(1)
	f.Publish(Notification{Kind: KindPendingChunk, ChunkID: "a"})
	f.Publish(Notification{Kind: KindPendingChunk, ChunkID: "b"}) // lost
	if n := <-s.C; n.ChunkID != "a" {
		t.Fatalf("got %+v", n)
	}
	f.Publish(Notification{Kind: KindPendingChunk, ChunkID: "c"})
	if n := <-s.C; n.Kind != KindReset {
		t.Fatalf("got %+v, want reset", n)
	}
	s.Close()
	if _, ok := <-s.C; ok {
		t.Fatal("channel open after Close")
	}
}

// TestPoolDroppedWithTheListener cuts every connection of the store, as a
// database restart does, while queries hold some of them: once the
// listener is back, no query may fail on a connection of the old server.
func TestPoolDroppedWithTheListener(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := migrated(t)
	sub := p.Subscribe(16)
	defer sub.Close()
	done := make(chan error, 1)
	go func() { done <- p.Listen(ctx) }()
	waitFor(t, sub, func(n Notification) bool { return n.Kind == KindReset })

	const held = 4
	var conns []*pgxpool.Conn
	for range held {
		c, err := p.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	killerConf := p.connConf.Copy()
	killerConf.RuntimeParams["application_name"] = "wowlab-test-killer"
	killer, err := pgx.ConnectConfig(ctx, killerConf)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(context.Background())
	var killed int
	if err := killer.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()) t`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != held+1 {
		t.Fatalf("terminated %d connections, want the %d held and the listener's", killed, held)
	}
	waitFor(t, sub, func(n Notification) bool { return n.Kind == KindReset })
	for _, c := range conns {
		c.Release()
	}
	for i := range held + 1 {
		if _, err := p.Counts(ctx); err != nil {
			t.Fatalf("query %d after the connections were cut: %v", i, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{ErrNotFound, false},
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "57P01"}, true},
		{fmt.Errorf("counts: %w", &pgconn.PgError{Code: "08006"}), true},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
	} {
		if got := Unavailable(tc.err); got != tc.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A database that does not exist is named, with the command creating it.
func TestPingNamesAMissingDatabase(t *testing.T) {
	cfg, err := pgx.ParseConfig(pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	user := url.User(cfg.User)
	if cfg.Password != "" {
		user = url.UserPassword(cfg.User, cfg.Password)
	}
	u := url.URL{Scheme: "postgres", User: user, Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Path: "/wowlab_missing_db"}
	p, err := Open(context.Background(), u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), "database wowlab_missing_db does not exist: create it with createdb wowlab_missing_db") {
		t.Fatalf("ping of a missing database: %v", err)
	}
}

func TestPoolSize(t *testing.T) {
	dsn := pgtest.New(t)
	for _, tc := range []struct {
		conn string
		want int32
	}{
		{dsn, DefaultMaxConns},
		{dsn + "&pool_max_conns=7", 7},
	} {
		p, err := Open(context.Background(), tc.conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.pool.Config().MaxConns; got != tc.want {
			t.Errorf("pool of %q holds %d connections, want %d", tc.conn, got, tc.want)
		}
		// Regression: the listening connection sent pool_max_conns to the
		// server as a parameter and was refused, so no change reached
		// Realtime. It connects, and says so with a reset.
		sub := p.Subscribe(4)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		done := make(chan error, 1)
		go func() { done <- p.Listen(ctx) }()
		select {
		case n := <-sub.C:
			if n.Kind != KindReset {
				t.Errorf("first notification %+v, want the reset of a connected listener", n)
			}
		case <-ctx.Done():
			t.Errorf("the listener of %q never connected", tc.conn)
		}
		cancel()
		<-done
		sub.Close()
		p.Close()
	}
}
