package sqlite

import (
	"context"
	"embed"
	"fmt"

	"wowlab/sentinel/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in version order. Version N
// is the SQLite form of the PostgreSQL store's version N, so both stores
// count alike.
func migrations() ([]store.Migration, error) {
	return store.ReadMigrations(migrationFiles, "migrations")
}

// LatestSchemaVersion is the schema version this binary expects of a
// SQLite database.
func LatestSchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Migrate applies every embedded migration the database lacks, each in its
// own IMMEDIATE transaction that re-reads the version first, so concurrent
// runs (even from another process) apply each migration once.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if err := s.lockWrite(ctx); err != nil {
		return err
	}
	defer s.unlockWrite()
	for _, m := range ms {
		applied, err := s.applyMigration(ctx, m)
		if err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		if applied {
			s.log.Info("applied migration", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

// applyMigration applies m unless the database already has its version.
func (s *Store) applyMigration(ctx context.Context, m store.Migration) (bool, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`); err != nil {
		return false, fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if m.Version <= current {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, fmtTime(s.now())); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// CheckSchema reports store.ErrNotMigrated unless the database holds
// exactly the schema version this binary expects.
func (s *Store) CheckSchema(ctx context.Context) error {
	latest := LatestSchemaVersion()
	var tables int
	if err := s.reader.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").Scan(&tables); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if tables == 0 {
		return fmt.Errorf("%w: the database has no schema (expected version %d); run 'sentinel migrate'", store.ErrNotMigrated, latest)
	}
	var current int
	if err := s.reader.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case current < latest:
		return fmt.Errorf("%w: the database is at version %d, this sentinel needs %d; run 'sentinel migrate'", store.ErrNotMigrated, current, latest)
	case current > latest:
		return fmt.Errorf("%w: the database is at version %d, newer than this sentinel (%d); upgrade the sentinel", store.ErrNotMigrated, current, latest)
	}
	return nil
}
