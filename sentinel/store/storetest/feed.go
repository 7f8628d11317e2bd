package storetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// feedTimeout bounds the wait for notifications (PostgreSQL delivers them
// asynchronously).
const feedTimeout = 20 * time.Second

// change is an expected KindChange.
func change(table, op, id string, old map[string]any) store.Notification {
	return store.Notification{Kind: store.KindChange, Change: store.Change{Table: table, Op: op, ID: id, Old: old}}
}

// pending is an expected KindPendingChunk.
func pending(id string) store.Notification {
	return store.Notification{Kind: store.KindPendingChunk, ChunkID: id}
}

// describe is a notification as comparable text, without its time.
func describe(n store.Notification) string {
	switch n.Kind {
	case store.KindChange:
		old := "nil"
		if n.Change.Old != nil {
			b, _ := json.Marshal(n.Change.Old) // sorted keys
			old = string(b)
		}
		return fmt.Sprintf("change %s %s %s old=%s", n.Change.Table, n.Change.Op, n.Change.ID, old)
	case store.KindPendingChunk:
		return "pending_chunk " + n.ChunkID
	case store.KindReset:
		return "reset"
	}
	return fmt.Sprintf("kind %d", n.Kind)
}

// expect reads len(want) notifications and fails unless they are want, in
// any order (notifications of one transaction may come in trigger order).
func (f *fixture) expect(sub *store.Subscription, step string, want ...store.Notification) {
	f.t.Helper()
	deadline := time.NewTimer(feedTimeout)
	defer deadline.Stop()
	var got []string
	for len(got) < len(want) {
		select {
		case n, ok := <-sub.C:
			if !ok {
				f.t.Fatalf("%s: subscription closed", step)
			}
			if n.Kind == store.KindChange && n.Change.At.IsZero() {
				f.t.Fatalf("%s: change without a time: %+v", step, n)
			}
			got = append(got, describe(n))
		case <-deadline.C:
			f.t.Fatalf("%s: got %d notifications %q, want %d", step, len(got), got, len(want))
		}
	}
	wantText := make([]string, len(want))
	for i, n := range want {
		wantText[i] = describe(n)
	}
	slices.Sort(got)
	slices.Sort(wantText)
	if !slices.Equal(got, wantText) {
		f.t.Fatalf("%s: notifications\n  %s\nwant\n  %s", step, strings.Join(got, "\n  "), strings.Join(wantText, "\n  "))
	}
}

