package storetest

import (
	"encoding/json"
	"slices"
	"time"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

func testUpdateAndDeleteNode(f *fixture) {
	t := f.t
	owner, other := f.user("owner"), f.user("other")
	n := f.online(owner.ID, 4, t0)
	name, maxPar := "desk", 2
	got, err := f.s.UpdateNode(f.ctx, store.NodeChange{NodeID: n.ID, UserID: owner.ID, Name: &name})
	if err != nil || got.Name != "desk" || got.MaxParallel != 4 {
		t.Fatalf("rename: %+v %v", got, err)
	}
	if got, err = f.s.UpdateNode(f.ctx, store.NodeChange{NodeID: n.ID, UserID: owner.ID, MaxParallel: &maxPar}); err != nil || got.Name != "desk" || got.MaxParallel != 2 {
		t.Fatalf("max parallel: %+v %v", got, err)
	}
	_, err = f.s.UpdateNode(f.ctx, store.NodeChange{NodeID: n.ID, UserID: other.ID, Name: &name})
	wantErr(t, "another user's node", err, store.ErrNotFound)
	_, err = f.s.UpdateNode(f.ctx, store.NodeChange{NodeID: "nope", UserID: owner.ID, Name: &name})
	wantErr(t, "malformed node id", err, store.ErrNotFound)

	j := f.job(owner.ID, 2000, t0)
	f.assign(t0, n.ID, j.Chunks[0].ID)
	wantErr(t, "deleting another user's node", f.s.DeleteNode(f.ctx, n.ID, other.ID), store.ErrNotFound)
	if c := f.chunk(j.Chunks[0].ID); c.Status != protocol.StatusRunning || c.NodeID != n.ID {
		t.Fatalf("a refused delete changed the chunk: %+v", c)
	}
	f.check(f.s.DeleteNode(f.ctx, n.ID, owner.ID))
	_, err = f.s.NodeByID(f.ctx, n.ID)
	wantErr(t, "deleted node", err, store.ErrNotFound)
	c := f.chunk(j.Chunks[0].ID)
	if c.Status != protocol.StatusPending || c.NodeID != "" || c.Attempts != 0 || !slices.Contains(c.PreviousNodeIDs, n.ID) {
		t.Fatalf("chunk of the deleted node %+v", c)
	}
	wantErr(t, "deleting it again", f.s.DeleteNode(f.ctx, n.ID, owner.ID), store.ErrNotFound)
}

func testCancelJob(f *fixture) {
	t := f.t
	owner, other := f.user("owner"), f.user("other")
	n := f.online(owner.ID, 4, t0)
	j := f.job(owner.ID, 3000, t0)
	f.assign(t0, n.ID, j.Chunks[0].ID, j.Chunks[1].ID)
	if _, err := f.completeOne(store.Completion{ChunkID: j.Chunks[1].ID, NodeID: n.ID, Result: result(1000, 1), Now: t0}, sumAggregate); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.CancelJob(f.ctx, store.Cancel{JobID: j.Job.ID, UserID: other.ID, Error: "x", Now: t0})
	wantErr(t, "another user's job", err, store.ErrNotFound)
	if job := f.jobRow(j.Job.ID); job.Status != protocol.StatusRunning {
		t.Fatalf("a refused cancel changed the job: %+v", job)
	}
	t1 := t0.Add(time.Minute)
	if ended, err := f.s.CancelJob(f.ctx, store.Cancel{JobID: j.Job.ID, UserID: owner.ID, Error: "cancelled", Now: t1}); err != nil || !ended {
		t.Fatalf("cancel: %v %v", ended, err)
	}
	if job := f.jobRow(j.Job.ID); job.Status != protocol.StatusFailed || job.Error != "cancelled" || !job.CompletedAt.Equal(t1) {
		t.Fatalf("cancelled job %+v", job)
	}
	for k, want := range []string{protocol.StatusFailed, protocol.StatusCompleted, protocol.StatusFailed} {
		if c := f.chunk(j.Chunks[k].ID); c.Status != want {
			t.Errorf("chunk %d of the cancelled job: %s, want %s", k, c.Status, want)
		}
	}
	if ended, err := f.s.CancelJob(f.ctx, store.Cancel{JobID: j.Job.ID, UserID: owner.ID, Error: "again", Now: t1}); err != nil || ended {
		t.Fatalf("cancel of an ended job: %v %v", ended, err)
	}
	if job := f.jobRow(j.Job.ID); job.Error != "cancelled" {
		t.Fatalf("second cancel changed the error: %q", job.Error)
	}
	_, err = f.s.CancelJob(f.ctx, store.Cancel{JobID: "nope", UserID: owner.ID, Error: "x", Now: t1})
	wantErr(t, "malformed job id", err, store.ErrNotFound)
}

func testRotationWrites(f *fixture) {
	t := f.t
	owner, other := f.user("owner"), f.user("other")
	r := f.rotation(store.Rotation{UserID: owner.ID, Slug: "st", Script: "one"})
	cols := []string{"slug", "name", "script", "description", "is_public", "current_version", "checksum", "updated_at"}
	row := func() map[string]any {
		rows := f.selectRows(store.Query{Table: "rotations", Columns: cols, Limit: 1, Access: asUser(owner.ID),
			Filters: []store.Filter{{Column: "id", Op: store.OpEq, Values: []string{r.ID}}}})
		if len(rows) != 1 {
			t.Fatalf("rotation rows %v", rows)
		}
		return rows[0]
	}
	f.wantFields("created rotation", row(), map[string]any{"checksum": hashOf("one"), "current_version": json.Number("1")})
	script, desc, public, t1 := "two", "about", true, t0.Add(time.Hour)
	wantErr(t, "another user's rotation", f.s.UpdateRotation(f.ctx, store.RotationChange{ID: r.ID, UserID: other.ID, Script: &script, Now: t1}), store.ErrNotFound)
	f.check(f.s.UpdateRotation(f.ctx, store.RotationChange{ID: r.ID, UserID: owner.ID, Script: &script, Description: &desc, IsPublic: &public, Now: t1}))
	got := row()
	f.wantFields("updated rotation", got, map[string]any{"slug": "st", "script": "two", "description": "about", "is_public": true,
		"current_version": json.Number("2"), "checksum": hashOf("two"), "updated_at": t1})
	name, empty := "renamed", ""
	f.check(f.s.UpdateRotation(f.ctx, store.RotationChange{ID: r.ID, UserID: owner.ID, Name: &name, Script: &script, Description: &empty, Now: t1}))
	f.wantFields("renamed rotation", row(), map[string]any{"name": "renamed", "description": nil, "current_version": json.Number("2")})
	wantErr(t, "deleting another user's rotation", f.s.DeleteRotation(f.ctx, r.ID, other.ID), store.ErrNotFound)
	f.check(f.s.DeleteRotation(f.ctx, r.ID, owner.ID))
	wantErr(t, "deleting it again", f.s.DeleteRotation(f.ctx, r.ID, owner.ID), store.ErrNotFound)
	wantErr(t, "malformed rotation id", f.s.DeleteRotation(f.ctx, "nope", owner.ID), store.ErrNotFound)
	if err := f.s.CreateRotation(f.ctx, store.Rotation{ID: "nope", UserID: owner.ID, Slug: "x", Name: "x", Script: "x", CreatedAt: t0, UpdatedAt: t0}); err == nil {
		t.Fatal("a rotation with a malformed id was stored")
	}
}

func testOnlineNodes(f *fixture) {
	t := f.t
	owner, friend := f.user("owner"), f.user("friend")
	a := f.online(owner.ID, 4, t0)
	b := f.online(owner.ID, 4, t0)
	f.claimed(owner.ID, 4, t0) // claimed, never seen: not online
	f.node(t0)                 // unclaimed
	f.check(f.s.GrantNode(f.ctx, b.ID, "user", friend.ID))
	got, err := f.s.OnlineNodes(f.ctx)
	f.check(err)
	if len(got) != 2 {
		t.Fatalf("online nodes %+v", got)
	}
	for _, n := range got {
		var want []string
		switch n.ID {
		case a.ID:
		case b.ID:
			want = []string{friend.ID}
		default:
			t.Fatalf("node %s is not online", n.ID)
		}
		if n.UserID != owner.ID || !slices.Equal(n.GrantedTo, want) && len(want)+len(n.GrantedTo) > 0 {
			t.Errorf("node %s: %+v, want owner %s and grants %v", n.ID, n, owner.ID, want)
		}
	}
}
