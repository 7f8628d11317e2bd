package sentinel

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"wowlab/examples"
	"wowlab/internal/pgtest"
	"wowlab/protocol"
	"wowlab/sentinel/store"
	"wowlab/sentinel/store/sqlite"
)

// openStores returns a migrated store of each kind.
func openStores(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"postgres": func(t *testing.T) store.Store {
			db := openStore(t, pgtest.New(t))
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return db
		},
		"sqlite": func(t *testing.T) store.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sentinel.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return db
		},
	}
}

// outage is a store whose liveness calls fail while down is set, as when
// the database cannot be reached.
type outage struct {
	store.Store
	down atomic.Bool
}

var errDatabaseDown = errors.New("database unreachable")

func (o *outage) MarkNodesOffline(ctx context.Context, seenBefore time.Time) ([]string, error) {
	if o.down.Load() {
		return nil, errDatabaseDown
	}
	return o.Store.MarkNodesOffline(ctx, seenBefore)
}

// timeoutRig is one node holding the one chunk of a job, under a service
// with the shortest chunk time limit.
type timeoutRig struct {
	t     *testing.T
	db    *outage
	clock *fakeClock
	svc   *Service
	pub   ed25519.PublicKey
	chunk string
}

func newTimeoutRig(t *testing.T, db store.Store) *timeoutRig {
	ctx := context.Background()
	r := &timeoutRig{t: t, db: &outage{Store: db}, clock: &fakeClock{now: time.Unix(1_800_000_000, 0)}}
	r.restart()
	u, _, err := r.svc.AddUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r.pub = pub
	reg, err := r.svc.Register(ctx, pub, protocol.RegisterRequest{Hostname: "h", TotalCores: 1, EnabledCores: 1, Platform: "linux-x86_64", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimNode(ctx, store.Claim{NodeID: reg.ID, UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	r.heartbeat()
	j, err := r.svc.CreateJob(ctx, u.ID, JobRequest{Config: examples.Quick(1), Iterations: 10, AccessType: AccessPrivate})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.svc.Schedule(ctx); err != nil || n != 1 {
		t.Fatalf("scheduled %d, %v", n, err)
	}
	raw, err := db.Select(ctx, store.Query{Table: "jobs_chunks", Columns: []string{"id"}, Limit: 10, Access: store.Access{Role: store.AccessUser, UserID: u.ID},
		Filters: []store.Filter{{Column: "job_id", Op: store.OpEq, Values: []string{j.JobID}}}})
	var rows []struct{ ID string }
	if err != nil || json.Unmarshal(raw, &rows) != nil || len(rows) != 1 {
		t.Fatalf("chunks %s, %v", raw, err)
	}
	r.chunk = rows[0].ID
	return r
}

// restart replaces the service by a new instance on the same store.
func (r *timeoutRig) restart() {
	svc, err := New(Config{Store: r.db, JWTSecret: testSecret, Clock: r.clock, ChunkTimeout: time.Minute})
	if err != nil {
		r.t.Fatal(err)
	}
	r.svc = svc
}

func (r *timeoutRig) heartbeat() {
	r.t.Helper()
	if _, err := r.svc.Heartbeat(context.Background(), r.pub, protocol.HeartbeatRequest{Status: protocol.NodeOnline}); err != nil {
		r.t.Fatal(err)
	}
}

// pass moves the clock on by d and runs a liveness pass, after a
// heartbeat of the node when it is alive.
func (r *timeoutRig) pass(d time.Duration, alive bool) {
	r.t.Helper()
	r.clock.Add(d)
	if alive {
		r.heartbeat()
	}
	err := r.svc.Liveness(context.Background())
	if r.db.down.Load() != (err != nil) {
		r.t.Fatalf("liveness with the database down %v: %v", r.db.down.Load(), err)
	}
}

// running reports whether the chunk still runs with no attempt counted,
// and fails the test when it was requeued in another way than a timeout.
func (r *timeoutRig) running() bool {
	r.t.Helper()
	c, err := r.db.ChunkByID(context.Background(), r.chunk)
	if err != nil {
		r.t.Fatal(err)
	}
	switch {
	case c.Status == protocol.StatusRunning && c.Attempts == 0:
		return true
	case c.Status == protocol.StatusPending && c.Attempts == 1 && c.LastError == "chunk ran longer than the 1m0s limit":
		return false
	}
	r.t.Fatalf("chunk %+v", c)
	return false
}

// The chunk time limit counts only time the sentinel watched with its
// store reachable and the node alive: a chunk claimed before a sentinel
// restart, a stalled sentinel, a database outage or a silence of its node
// gets a whole limit afterwards; without any of them it times out on time.
func TestChunkTimeoutCountsOnlyWatchedTime(t *testing.T) {
	const step = 20 * time.Second // liveness passes, well within the offline limit
	for storeName, open := range openStores(t) {
		for _, tc := range []struct {
			name  string
			fault func(r *timeoutRig) // runs 40 s, from 40 s after the claim
			grace time.Duration       // after the fault, until the chunk times out
		}{
			{"steady", func(r *timeoutRig) { r.pass(step, true); r.pass(step, true) }, 0},
			{"sentinel restarted", func(r *timeoutRig) { r.clock.Add(2 * step); r.restart(); r.pass(0, true) }, time.Minute},
			{"sentinel stalled", func(r *timeoutRig) { r.clock.Add(2 * step); r.pass(0, true) }, time.Minute},
			{"database down", func(r *timeoutRig) {
				r.db.down.Store(true)
				r.pass(step, false)
				r.pass(step, false)
				r.db.down.Store(false)
				r.pass(0, true)
			}, time.Minute},
			{"node silent", func(r *timeoutRig) { r.pass(step, false); r.pass(step, false) }, step},
		} {
			t.Run(storeName+"/"+tc.name, func(t *testing.T) {
				r := newTimeoutRig(t, open(t))
				r.pass(0, true)
				r.pass(step, true)
				r.pass(step, true)
				tc.fault(r) // the chunk is 80 s old by now, over its 1 min limit
				if !r.running() && tc.grace > 0 {
					t.Fatal("the chunk timed out over time the sentinel did not watch")
				}
				for waited := time.Duration(0); waited < tc.grace; waited += step {
					if !r.running() {
						t.Fatalf("timed out %v after the fault, want %v", waited, tc.grace)
					}
					r.pass(step, true)
				}
				if r.running() {
					t.Fatalf("not timed out %v after the fault", tc.grace)
				}
			})
		}
	}
}
