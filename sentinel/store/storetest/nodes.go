package storetest

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

func testUsers(f *fixture) {
	t := f.t
	u := f.user("alice")
	got, err := f.s.UserByID(f.ctx, u.ID)
	f.check(err)
	if got.ID != u.ID || got.Name != u.Name || got.TokenHash != u.TokenHash || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("UserByID = %+v, want %+v", got, u)
	}
	if got, err := f.s.UserByID(f.ctx, strings.ToUpper(u.ID)); err != nil || got.ID != u.ID {
		t.Fatalf("UserByID(upper case) = %+v, %v; want the same user with its canonical id", got, err)
	}
	if got, err := f.s.UserByTokenHash(f.ctx, u.TokenHash); err != nil || got.ID != u.ID {
		t.Fatalf("UserByTokenHash = %+v, %v", got, err)
	}
	_, err = f.s.UserByID(f.ctx, uuid.NewString())
	wantErr(t, "unknown user", err, store.ErrNotFound)
	_, err = f.s.UserByID(f.ctx, "not-a-uuid")
	wantErr(t, "malformed user id", err, store.ErrNotFound)
	_, err = f.s.UserByTokenHash(f.ctx, hashOf("nobody"))
	wantErr(t, "unknown token", err, store.ErrNotFound)

	if err := f.s.CreateUser(f.ctx, store.User{ID: uuid.NewString(), Name: "bob", TokenHash: u.TokenHash, CreatedAt: t0}); err == nil {
		t.Fatal("a second user with the same token hash was stored")
	}
	if err := f.s.CreateUser(f.ctx, store.User{ID: u.ID, Name: "bob", TokenHash: hashOf("bob"), CreatedAt: t0}); err == nil {
		t.Fatal("a second user with the same id was stored")
	}
	if err := f.s.CreateUser(f.ctx, store.User{ID: "not-a-uuid", Name: "bob", TokenHash: hashOf("bob"), CreatedAt: t0}); err == nil {
		t.Fatal("a user with a malformed id was stored")
	}
	if _, err := f.s.UserByTokenHash(f.ctx, hashOf("bob")); err == nil {
		t.Fatal("a refused user can be found")
	}
}

