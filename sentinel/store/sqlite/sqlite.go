// Package sqlite is the sentinel's store on an embedded SQLite database
// (modernc.org/sqlite, pure Go): the same tables, the same Store methods and
// the same change feed as the PostgreSQL store, for a sentinel that runs as
// one process without a database server.
//
// One instance only: a database file is used by a single Store in a single
// process. Writes are serialised through one connection (each in a
// BEGIN IMMEDIATE transaction), reads run concurrently on a pool of
// read-only connections (WAL mode), and the change feed is in-process:
// triggers queue every announced row change in the feed_outbox table, the
// writing transaction drains it, and the Store publishes it after commit.
// Another process may read the file, or run Migrate (it waits on the write
// lock up to the busy timeout), but it does not see this Store's feed and
// RunExclusive excludes only within this Store.
package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	msqlite "modernc.org/sqlite"

	"wowlab/sentinel/store"
)

// DefaultBusyTimeout is how long a statement waits for a lock held by
// another connection (another process) before failing.
const DefaultBusyTimeout = 5 * time.Second

// timeLayout is how timestamps are stored: UTC, microseconds (PostgreSQL's
// precision), fixed width so that comparing the text compares the times.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Store is the store.Store on SQLite. Its methods are safe for concurrent
// use within one process; see the package documentation for the limits.
type Store struct {
	writer *sql.DB // one connection; every write goes through write()
	reader *sql.DB // read-only connections for plain reads
	log    *slog.Logger
	now    func() time.Time

	writeSem chan struct{} // capacity 1: holds the write path, publishing included
	feed     store.Feed

	exclMu  sync.Mutex
	running map[string]bool // RunExclusive tasks running now
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	log         *slog.Logger
	now         func() time.Time
	busyTimeout time.Duration
	readers     int
}

