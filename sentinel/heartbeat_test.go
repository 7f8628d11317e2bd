package sentinel

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// touchCounter counts the row writes of liveness.
type touchCounter struct {
	store.Store
	touches atomic.Int64
}

func (c *touchCounter) TouchNodes(ctx context.Context, ids []string, now time.Time) ([]string, error) {
	c.touches.Add(1)
	return c.Store.TouchNodes(ctx, ids, now)
}

// A heartbeat that changes nothing writes nothing: the node is online and
// was seen within the touch interval, or holds presence on this instance.
// One from a node gone stale, or offline, brings it back at once.
func TestHeartbeatWritesOnlyWhatChanged(t *testing.T) {
	for name, open := range openStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := &touchCounter{Store: open(t)}
			clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
			svc, err := New(Config{Store: db, JWTSecret: testSecret, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			u, _, err := svc.AddUser(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			pub, _, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			reg, err := svc.Register(ctx, pub, protocol.RegisterRequest{Hostname: "h", TotalCores: 2, EnabledCores: 2, Platform: "linux-x86_64", Version: "1"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ClaimNode(ctx, store.Claim{NodeID: reg.ID, UserID: u.ID}); err != nil {
				t.Fatal(err)
			}
			beat := func(wantTouches int64) {
				t.Helper()
				before := db.touches.Load()
				info, err := svc.Heartbeat(ctx, pub, protocol.HeartbeatRequest{Status: protocol.NodeOnline})
				if err != nil || info.Status != protocol.NodeOnline {
					t.Fatalf("heartbeat: %+v, %v", info, err)
				}
				if got := db.touches.Load() - before; got != wantTouches {
					t.Fatalf("heartbeat wrote %d times, want %d", got, wantTouches)
				}
				n, err := db.NodeByID(ctx, reg.ID)
				if err != nil || n.Status != protocol.NodeOnline {
					t.Fatalf("node after heartbeat: %+v, %v", n, err)
				}
			}
			beat(1) // first: pending -> online
			clock.Add(time.Second)
			beat(0) // seen a second ago
			clock.Add(svc.touchInterval())
			beat(1) // stale: refreshed
			if err := svc.PresenceTracked(ctx, reg.ID); err != nil {
				t.Fatal(err)
			}
			clock.Add(2 * svc.touchInterval())
			beat(0) // presence here keeps it alive; liveness refreshes it
			svc.PresenceUntracked(reg.ID)
			beat(1)
			if _, err := svc.Heartbeat(ctx, pub, protocol.HeartbeatRequest{Status: protocol.NodeOffline}); err != nil {
				t.Fatal(err)
			}
			clock.Add(time.Second)
			beat(1) // offline -> online at once
		})
	}
}

// Presence is shared across instances: a node holding presence on A only
// stays online, and keeps its chunks, for B's liveness passes, and goes
// offline for both once its presence ends.
func TestPresenceOnOneInstanceKeepsNodeOnlineForAll(t *testing.T) {
	for name, open := range openStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
			var a, b *Service
			for _, p := range []**Service{&a, &b} {
				svc, err := New(Config{Store: db, JWTSecret: testSecret, Clock: clock})
				if err != nil {
					t.Fatal(err)
				}
				*p = svc
			}
			u, _, err := a.AddUser(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			pub, _, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			reg, err := a.Register(ctx, pub, protocol.RegisterRequest{Hostname: "h", TotalCores: 2, EnabledCores: 2, Platform: "linux-x86_64", Version: "1"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ClaimNode(ctx, store.Claim{NodeID: reg.ID, UserID: u.ID}); err != nil {
				t.Fatal(err)
			}
			if err := a.PresenceTracked(ctx, reg.ID); err != nil {
				t.Fatal(err)
			}
			status := func() string {
				n, err := db.NodeByID(ctx, reg.ID)
				if err != nil {
					t.Fatal(err)
				}
				return n.Status
			}
			for range 12 { // two minutes of passes, past offline and reclaim limits
				clock.Add(LivenessInterval * 2)
				for _, svc := range []*Service{a, b} {
					if err := svc.Liveness(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if s := status(); s != protocol.NodeOnline {
					t.Fatalf("node %s for instance B while present on A", s)
				}
			}
			a.PresenceUntracked(reg.ID)
			clock.Add(DefaultOfflineAfter + time.Second)
			if err := b.Liveness(ctx); err != nil {
				t.Fatal(err)
			}
			if s := status(); s != protocol.NodeOffline {
				t.Fatalf("node %s after its presence ended", s)
			}
		})
	}
}

// storeCalls counts the store calls a signed request makes before and
// besides its handler's writes.
type storeCalls struct {
	store.Store
	signatures, byKey, capacities atomic.Int64
}

func (c *storeCalls) RememberSignature(ctx context.Context, s store.Signature) (store.Signer, error) {
	c.signatures.Add(1)
	return c.Store.RememberSignature(ctx, s)
}

func (c *storeCalls) NodeByPublicKey(ctx context.Context, key string) (store.Node, error) {
	c.byKey.Add(1)
	return c.Store.NodeByPublicKey(ctx, key)
}

func (c *storeCalls) SetNodeCapacity(ctx context.Context, id string, capacity *int) (bool, error) {
	c.capacities.Add(1)
	return c.Store.SetNodeCapacity(ctx, id, capacity)
}

// A signed request reads its node with its signature (one round trip, no
// lookup by key after it), and a heartbeat whose capacity is the stored
// one does not write it again.
func TestSignedRequestReadsItsNodeOnce(t *testing.T) {
	e := newEnv(t)
	calls := &storeCalls{Store: e.db}
	e.svc = e.instance(calls)
	e.srv = httptest.NewServer(e.svc.Handler())
	t.Cleanup(e.srv.Close)
	u, _ := e.user("alice")
	n := e.onlineNode(u.ID, 4, 4)
	if got := calls.byKey.Load(); got != 0 {
		t.Fatalf("register, claim and heartbeat looked the node up by key %d times after the signature, want 0", got)
	}
	beat := func(capacity int, wantWrites int64) {
		t.Helper()
		sigs, writes := calls.signatures.Load(), calls.capacities.Load()
		if st, body := n.call(protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: "online", Capacity: &capacity}, nil); st != 200 {
			t.Fatalf("heartbeat: %d %s", st, body)
		}
		if got := calls.signatures.Load() - sigs; got != 1 {
			t.Fatalf("heartbeat remembered %d signatures, want 1", got)
		}
		if got := calls.capacities.Load() - writes; got != wantWrites {
			t.Fatalf("heartbeat at capacity %d wrote it %d times, want %d", capacity, got, wantWrites)
		}
		stored, err := e.db.NodeByID(context.Background(), n.id)
		if err != nil || stored.Capacity == nil || *stored.Capacity != capacity {
			t.Fatalf("stored node %+v, %v; want capacity %d", stored, err, capacity)
		}
	}
	beat(2, 1) // reported for the first time
	beat(2, 0) // unchanged: nothing written
	beat(3, 1) // changed
	beat(3, 0)
	j := e.job(u.ID, 1000, AccessPrivate)
	e.schedule()
	c := e.chunkOn(j.JobID, n.id)
	if st, body := n.call(protocol.PathComplete, completeReq(c.ID, c.Iterations), nil); st != 200 {
		t.Fatalf("complete: %d %s", st, body)
	}
	if got := calls.byKey.Load(); got != 0 {
		t.Fatalf("signed requests looked the node up by key %d times, want 0", got)
	}
}
