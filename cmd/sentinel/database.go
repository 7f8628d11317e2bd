package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"wowlab/internal/cli"
	"wowlab/internal/filelock"
	"wowlab/internal/userdir"
	"wowlab/sentinel/store"
	"wowlab/sentinel/store/sqlite"
)

// database is an opened store: PostgreSQL with --database-url, else the
// embedded SQLite store in the data directory.
type database struct {
	store.Store
	what   string                          // for messages: where the data lives
	listen func(ctx context.Context) error // PostgreSQL's LISTEN loop; nil for SQLite
	close  func()
}

// dbMode says what a command does with the store it opens.
type dbMode int

const (
	// dbMigrate opens the store to create or update its schema.
	dbMigrate dbMode = iota
	// dbUse opens a migrated store for a command that ends soon.
	dbUse
	// dbServe opens a migrated store for serve: on SQLite it also takes
	// the store's lock, refusing a second instance.
	dbServe
)

// lockName is the lock file a serving sentinel holds in the SQLite data
// directory.
const lockName = "sentinel.lock"

// openDatabase opens the store the flags name; every mode but dbMigrate
// refuses a database whose schema is not this binary's.
func openDatabase(ctx context.Context, o *options, mode dbMode) (*database, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var d *database
	if o.databaseURL != "" {
		conn, err := withMaxConns(o.databaseURL, o.dbMaxConns)
		if err != nil {
			return nil, err
		}
		pg, err := store.Open(ctx, conn, slog.Default())
		if err != nil {
			return nil, cli.Usagef("%v", err)
		}
		if err := pg.Ping(ctx); err != nil {
			pg.Close()
			return nil, err
		}
		d = &database{Store: pg, what: "PostgreSQL database", listen: pg.Listen, close: pg.Close}
	} else {
		dir := o.dataDir
		if dir == "" {
			var err error
			if dir, err = userdir.Data("wowlab-sentinel"); err != nil {
				return nil, cli.Usagef("no --database-url and %v; give --data-dir", err)
			}
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		var lock *filelock.Lock
		if mode == dbServe {
			var err error
			lock, err = filelock.Acquire(filepath.Join(dir, lockName))
			if errors.Is(err, filelock.ErrLocked) {
				return nil, fmt.Errorf("another sentinel serves the SQLite store in %s (it holds %s): stop it first; several instances need PostgreSQL (--database-url)", dir, lockName)
			}
			if err != nil {
				return nil, err
			}
		}
		path := filepath.Join(dir, "sentinel.db")
		lite, err := sqlite.Open(ctx, path)
		if err != nil {
			if lock != nil {
				lock.Release()
			}
			return nil, err
		}
		d = &database{Store: lite, what: "SQLite store " + path, close: func() {
			lite.Close()
			if lock != nil {
				lock.Release()
			}
		}}
	}
	if mode != dbMigrate {
		if err := d.CheckSchema(ctx); err != nil {
			d.close()
			return nil, err
		}
	}
	return d, nil
}

// withMaxConns sets the pool size of a connection string (a URL or
// key=value pairs) to n with pgx's pool_max_conns parameter; n of 0 leaves
// it as it is. A string that sets pool_max_conns itself conflicts with the
// flag unless it says the same.
func withMaxConns(conn string, n int) (string, error) {
	if n == 0 {
		return conn, nil
	}
	if n < 1 || n > maxDBConns {
		return "", cli.Usagef("--database-max-conns must be between 1 and %d", maxDBConns)
	}
	if strings.Contains(conn, "pool_max_conns") {
		return conn, nil
	}
	if u, err := url.Parse(conn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("pool_max_conns", strconv.Itoa(n))
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return conn + " pool_max_conns=" + strconv.Itoa(n), nil
}

// maxDBConns bounds --database-max-conns: PostgreSQL's own limit on
// connections is in the hundreds by default.
const maxDBConns = 10_000
