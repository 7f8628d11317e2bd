package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"wowlab/sentinel/store"
)

// ---- replay memory and maintenance ----

// RememberSignature records a signature, reports whether it was new and
// reads the node of its key.
func (s *Store) RememberSignature(ctx context.Context, sig store.Signature) (store.Signer, error) {
	var out store.Signer
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `INSERT INTO seen_signatures (signature, expires_at) VALUES (?1, ?3)
			ON CONFLICT (signature) DO UPDATE SET expires_at = excluded.expires_at
			WHERE seen_signatures.expires_at < ?2 RETURNING 1`, sig.Signature, fmtTime(sig.Now), fmtTime(sig.Expires)).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("remember signature: %w", err)
		default:
			out.Fresh = true
		}
		n, err := scanNodeFull(tx.QueryRowContext(ctx, "SELECT "+nodeCols+nodeFullJoin+" WHERE public_key = ?", sig.Key))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("node by key: %w", err)
		default:
			out.Known, out.Node = true, n
		}
		return nil
	})
	if err != nil {
		return store.Signer{}, err
	}
	return out, nil
}

// PruneSignatures forgets expired signatures.
func (s *Store) PruneSignatures(ctx context.Context, now time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM seen_signatures WHERE expires_at < ?", fmtTime(now)); err != nil {
			return fmt.Errorf("prune signatures: %w", err)
		}
		return nil
	})
}

// RunExclusive runs fn at most once per every: while fn runs the task is
// marked running in this Store (the single instance), so a concurrent call
// does not run it, and a successful run is recorded in maintenance_runs.
// fn runs outside any transaction, so the write path stays free for the
// store calls fn makes; as on PostgreSQL, a crash after fn and before the
// record makes the next call run it again.
func (s *Store) RunExclusive(ctx context.Context, name string, every time.Duration, now time.Time, fn func(context.Context) error) (bool, error) {
	s.exclMu.Lock()
	if s.running[name] {
		s.exclMu.Unlock()
		return false, nil
	}
	s.running[name] = true
	s.exclMu.Unlock()
	defer func() {
		s.exclMu.Lock()
		delete(s.running, name)
		s.exclMu.Unlock()
	}()
	var last time.Time
	err := s.reader.QueryRowContext(ctx, "SELECT last_run_at FROM maintenance_runs WHERE name = ?", name).Scan(timeCol{&last})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("read %s last run: %w", name, err)
	}
	if !last.IsZero() && now.Sub(last) < every {
		return false, nil
	}
	if err := fn(ctx); err != nil {
		return false, err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO maintenance_runs (name, last_run_at) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at`, name, fmtTime(now)); err != nil {
			return fmt.Errorf("record %s run: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return true, nil
}