// testFeed checks that each write announces its row changes, with the old
// routing keys, and pending chunks; that a heartbeat moving only
// last_seen_at and writes to other tables announce nothing.
func testFeed(f *fixture) {
	sub := f.s.Subscribe(4096)
	defer sub.Close()
	u := f.user("alice") // users are not announced
	nn := store.NewNode{PublicKey: "feed-key", ClaimCode: "FEED-CODE", Version: "1", Platform: "p", TotalCores: 4, Now: t0}
	n, _, err := f.s.RegisterNode(f.ctx, nn, store.NodeUpdate{Version: "1", Platform: "p", TotalCores: 4})
	f.check(err)
	f.expect(sub, "register", change("nodes", "INSERT", n.ID, nil))

	nodeKeys := func(user any) map[string]any { return map[string]any{"id": n.ID, "user_id": user} }
	_, _, err = f.s.RegisterNode(f.ctx, nn, store.NodeUpdate{Version: "2", Platform: "p", TotalCores: 4})
	f.check(err)
	f.expect(sub, "re-register with a new version", change("nodes", "UPDATE", n.ID, nodeKeys(nil)))

	mp := 2
	_, err = f.s.ClaimNode(f.ctx, store.Claim{NodeID: n.ID, UserID: u.ID, MaxParallel: &mp})
	f.check(err)
	f.expect(sub, "claim", change("nodes", "UPDATE", n.ID, nodeKeys(nil)))

	_, err = f.s.TouchNodes(f.ctx, []string{n.ID}, t0)
	f.check(err)
	f.expect(sub, "first touch", change("nodes", "UPDATE", n.ID, nodeKeys(u.ID)))
	// A heartbeat of an online node, the replay memory and maintenance
	// records are not announced: the next step would see them.
	_, err = f.s.TouchNodes(f.ctx, []string{n.ID}, t0.Add(time.Second))
	f.check(err)
	_, err = f.s.RememberSignature(f.ctx, store.Signature{Signature: "sig", Key: n.PublicKey, Now: t0, Expires: t0.Add(time.Minute)})
	f.check(err)
	f.check(f.s.GrantNode(f.ctx, n.ID, "user", "friend"))

	j := newJob(u.ID, 2000, "private", t0)
	f.check(f.s.CreateJob(f.ctx, j))
	c0, c1 := j.Chunks[0].ID, j.Chunks[1].ID
	f.expect(sub, "create job",
		change("jobs", "INSERT", j.Job.ID, nil),
		change("jobs_chunks", "INSERT", c0, nil), pending(c0),
		change("jobs_chunks", "INSERT", c1, nil), pending(c1))

	chunkKeys := func(id string, node any, status string) map[string]any {
		return map[string]any{"id": id, "job_id": j.Job.ID, "node_id": node, "status": status}
	}
	jobKeys := func(status string) map[string]any {
		return map[string]any{"id": j.Job.ID, "user_id": u.ID, "status": status}
	}
	f.assign(t0, n.ID, c0)
	f.expect(sub, "assign",
		change("jobs_chunks", "UPDATE", c0, chunkKeys(c0, nil, protocol.StatusPending)),
		change("jobs", "UPDATE", j.Job.ID, jobKeys(protocol.StatusPending)))

	ok, err := f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: c0, NodeID: n.ID})
	if err != nil || !ok {
		f.t.Fatalf("requeue: %v %v", ok, err)
	}
	f.expect(sub, "requeue",
		change("jobs_chunks", "UPDATE", c0, chunkKeys(c0, n.ID, protocol.StatusRunning)), pending(c0))

	f.assign(t0, n.ID, c0, c1)
	f.expect(sub, "assign both",
		change("jobs_chunks", "UPDATE", c0, chunkKeys(c0, nil, protocol.StatusPending)),
		change("jobs_chunks", "UPDATE", c1, chunkKeys(c1, nil, protocol.StatusPending)))

	reclaimed, err := f.s.ReclaimSilent(f.ctx, t0.Add(time.Hour))
	f.check(err)
	if len(reclaimed) != 2 {
		f.t.Fatalf("reclaimed %v", reclaimed)
	}
	f.expect(sub, "reclaim",
		change("jobs_chunks", "UPDATE", c0, chunkKeys(c0, n.ID, protocol.StatusRunning)), pending(c0),
		change("jobs_chunks", "UPDATE", c1, chunkKeys(c1, n.ID, protocol.StatusRunning)), pending(c1))

	f.assign(t0, n.ID, c0)
	f.expect(sub, "assign again", change("jobs_chunks", "UPDATE", c0, chunkKeys(c0, nil, protocol.StatusPending)))
	out, err := f.completeOne(store.Completion{ChunkID: c0, NodeID: n.ID, Result: result(1000, 1), Now: t0}, sumAggregate)
	if err != nil || !out.Applied {
		f.t.Fatalf("complete: %+v %v", out, err)
	}
	f.expect(sub, "complete",
		change("jobs_chunks", "UPDATE", c0, chunkKeys(c0, n.ID, protocol.StatusRunning)),
		change("jobs", "UPDATE", j.Job.ID, jobKeys(protocol.StatusRunning)))

	f.assign(t0, n.ID, c1)
	f.expect(sub, "assign last", change("jobs_chunks", "UPDATE", c1, chunkKeys(c1, nil, protocol.StatusPending)))
	if ok, err := f.s.FailChunk(f.ctx, store.Failure{ChunkID: c1, NodeID: n.ID, Error: "x", Now: t0}); err != nil || !ok {
		f.t.Fatalf("fail: %v %v", ok, err)
	}
	f.expect(sub, "fail",
		change("jobs_chunks", "UPDATE", c1, chunkKeys(c1, n.ID, protocol.StatusRunning)),
		change("jobs", "UPDATE", j.Job.ID, jobKeys(protocol.StatusRunning)))

	off, err := f.s.MarkNodesOffline(f.ctx, t0.Add(time.Hour))
	f.check(err)
	if len(off) != 1 {
		f.t.Fatalf("offline %v", off)
	}
	f.expect(sub, "offline", change("nodes", "UPDATE", n.ID, nodeKeys(u.ID)))

	// Deleting a node detaches the chunks that name it.
	deleted, err := f.s.DeleteStaleNodes(f.ctx, t0, t0.Add(time.Hour))
	if err != nil || deleted != 1 {
		f.t.Fatalf("delete: %d %v", deleted, err)
	}
	f.expect(sub, "delete node",
		change("nodes", "DELETE", n.ID, nodeKeys(u.ID)),
		change("jobs_chunks", "UPDATE", c0, chunkKeys(c0, n.ID, protocol.StatusCompleted)),
		change("jobs_chunks", "UPDATE", c1, chunkKeys(c1, n.ID, protocol.StatusFailed)))
	if c := f.chunk(c0); c.NodeID != "" || c.Status != protocol.StatusCompleted {
		f.t.Fatalf("chunk of a deleted node %+v", c)
	}

	// A last write proves nothing unexpected came in between.
	marker := f.node(t0)
	f.expect(sub, "marker", change("nodes", "INSERT", marker.ID, nil))
}