func testRegisterNode(f *fixture) {
	t := f.t
	nn := store.NewNode{PublicKey: "key-1", ClaimCode: "ABCD-1234", Version: "1.0.0", Platform: "linux-x86_64", TotalCores: 8, Now: t0}
	n, created, err := f.s.RegisterNode(f.ctx, nn, store.NodeUpdate{Version: "9", Platform: "x", TotalCores: 1})
	f.check(err)
	if !created {
		t.Fatal("first registration: created = false")
	}
	if _, err := uuid.Parse(n.ID); err != nil {
		t.Fatalf("node id %q: %v", n.ID, err)
	}
	want := store.Node{ID: n.ID, Name: "My Node", MaxParallel: 4, Status: protocol.NodePending, Version: "1.0.0", TotalCores: 8,
		Platform: "linux-x86_64", CreatedAt: t0, PublicKey: "key-1", ClaimCode: "ABCD-1234"}
	if !sameNode(n, want) {
		t.Fatalf("registered %+v, want %+v", n, want)
	}

	// A repeat applies the update and nothing else.
	again, created, err := f.s.RegisterNode(f.ctx, store.NewNode{PublicKey: "key-1", ClaimCode: "OTHER", Version: "2", Platform: "p", TotalCores: 1, Now: t0.Add(time.Hour)},
		store.NodeUpdate{Version: "1.1.0", Platform: "darwin-arm64", TotalCores: 4})
	f.check(err)
	if created {
		t.Fatal("repeat registration: created = true")
	}
	want.Version, want.Platform, want.TotalCores = "1.1.0", "darwin-arm64", 4
	if !sameNode(again, want) {
		t.Fatalf("re-registered %+v, want %+v", again, want)
	}
	for name, get := range map[string]func() (store.Node, error){
		"NodeByID":        func() (store.Node, error) { return f.s.NodeByID(f.ctx, n.ID) },
		"NodeByPublicKey": func() (store.Node, error) { return f.s.NodeByPublicKey(f.ctx, "key-1") },
		"NodeByClaimCode": func() (store.Node, error) { return f.s.NodeByClaimCode(f.ctx, "ABCD-1234") },
	} {
		got, err := get()
		if err != nil || !sameNode(got, want) {
			t.Fatalf("%s = %+v, %v; want %+v", name, got, err, want)
		}
	}
	// Renewing starts an unclaimed registration over; a claimed one keeps
	// its time.
	renewed, _, err := f.s.RegisterNode(f.ctx, nn, store.NodeUpdate{Version: "1.1.0", Platform: "darwin-arm64", TotalCores: 4, Renew: t0.Add(2 * time.Hour)})
	f.check(err)
	if !renewed.CreatedAt.Equal(t0.Add(2*time.Hour)) || renewed.ID != n.ID || renewed.ClaimCode != "ABCD-1234" {
		t.Fatalf("renewed %+v", renewed)
	}
	want.CreatedAt = renewed.CreatedAt
	owner := f.user("owner")
	_, err = f.s.ClaimNode(f.ctx, store.Claim{NodeID: n.ID, UserID: owner.ID})
	f.check(err)
	kept, _, err := f.s.RegisterNode(f.ctx, nn, store.NodeUpdate{Version: "1.1.0", Platform: "darwin-arm64", TotalCores: 4, Renew: t0.Add(3 * time.Hour)})
	f.check(err)
	if !kept.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("renewing a claimed node moved created_at to %v", kept.CreatedAt)
	}
	_, err = f.s.NodeByID(f.ctx, uuid.NewString())
	wantErr(t, "unknown node", err, store.ErrNotFound)
	_, err = f.s.NodeByID(f.ctx, "not-a-uuid")
	wantErr(t, "malformed node id", err, store.ErrNotFound)
	_, err = f.s.NodeByPublicKey(f.ctx, "key-unknown")
	wantErr(t, "unknown key", err, store.ErrNotFound)
	_, err = f.s.NodeByClaimCode(f.ctx, "NONE-0000")
	wantErr(t, "unknown claim code", err, store.ErrNotFound)
}

// sameNode compares nodes, times with Equal.
func sameNode(a, b store.Node) bool {
	ta, tb := a.CreatedAt, b.CreatedAt
	la, lb := a.LastSeenAt, b.LastSeenAt
	ca, cb := a.Capacity, b.Capacity
	a.CreatedAt, b.CreatedAt, a.LastSeenAt, b.LastSeenAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	a.Capacity, b.Capacity = nil, nil
	return a == b && ta.Equal(tb) && la.Equal(lb) && (ca == nil) == (cb == nil) && (ca == nil || *ca == *cb)
}