// WithLogger sets the logger; logs are discarded without one.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock for what the database would otherwise time
// itself: the creation time of node permissions, the applied time of
// migrations and the time stamped on change notifications. time.Now when
// not given.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithBusyTimeout sets how long a statement waits for another process's
// lock; DefaultBusyTimeout when not given.
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithReaders sets the number of read connections; the number of CPUs (at
// least 2) when not given.
func WithReaders(n int) Option { return func(o *options) { o.readers = n } }

// Open opens (creating when missing) the database file at path. It does not
// check the schema; call CheckSchema or Migrate. Close it when done.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: DefaultBusyTimeout, readers: max(2, runtime.NumCPU())}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
	switch {
	case path == "" || path == ":memory:":
		return nil, fmt.Errorf("open sqlite store: need the path of a database file, not %q", path)
	case o.busyTimeout < 0:
		return nil, fmt.Errorf("open sqlite store: negative busy timeout %v", o.busyTimeout)
	case o.readers < 1:
		return nil, fmt.Errorf("open sqlite store: need at least one read connection, not %d", o.readers)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	drv := &msqlite.Driver{}
	if err := drv.RegisterDeterministicScalarFunction("wowlab_sha256", 1, sha256Hex); err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(o.busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	// In WAL mode NORMAL is safe against the process crashing; a power
	// cut may lose the last commits, which costs recomputed chunks, never a
	// wrong result. It spares an fsync per commit.
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String()
	writer := sql.OpenDB(connector{drv: drv, dsn: dsn})
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// The writer connects first: it creates the file and switches it to WAL
	// before any reader opens it.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", abs, err)
	}
	q.Add("_pragma", "query_only(1)")
	q.Set("_txlock", "deferred")
	rdsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String()
	reader := sql.OpenDB(connector{drv: drv, dsn: rdsn})
	reader.SetMaxOpenConns(o.readers)
	reader.SetMaxIdleConns(o.readers)
	if err := reader.PingContext(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", abs, err)
	}
	return &Store{
		writer:   writer,
		reader:   reader,
		log:      o.log,
		now:      o.now,
		writeSem: make(chan struct{}, 1),
		running:  make(map[string]bool),
	}, nil
}

// connector opens connections of one Driver, so the functions registered
// on it reach only this Store's connections.
type connector struct {
	drv *msqlite.Driver
	dsn string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.drv.Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return c.drv }

// sha256Hex is wowlab_sha256(text): the lowercase hex SHA-256 of its
// argument's UTF-8 bytes, NULL for NULL.
func sha256Hex(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	var b []byte
	switch v := args[0].(type) {
	case nil:
		return nil, nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return nil, fmt.Errorf("wowlab_sha256: want text, got %T", v)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Close closes the database. The subscriptions stay open but receive
// nothing more.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	return nil
}

// Subscribe returns a subscription to this Store's notifications. Nothing
// is ever lost between the Store and the feed, so a subscriber receives
// KindReset only when it falls behind.
func (s *Store) Subscribe(buffer int) *store.Subscription { return s.feed.Subscribe(buffer) }

// lockWrite takes the write path, or gives up when ctx ends.
func (s *Store) lockWrite(ctx context.Context) error {
	select {
	case s.writeSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlockWrite() { <-s.writeSem }

// write runs fn in a write transaction, drains the feed outbox in it and,
// once committed, publishes what the outbox held, in order.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.lockWrite(ctx); err != nil {
		return err
	}
	defer s.unlockWrite()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	events, err := drainOutbox(ctx, tx)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	at := s.now()
	for _, n := range events {
		if n.Kind == store.KindChange {
			n.Change.At = at
		}
		s.feed.Publish(n)
	}
	return nil
}

// drainOutbox reads and empties feed_outbox. Like PostgreSQL, which folds
// identical notifications of one transaction, a chunk that became pending
// twice in one transaction is announced once.
func drainOutbox(ctx context.Context, tx *sql.Tx) ([]store.Notification, error) {
	rows, err := tx.QueryContext(ctx, "SELECT kind, coalesce(tbl, ''), coalesce(op, ''), row_id, old FROM feed_outbox ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("read feed outbox: %w", err)
	}
	defer rows.Close()
	var out []store.Notification
	pending := map[string]bool{}
	for rows.Next() {
		var kind, table, op, id string
		var old sql.NullString
		if err := rows.Scan(&kind, &table, &op, &id, &old); err != nil {
			return nil, fmt.Errorf("read feed outbox: %w", err)
		}
		switch kind {
		case "pending_chunk":
			if !pending[id] {
				pending[id] = true
				out = append(out, store.Notification{Kind: store.KindPendingChunk, ChunkID: id})
			}
		case "change":
			c := store.Change{Table: table, Op: op, ID: id}
			if old.Valid {
				if err := json.Unmarshal([]byte(old.String), &c.Old); err != nil {
					return nil, fmt.Errorf("decode outbox keys %q: %w", old.String, err)
				}
			}
			out = append(out, store.Notification{Kind: store.KindChange, Change: c})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read feed outbox: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM feed_outbox"); err != nil {
		return nil, fmt.Errorf("empty feed outbox: %w", err)
	}
	return out, nil
}

// ---- value mapping ----

// fmtTime is a timestamp as stored.
func fmtTime(t time.Time) string { return t.UTC().Round(time.Microsecond).Format(timeLayout) }

// nullString is s, NULL when empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// timeCol scans a stored timestamp; NULL gives the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("stored time %q: %w", v, err)
		}
		*c.t = t
		return nil
	default:
		return fmt.Errorf("stored time: unexpected %T", v)
	}
}

// rawCol scans a JSON column; NULL gives nil.
type rawCol struct{ b *json.RawMessage }

func (c rawCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.b = nil
	case string:
		*c.b = json.RawMessage(v)
	case []byte:
		*c.b = append(json.RawMessage(nil), v...)
	default:
		return fmt.Errorf("stored JSON: unexpected %T", v)
	}
	return nil
}

// idsCol scans a JSON array of ids.
type idsCol struct{ ids *[]string }

func (c idsCol) Scan(v any) error {
	var raw json.RawMessage
	if err := (rawCol{&raw}).Scan(v); err != nil {
		return err
	}
	ids := []string{}
	if raw != nil {
		if err := json.Unmarshal(raw, &ids); err != nil {
			return fmt.Errorf("stored id list: %w", err)
		}
	}
	*c.ids = ids
	return nil
}

// lookupID canonicalises an id to look up; one that is not a UUID names no
// row, so it is ErrNotFound (as on PostgreSQL).
func lookupID(what, id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", what, id, store.ErrNotFound)
	}
	return u.String(), nil
}

// newID canonicalises an id to store; one that is not a UUID is refused.
func newID(what, id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", fmt.Errorf("%s id %q is not a UUID: %w", what, id, err)
	}
	return u.String(), nil
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// queryer is what reads need: a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queried is the outcome of a query, for collect.
type queried struct {
	rows *sql.Rows
	err  error
}

// query wraps QueryContext's results for collect.
func query(rows *sql.Rows, err error) queried { return queried{rows, err} }

// collect reads every row of q with scan.
func collect[T any](q queried, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if q.err != nil {
		return nil, q.err
	}
	rows := q.rows
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanString(r *sql.Rows) (string, error) {
	var s string
	err := r.Scan(&s)
	return s, err
}