// Column sets of the readable tables: PROTOCOL.md section 4 plus the
// extensions, identical in every store.
var (
	nodeColumns = []string{"id", "user_id", "name", "max_parallel", "status", "last_seen_at", "version", "total_cores",
		"platform", "created_at", "public_key", "claim_code", "capacity"}
	jobColumns = []string{"id", "user_id", "config_hash", "total_iterations", "completed_iterations", "status", "result",
		"created_at", "completed_at", "access_type", "discord_server_id", "error"}
	chunkColumns = []string{"id", "job_id", "node_id", "config_hash", "iterations", "seed_offset", "status", "result",
		"claimed_at", "completed_at", "created_at", "attempts", "last_error", "previous_node_ids"}
)

// readRow reads a row and checks its column set.
func (f *fixture) readRow(table, id string, cols []string) map[string]any {
	f.t.Helper()
	rows, err := f.s.ReadRows(f.ctx, table, []string{id})
	f.check(err)
	raw, ok := rows[id]
	if !ok || len(rows) != 1 {
		f.t.Fatalf("ReadRows(%s, [%s]) = %d rows without it", table, id, len(rows))
	}
	var row map[string]any
	if err := json.Unmarshal(raw, &row); err != nil {
		f.t.Fatalf("%s row %s: %v", table, raw, err)
	}
	got := slices.Sorted(maps.Keys(row))
	want := slices.Sorted(slices.Values(cols))
	if !slices.Equal(got, want) {
		f.t.Fatalf("%s columns %v, want %v", table, got, want)
	}
	return row
}

// wantFields fails unless row holds each value (JSON types: strings,
// float64, nil; time.Time for a timestamp string).
func (f *fixture) wantFields(what string, row map[string]any, want map[string]any) {
	f.t.Helper()
	for k, w := range want {
		g := row[k]
		if wt, ok := w.(time.Time); ok {
			s, isString := g.(string)
			gt, err := time.Parse(time.RFC3339Nano, s)
			if !isString || err != nil || !gt.Equal(wt) {
				f.t.Fatalf("%s.%s = %#v, want the RFC 3339 time %v", what, k, g, wt)
			}
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) || fmt.Sprintf("%T", g) != fmt.Sprintf("%T", w) {
			f.t.Fatalf("%s.%s = %#v, want %#v", what, k, g, w)
		}
	}
}