func testClaimNode(f *fixture) {
	t := f.t
	alice, bob := f.user("alice"), f.user("bob")
	n := f.node(t0)
	name, mp := "rig", 2
	got, err := f.s.ClaimNode(f.ctx, store.Claim{NodeID: n.ID, UserID: alice.ID, Name: &name, MaxParallel: &mp})
	f.check(err)
	if got.UserID != alice.ID || got.Name != "rig" || got.MaxParallel != 2 || got.ClaimCode != "" || got.ID != n.ID {
		t.Fatalf("claimed %+v", got)
	}
	if read, _ := f.s.NodeByID(f.ctx, n.ID); !sameNode(read, got) {
		t.Fatalf("NodeByID after claim = %+v, want %+v", read, got)
	}
	_, err = f.s.NodeByClaimCode(f.ctx, n.ClaimCode)
	wantErr(t, "claim code of a claimed node", err, store.ErrNotFound)
	_, err = f.s.ClaimNode(f.ctx, store.Claim{NodeID: n.ID, UserID: bob.ID})
	wantErr(t, "second claim", err, store.ErrConflict)
	if read, _ := f.s.NodeByID(f.ctx, n.ID); read.UserID != alice.ID {
		t.Fatalf("a refused claim changed the owner to %q", read.UserID)
	}
	_, err = f.s.ClaimNode(f.ctx, store.Claim{NodeID: uuid.NewString(), UserID: bob.ID})
	wantErr(t, "unknown node", err, store.ErrNotFound)
	_, err = f.s.ClaimNode(f.ctx, store.Claim{NodeID: "not-a-uuid", UserID: bob.ID})
	wantErr(t, "malformed node id", err, store.ErrNotFound)

	// Without a name or parallelism the defaults stay.
	plain := f.node(t0)
	got, err = f.s.ClaimNode(f.ctx, store.Claim{NodeID: plain.ID, UserID: bob.ID})
	f.check(err)
	if got.Name != "My Node" || got.MaxParallel != 4 || got.UserID != bob.ID {
		t.Fatalf("claimed without options: %+v", got)
	}

	// Two unclaimed nodes sharing a code: the newest answers.
	code := "SAME-CODE"
	var newest store.Node
	for i := range 2 {
		n, _, err := f.s.RegisterNode(f.ctx, store.NewNode{PublicKey: "shared-" + uuid.NewString(), ClaimCode: code, Now: t0.Add(time.Duration(i) * time.Minute)}, store.NodeUpdate{})
		f.check(err)
		newest = n
	}
	if got, err := f.s.NodeByClaimCode(f.ctx, code); err != nil || got.ID != newest.ID {
		t.Fatalf("NodeByClaimCode with two nodes = %+v, %v; want the newest %s", got, err, newest.ID)
	}
}

func testClaimChecks(f *fixture) {
	t := f.t
	alice, bob := f.user("alice"), f.user("bob")
	n := f.node(t0)
	_, err := f.s.ClaimCheckExpiry(f.ctx, n.ID, alice.ID)
	wantErr(t, "no check yet", err, store.ErrNotFound)
	f.check(f.s.RecordClaimCheck(f.ctx, store.ClaimCheck{NodeID: n.ID, UserID: alice.ID, Expires: t0.Add(10 * time.Minute)}))
	// An earlier expiry never shortens a check; a later one extends it.
	f.check(f.s.RecordClaimCheck(f.ctx, store.ClaimCheck{NodeID: n.ID, UserID: alice.ID, Expires: t0.Add(5 * time.Minute)}))
	if exp, err := f.s.ClaimCheckExpiry(f.ctx, n.ID, alice.ID); err != nil || !exp.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("expiry %v %v", exp, err)
	}
	f.check(f.s.RecordClaimCheck(f.ctx, store.ClaimCheck{NodeID: n.ID, UserID: alice.ID, Expires: t0.Add(20 * time.Minute)}))
	if exp, err := f.s.ClaimCheckExpiry(f.ctx, n.ID, alice.ID); err != nil || !exp.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("extended expiry %v %v", exp, err)
	}
	// Checks are per user.
	_, err = f.s.ClaimCheckExpiry(f.ctx, n.ID, bob.ID)
	wantErr(t, "another user's check", err, store.ErrNotFound)
	f.check(f.s.RecordClaimCheck(f.ctx, store.ClaimCheck{NodeID: n.ID, UserID: bob.ID, Expires: t0.Add(time.Minute)}))
	// Unknown or malformed ids.
	wantErr(t, "unknown node", f.s.RecordClaimCheck(f.ctx, store.ClaimCheck{NodeID: uuid.NewString(), UserID: alice.ID, Expires: t0}), store.ErrNotFound)
	wantErr(t, "unknown user", f.s.RecordClaimCheck(f.ctx, store.ClaimCheck{NodeID: n.ID, UserID: uuid.NewString(), Expires: t0}), store.ErrNotFound)
	wantErr(t, "malformed node", f.s.RecordClaimCheck(f.ctx, store.ClaimCheck{NodeID: "x", UserID: alice.ID, Expires: t0}), store.ErrNotFound)
	_, err = f.s.ClaimCheckExpiry(f.ctx, "x", alice.ID)
	wantErr(t, "malformed node id", err, store.ErrNotFound)
	// Claiming the node removes every check of it.
	_, err = f.s.ClaimNode(f.ctx, store.Claim{NodeID: n.ID, UserID: alice.ID})
	f.check(err)
	for _, u := range []store.User{alice, bob} {
		_, err = f.s.ClaimCheckExpiry(f.ctx, n.ID, u.ID)
		wantErr(t, "check after the claim", err, store.ErrNotFound)
	}
	// Deleting a node removes its checks with it.
	stale := f.node(t0)
	f.check(f.s.RecordClaimCheck(f.ctx, store.ClaimCheck{NodeID: stale.ID, UserID: bob.ID, Expires: t0.Add(time.Hour)}))
	if _, err := f.s.DeleteStaleNodes(f.ctx, t0.Add(time.Second), t0); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.ClaimCheckExpiry(f.ctx, stale.ID, bob.ID)
	wantErr(t, "check of a deleted node", err, store.ErrNotFound)
}

