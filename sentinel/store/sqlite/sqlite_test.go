package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"wowlab/sentinel/store"
	"wowlab/sentinel/store/storetest"
)

// openFile opens a store on a file of a temporary directory.
func openFile(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// migrated opens a migrated store on a fresh file.
func migrated(t *testing.T) *Store {
	t.Helper()
	s := openFile(t, filepath.Join(t.TempDir(), "sentinel.db"))
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		s := migrated(t)
		return storetest.Harness{Store: s}
	})
}

// TestSchemaVersionMatchesPostgres keeps the two stores' version numbers in
// step: version N is the same schema on both.
func TestSchemaVersionMatchesPostgres(t *testing.T) {
	if got, want := LatestSchemaVersion(), store.LatestSchemaVersion(); got != want {
		t.Fatalf("SQLite schema version %d, PostgreSQL %d: add the SQLite form of every PostgreSQL migration", got, want)
	}
}

func TestMigrateConcurrentAndCheckSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sentinel.db")
	s := openFile(t, path)
	if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrNotMigrated) {
		t.Fatalf("empty database: got %v, want ErrNotMigrated", err)
	}
	// Two stores on one file stand for two processes migrating at once.
	other := openFile(t, path)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = []*Store{s, other}[i%2].Migrate(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.reader.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != LatestSchemaVersion() {
		t.Fatalf("schema_migrations rows %d (%v), want %d", n, err, LatestSchemaVersion())
	}
	if _, err := s.writer.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', '')"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrNotMigrated) {
		t.Fatalf("newer database: got %v", err)
	}
}

func TestOpenSettings(t *testing.T) {
	ctx := t.Context()
	s := migrated(t)
	for _, c := range []struct {
		pragma string
		want   string
	}{{"journal_mode", "wal"}, {"foreign_keys", "1"}, {"busy_timeout", "5000"}} {
		var got string
		if err := s.writer.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil || got != c.want {
			t.Fatalf("PRAGMA %s = %q (%v), want %q", c.pragma, got, err, c.want)
		}
	}
	if _, err := s.reader.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Fatal("a read connection can write")
	}
	for _, path := range []string{"", ":memory:"} {
		if _, err := Open(ctx, path); err == nil {
			t.Fatalf("Open(%q) succeeded", path)
		}
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), WithReaders(0)); err == nil {
		t.Fatal("Open with no readers succeeded")
	}
}

// TestPersistsAcrossReopen checks that committed rows survive closing.
func TestPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sentinel.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := store.User{ID: uuid.NewString(), Name: "alice", TokenHash: "h", CreatedAt: time.Unix(1_800_000_000, 0)}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openFile(t, path)
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil || got.Name != "alice" || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

// TestOutboxEmptyAfterWrites checks that the feed outbox is drained by every
// write, including one that fails.
func TestOutboxEmptyAfterWrites(t *testing.T) {
	ctx := t.Context()
	s := migrated(t)
	if _, _, err := s.RegisterNode(ctx, store.NewNode{PublicKey: "k", Now: time.Now()}, store.NodeUpdate{}); err != nil {
		t.Fatal(err)
	}
	// A job of an unknown user fails after its config row was written.
	err := s.CreateJob(ctx, store.NewJob{Job: store.Job{ID: uuid.NewString(), UserID: uuid.NewString(), ConfigHash: "h", Status: "pending", AccessType: "private"},
		Chunks: []store.Chunk{{ID: uuid.NewString(), Iterations: 1}}, Config: []byte(`{}`), Now: time.Now()})
	if err == nil {
		t.Fatal("job of an unknown user stored")
	}
	var n int
	if err := s.reader.QueryRowContext(ctx, "SELECT count(*) FROM feed_outbox").Scan(&n); err != nil || n != 0 {
		t.Fatalf("outbox holds %d rows (%v)", n, err)
	}
}

// TestRotationChecksum checks the database keeps rotations.checksum current.
func TestRotationChecksum(t *testing.T) {
	ctx := t.Context()
	s := migrated(t)
	id := uuid.NewString()
	if _, err := s.writer.ExecContext(ctx, "INSERT INTO rotations (id, slug, name, script) VALUES (?, 's', 'n', 'abc')", id); err != nil {
		t.Fatal(err)
	}
	var sum string
	if err := s.reader.QueryRowContext(ctx, "SELECT checksum FROM rotations WHERE id = ?", id).Scan(&sum); err != nil ||
		sum != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" { // SHA-256("abc")
		t.Fatalf("checksum %q (%v)", sum, err)
	}
	if _, err := s.writer.ExecContext(ctx, "UPDATE rotations SET script = '' WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	if err := s.reader.QueryRowContext(ctx, "SELECT checksum FROM rotations WHERE id = ?", id).Scan(&sum); err != nil ||
		sum != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" { // SHA-256("")
		t.Fatalf("checksum after update %q (%v)", sum, err)
	}
}