func testReadRows(f *fixture) {
	t := f.t
	u := f.user("alice")
	unclaimed := f.node(t0)
	row := f.readRow("nodes", unclaimed.ID, nodeColumns)
	f.wantFields("unclaimed node", row, map[string]any{"id": unclaimed.ID, "user_id": nil, "name": "My Node", "max_parallel": 4.0,
		"status": "pending", "last_seen_at": nil, "version": "1.0.0", "total_cores": 8.0, "platform": "linux-x86_64",
		"created_at": t0, "public_key": unclaimed.PublicKey, "claim_code": unclaimed.ClaimCode, "capacity": nil})

	t1 := t0.Add(90*time.Second + 250*time.Millisecond)
	n := f.online(u.ID, 3, t1)
	row = f.readRow("nodes", n.ID, nodeColumns)
	f.wantFields("online node", row, map[string]any{"user_id": u.ID, "max_parallel": 3.0, "status": "online",
		"last_seen_at": t1, "claim_code": nil})

	j := newJob(u.ID, 1000, "discord", t0)
	j.Job.DiscordServerID = "guild-1"
	f.check(f.s.CreateJob(f.ctx, j))
	c := j.Chunks[0].ID
	row = f.readRow("jobs", j.Job.ID, jobColumns)
	f.wantFields("pending job", row, map[string]any{"id": j.Job.ID, "user_id": u.ID, "config_hash": j.Job.ConfigHash,
		"total_iterations": 1000.0, "completed_iterations": 0.0, "status": "pending", "result": nil, "created_at": t0,
		"completed_at": nil, "access_type": "discord", "discord_server_id": "guild-1", "error": nil})
	row = f.readRow("jobs_chunks", c, chunkColumns)
	f.wantFields("pending chunk", row, map[string]any{"id": c, "job_id": j.Job.ID, "node_id": nil, "config_hash": j.Job.ConfigHash,
		"iterations": 1000.0, "seed_offset": 0.0, "status": "pending", "result": nil, "claimed_at": nil, "completed_at": nil,
		"created_at": t0, "attempts": 0.0, "last_error": nil, "previous_node_ids": []any{}})

	f.assign(t1, n.ID, c)
	t2 := t1.Add(time.Minute)
	if _, err := f.completeOne(store.Completion{ChunkID: c, NodeID: n.ID, Result: result(1000, 123.5), Now: t2}, sumAggregate); err != nil {
		t.Fatal(err)
	}
	row = f.readRow("jobs", j.Job.ID, jobColumns)
	f.wantFields("completed job", row, map[string]any{"completed_iterations": 1000.0, "status": "completed", "completed_at": t2,
		"result": map[string]any{"meanDps": 123.5, "stdDps": 0.0, "minDps": 0.0, "maxDps": 0.0, "totalIterations": 1000.0, "chunksCompleted": 1.0}})
	row = f.readRow("jobs_chunks", c, chunkColumns)
	f.wantFields("completed chunk", row, map[string]any{"node_id": n.ID, "status": "completed", "claimed_at": t1, "completed_at": t2,
		"result": map[string]any{"iterations": 1000.0, "meanDps": 123.5, "stdDps": 1.0, "minDps": 121.5, "maxDps": 125.5}})

	// previous_node_ids is a JSON array of ids.
	other := f.job(u.ID, 1000, t0)
	f.assign(t1, n.ID, other.Chunks[0].ID)
	if ok, err := f.s.RequeueChunk(f.ctx, store.Requeue{ChunkID: other.Chunks[0].ID, NodeID: n.ID, CountAttempt: true, Error: "oops"}); err != nil || !ok {
		t.Fatalf("requeue %v %v", ok, err)
	}
	row = f.readRow("jobs_chunks", other.Chunks[0].ID, chunkColumns)
	f.wantFields("requeued chunk", row, map[string]any{"previous_node_ids": []any{n.ID}, "attempts": 1.0, "last_error": "oops", "node_id": nil})

	// Several rows in one read; ids of no row, malformed ids and repeats
	// are left out of the answer, not refused.
	missing := uuid.NewString()
	rows, err := f.s.ReadRows(f.ctx, "jobs_chunks", []string{c, missing, "not-a-uuid", other.Chunks[0].ID, c})
	f.check(err)
	if len(rows) != 2 || rows[c] == nil || rows[other.Chunks[0].ID] == nil {
		t.Fatalf("ReadRows of two chunks, an unknown id, a malformed id and a repeat: %d rows %v", len(rows), slices.Sorted(maps.Keys(rows)))
	}
	if rows, err := f.s.ReadRows(f.ctx, "jobs", nil); err != nil || len(rows) != 0 {
		t.Fatalf("ReadRows of no ids = %v, %v", rows, err)
	}
	for _, table := range []string{"users", "jobs_configs", "seen_signatures", "nodes; DROP TABLE jobs", ""} {
		if _, err := f.s.ReadRows(f.ctx, table, []string{u.ID}); err == nil {
			t.Fatalf("ReadRows(%q) accepted", table)
		}
	}
}