func testListNodes(f *fixture) {
	var want []string
	for i := range 3 {
		want = append([]string{f.node(t0.Add(time.Duration(i) * time.Minute)).ID}, want...)
	}
	ns, err := f.s.ListNodes(f.ctx)
	f.check(err)
	var got []string
	for _, n := range ns {
		got = append(got, n.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		f.t.Fatalf("ListNodes order %v, want newest first %v", got, want)
	}
}

func testTouchAndMarkOffline(f *fixture) {
	t := f.t
	u := f.user("alice")
	a := f.claimed(u.ID, 1, t0)
	b := f.node(t0) // unclaimed: never touched
	t1 := t0.Add(time.Minute)
	came, err := f.s.TouchNodes(f.ctx, []string{a.ID, b.ID, a.ID}, t1)
	f.check(err)
	if !sameIDs(came, []string{a.ID}) {
		t.Fatalf("first touch: came online %v, want [%s]", came, a.ID)
	}
	if n, _ := f.s.NodeByID(f.ctx, a.ID); n.Status != protocol.NodeOnline || !n.LastSeenAt.Equal(t1) {
		t.Fatalf("touched node %+v", n)
	}
	if n, _ := f.s.NodeByID(f.ctx, b.ID); n.Status != protocol.NodePending || !n.LastSeenAt.IsZero() {
		t.Fatalf("unclaimed node was touched: %+v", n)
	}
	came, err = f.s.TouchNodes(f.ctx, []string{a.ID}, t0)
	f.check(err)
	if len(came) != 0 {
		t.Fatalf("second touch: came online %v", came)
	}
	if n, _ := f.s.NodeByID(f.ctx, a.ID); !n.LastSeenAt.Equal(t1) {
		t.Fatalf("an older touch moved last_seen_at back to %v", n.LastSeenAt)
	}
	if came, err := f.s.TouchNodes(f.ctx, nil, t1); err != nil || len(came) != 0 {
		t.Fatalf("empty touch: %v, %v", came, err)
	}
	_, err = f.s.TouchNodes(f.ctx, []string{"not-a-uuid"}, t1)
	wantErr(t, "malformed id", err, store.ErrNotFound)

	off, err := f.s.MarkNodesOffline(f.ctx, t1)
	f.check(err)
	if len(off) != 0 {
		t.Fatalf("a node seen at the cut-off went offline: %v", off)
	}
	off, err = f.s.MarkNodesOffline(f.ctx, t1.Add(time.Second))
	f.check(err)
	if !sameIDs(off, []string{a.ID}) {
		t.Fatalf("MarkNodesOffline = %v, want [%s]", off, a.ID)
	}
	if n, _ := f.s.NodeByID(f.ctx, a.ID); n.Status != protocol.NodeOffline {
		t.Fatalf("status %q after MarkNodesOffline", n.Status)
	}
	if off, _ := f.s.MarkNodesOffline(f.ctx, t1.Add(time.Hour)); len(off) != 0 {
		t.Fatalf("offline nodes marked again: %v", off)
	}
	if changed, err := f.s.MarkNodeOffline(f.ctx, a.ID); err != nil || changed {
		t.Fatalf("MarkNodeOffline of an offline node: %v, %v", changed, err)
	}
	came, err = f.s.TouchNodes(f.ctx, []string{a.ID}, t1.Add(time.Hour))
	f.check(err)
	if !sameIDs(came, []string{a.ID}) {
		t.Fatalf("touch after offline: came online %v", came)
	}
	// A node saying it shuts down goes offline at once.
	if changed, err := f.s.MarkNodeOffline(f.ctx, a.ID); err != nil || !changed {
		t.Fatalf("MarkNodeOffline of an online node: %v, %v", changed, err)
	}
	if n, _ := f.s.NodeByID(f.ctx, a.ID); n.Status != protocol.NodeOffline {
		t.Fatalf("status %q after MarkNodeOffline", n.Status)
	}
}

func testDeleteStaleNodes(f *fixture) {
	t := f.t
	u := f.user("alice")
	oldUnclaimed := f.node(t0)
	newUnclaimed := f.node(t0.Add(2 * time.Hour))
	dead := f.online(u.ID, 1, t0)
	alive := f.online(u.ID, 1, t0)
	if _, err := f.s.MarkNodesOffline(f.ctx, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.TouchNodes(f.ctx, []string{alive.ID}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, err := f.s.DeleteStaleNodes(f.ctx, t0.Add(time.Hour), t0.Add(time.Hour))
	f.check(err)
	if n != 2 {
		t.Fatalf("deleted %d nodes, want 2", n)
	}
	for id, kept := range map[string]bool{oldUnclaimed.ID: false, dead.ID: false, newUnclaimed.ID: true, alive.ID: true} {
		_, err := f.s.NodeByID(f.ctx, id)
		if kept && err != nil {
			t.Fatalf("node %s: %v, want kept", id, err)
		}
		if !kept {
			wantErr(t, "deleted node", err, store.ErrNotFound)
		}
	}
}

// The capacity of a node's heartbeat is stored, reported as changed only
// when it changes, and given to the planner; nil clears it.
func testNodeCapacity(f *fixture) {
	t := f.t
	u := f.user("alice")
	a := f.online(u.ID, 4, t0)
	seen := func() *int {
		t.Helper()
		var got *int
		found := false
		_, err := f.s.AssignPending(f.ctx, 10, t0, func(_ []store.PendingChunk, nodes []store.NodeLoad) []store.Assignment {
			for _, n := range nodes {
				if n.ID == a.ID {
					got, found = n.Capacity, true
				}
			}
			return nil
		})
		f.check(err)
		if !found {
			t.Fatal("the planner was not shown the node")
		}
		return got
	}
	f.job(u.ID, 1000, t0)
	if c := seen(); c != nil {
		t.Fatalf("capacity %d before any was reported", *c)
	}
	for _, step := range []struct {
		capacity *int
		changed  bool
	}{{ptr(0), true}, {ptr(0), false}, {ptr(3), true}, {nil, true}, {nil, false}, {ptr(2), true}} {
		changed, err := f.s.SetNodeCapacity(f.ctx, a.ID, step.capacity)
		f.check(err)
		if changed != step.changed {
			t.Fatalf("SetNodeCapacity(%v): changed %v, want %v", fmtPtr(step.capacity), changed, step.changed)
		}
		if got := seen(); fmtPtr(got) != fmtPtr(step.capacity) {
			t.Fatalf("planner saw capacity %s, want %s", fmtPtr(got), fmtPtr(step.capacity))
		}
	}
	_, err := f.s.SetNodeCapacity(f.ctx, "not-a-uuid", ptr(1))
	wantErr(t, "malformed id", err, store.ErrNotFound)
}

func ptr(n int) *int { return &n }

func fmtPtr(p *int) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}
