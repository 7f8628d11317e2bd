package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// TestPresenceIndex checks that the index finds exactly the channels
// seesPresenceOf allows, for every pair of a small population: nodes of
// two users (two sockets for one node), the users themselves, and an
// unclaimed node.
func TestPresenceIndex(t *testing.T) {
	x := newPresenceIndex()
	var all []*channel
	node := func(id, owner string) *channel {
		ch := &channel{topic: presenceTopic, key: id, owner: owner, caller: sentinel.Caller{Role: sentinel.RoleNode, NodeID: id}}
		all = append(all, ch)
		return ch
	}
	user := func(id, key string) *channel {
		ch := &channel{topic: presenceTopic, key: key, caller: sentinel.Caller{Role: sentinel.RoleUser, UserID: id}}
		all = append(all, ch)
		return ch
	}
	for i := range 5 {
		node(fmt.Sprintf("a%d", i), "alice")
		node(fmt.Sprintf("b%d", i), "bob")
	}
	node("a0", "alice") // a second socket of node a0
	node("fresh", "")
	user("alice", "k1")
	user("bob", "a1") // a user tracking under another user's node id
	for _, ch := range all {
		x.add(ch)
	}
	check := func(t *testing.T) {
		t.Helper()
		for _, src := range all {
			var want, got []*channel
			for _, ch := range all {
				if ch.seesPresenceOf(src) {
					want = append(want, ch)
				}
			}
			x.audience(src, func(ch *channel) { got = append(got, ch) })
			if !sameChannels(got, want) {
				t.Errorf("audience of %s (%s): %d channels, want %d", src.key, src.caller.Identity(), len(got), len(want))
			}
		}
		for _, viewer := range all {
			var want, got []*channel
			for _, ch := range all {
				if viewer.seesPresenceOf(ch) {
					want = append(want, ch)
				}
			}
			x.visibleTo(viewer, func(ch *channel) { got = append(got, ch) })
			if !sameChannels(got, want) {
				t.Errorf("visible to %s: %d channels, want %d", viewer.caller.Identity(), len(got), len(want))
			}
		}
	}
	check(t)
	// Removing channels leaves the index as if they never joined.
	for _, ch := range []*channel{all[0], all[3], all[len(all)-1]} {
		x.remove(ch)
		all = slices.DeleteFunc(all, func(c *channel) bool { return c == ch })
	}
	check(t)
	for _, ch := range all {
		x.remove(ch)
	}
	for name, m := range map[string]map[string]map[*channel]struct{}{"nodeViewers": x.nodeViewers, "userViewers": x.userViewers, "byKey": x.byKey, "byOwner": x.byOwner} {
		if len(m) != 0 {
			t.Errorf("%s keeps %d keys after every channel left", name, len(m))
		}
	}
}

func sameChannels(a, b []*channel) bool {
	if len(a) != len(b) {
		return false
	}
	for _, c := range a {
		if !slices.Contains(b, c) {
			return false
		}
	}
	return true
}

// readOnlyStore answers ReadRows with fixed rows; nothing else is called.
type readOnlyStore struct {
	store.Store
	rows map[string]json.RawMessage
}

func (s readOnlyStore) ReadRows(_ context.Context, _ string, ids []string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for _, id := range ids {
		if r, ok := s.rows[id]; ok {
			out[id] = r
		}
	}
	return out, nil
}

// Regression: a chunk inserted and assigned at once had both changes read
// after the assignment, so its node got the same running row twice. The
// changes of one row taken together reach a channel once.
func TestChangesOfOneRowSentOnce(t *testing.T) {
	const nodeID, chunk, other = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"
	row := func(id string) json.RawMessage {
		return json.RawMessage(`{"id":"` + id + `","node_id":"` + nodeID + `","status":"running","iterations":1000,"seed_offset":0,"config_hash":"h"}`)
	}
	st := readOnlyStore{rows: map[string]json.RawMessage{chunk: row(chunk), other: row(other)}}
	g := &Gateway{store: st, clock: sentinel.SystemClock{}, log: slog.New(slog.DiscardHandler), limits: DefaultLimits(),
		schema: newSchema(), ready: make(chan struct{})}
	g.hub = newHub(g)
	cd, err := newCodec(vsn2)
	if err != nil {
		t.Fatal(err)
	}
	sock := &socket{g: g, codec: cd, out: newSendQueue(1<<20, time.Hour), done: make(chan struct{}), identities: map[string]bool{}}
	ch := &channel{sock: sock, topic: "realtime:chunks:" + nodeID, joinRef: json.RawMessage(`"1"`),
		caller: sentinel.Caller{Role: sentinel.RoleNode, NodeID: nodeID}}
	ch.bindings = []*binding{{id: 1, ch: ch, event: "*", table: "jobs_chunks", col: "node_id", val: nodeID}}
	if err := g.hub.addChannel(ch, json.RawMessage(`"1"`), json.RawMessage(`"1"`)); err != nil {
		t.Fatal(err)
	}

	var feed store.Feed
	sub := feed.Subscribe(16)
	now := time.Now()
	feed.Publish(store.Notification{Kind: store.KindChange, Change: store.Change{Table: "jobs_chunks", Op: "INSERT", ID: chunk, At: now}})
	feed.Publish(store.Notification{Kind: store.KindChange, Change: store.Change{Table: "jobs_chunks", Op: "UPDATE", ID: chunk, At: now,
		Old: map[string]any{"id": chunk, "node_id": nil, "status": "pending"}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.hub.dispatch(ctx, sub) }()
	// A later change of another row marks the end of the first batch.
	changesOf := func() map[string]int {
		n := map[string]int{}
		frames, _ := sock.out.waiting()
		for range frames {
			f, _ := sock.out.pop()
			for _, id := range []string{chunk, other} {
				if strings.Contains(string(f), `"postgres_changes"`) && strings.Contains(string(f), id) {
					n[id]++
				}
			}
		}
		return n
	}
	got := map[string]int{}
	feed.Publish(store.Notification{Kind: store.KindChange, Change: store.Change{Table: "jobs_chunks", Op: "UPDATE", ID: other, At: now}})
	deadline := time.Now().Add(10 * time.Second)
	for got[other] == 0 && time.Now().Before(deadline) {
		for id, n := range changesOf() {
			got[id] += n
		}
		if got[other] == 0 {
			select {
			case <-sock.out.wake:
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	cancel()
	sub.Close()
	<-done
	if got[other] != 1 || got[chunk] != 1 {
		t.Fatalf("frames per row: %v; want one each", got)
	}
}
