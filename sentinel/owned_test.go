package sentinel

import (
	"context"
	"errors"
	"strings"
	"testing"

	"wowlab/examples"
	"wowlab/protocol"
)

func ptr[T any](v T) *T { return &v }

func TestUpdateAndRemoveNode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, _ := e.user("alice")
	bob, _ := e.user("bob")
	n := e.onlineNode(alice.ID, 8, 4)
	cases := []struct {
		name string
		user string
		set  NodeSettings
		kind Kind
	}{
		{"empty name", alice.ID, NodeSettings{Name: ptr("  ")}, KindInvalid},
		{"control character", alice.ID, NodeSettings{Name: ptr("a\x1bb")}, KindInvalid},
		{"long name", alice.ID, NodeSettings{Name: ptr(strings.Repeat("n", maxNameLen+1))}, KindInvalid},
		{"max parallel 0", alice.ID, NodeSettings{MaxParallel: ptr(0)}, KindInvalid},
		{"absurd max parallel", alice.ID, NodeSettings{MaxParallel: ptr(1 << 30)}, KindInvalid},
		{"another user's node", bob.ID, NodeSettings{Name: ptr("mine")}, KindNotFound},
		{"not a user id", "nope", NodeSettings{Name: ptr("mine")}, KindNotFound},
	}
	for _, c := range cases {
		if _, err := e.svc.UpdateNode(ctx, c.user, n.id, c.set); KindOf(err) != c.kind {
			t.Errorf("%s: %v, want kind %d", c.name, err, c.kind)
		}
	}
	got, err := e.svc.UpdateNode(ctx, alice.ID, n.id, NodeSettings{Name: ptr(" desk "), MaxParallel: ptr(2)})
	if err != nil || got.Name != "desk" || got.MaxParallel != 2 {
		t.Fatalf("update: %+v %v", got, err)
	}
	if own, err := e.svc.UserNodes(ctx, alice.ID); err != nil || len(own) != 1 || own[0].ID != n.id {
		t.Fatalf("alice's nodes: %+v %v", own, err)
	}
	if own, err := e.svc.UserNodes(ctx, bob.ID); err != nil || len(own) != 0 {
		t.Fatalf("bob's nodes: %+v %v", own, err)
	}
	if err := e.svc.RemoveNode(ctx, bob.ID, n.id); KindOf(err) != KindNotFound {
		t.Fatalf("bob removed alice's node: %v", err)
	}
	if err := e.svc.RemoveNode(ctx, alice.ID, n.id); err != nil {
		t.Fatal(err)
	}
	// The removed node is told it is not found, so it registers again.
	var info protocol.NodeInfo
	if st, body := n.call(protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: "online"}, &info); st != 404 {
		t.Fatalf("heartbeat of a removed node: %d %s", st, body)
	}
}

func TestCancelJob(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, _ := e.user("alice")
	bob, _ := e.user("bob")
	j := e.job(alice.ID, 2500, AccessPrivate)
	if err := e.svc.CancelJob(ctx, bob.ID, j.JobID); KindOf(err) != KindNotFound {
		t.Fatalf("bob cancelled alice's job: %v", err)
	}
	if err := e.svc.CancelJob(ctx, alice.ID, j.JobID); err != nil {
		t.Fatal(err)
	}
	job, err := e.db.JobByID(ctx, j.JobID)
	if err != nil || job.Status != protocol.StatusFailed || job.Error != CancelledError {
		t.Fatalf("cancelled job %+v %v", job, err)
	}
	for _, c := range e.chunks(j.JobID) {
		if c.Status != protocol.StatusFailed {
			t.Errorf("chunk of the cancelled job %+v", c)
		}
	}
	if err := e.svc.CancelJob(ctx, alice.ID, j.JobID); KindOf(err) != KindConflict {
		t.Fatalf("second cancel: %v", err)
	}
	if err := e.svc.CancelJob(ctx, alice.ID, "nope"); KindOf(err) != KindNotFound {
		t.Fatalf("cancel of a malformed id: %v", err)
	}
}

func TestRotationWrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, _ := e.user("alice")
	bob, _ := e.user("bob")
	valid := `{"actions":[{"cast":"kill_command"}]}`
	bad := []struct {
		name string
		f    RotationFields
		want string
	}{
		{"no script", RotationFields{Name: ptr("x")}, "needs a name and a script"},
		{"no name", RotationFields{Script: ptr(valid)}, "needs a name and a script"},
		{"unknown spell", RotationFields{Name: ptr("x"), Script: ptr(`{"actions":[{"cast":"kill_comand"}]}`)}, `actions[0].cast: unknown spell "kill_comand"`},
		{"not JSON", RotationFields{Name: ptr("x"), Script: ptr(`cast kill_command`)}, "script"},
		{"NUL in the script", RotationFields{Name: ptr("x"), Script: ptr("{\x00}")}, "control character"},
		{"bad slug", RotationFields{Name: ptr("x"), Script: ptr(valid), Slug: ptr("Not A Slug")}, "slug"},
		{"huge script", RotationFields{Name: ptr("x"), Script: ptr(strings.Repeat(" ", MaxScriptBytes+1))}, "longer than"},
	}
	for _, c := range bad {
		_, err := e.svc.CreateRotation(ctx, alice.ID, c.f)
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a refusal with %q", c.name, err, c.want)
		}
	}
	_, err := e.svc.CreateRotation(ctx, alice.ID, RotationFields{Name: ptr("x"), Script: ptr(`{"actions":[{"cast":"kill_comand"}]}`)})
	var se *Error
	if !errors.As(err, &se) || len(se.Problems) != 1 || se.Problems[0].Path != "actions[0].cast" {
		t.Fatalf("problems of an unknown spell: %#v", err)
	}
	var n int
	e.dbQueryRow("SELECT count(*) FROM rotations").Scan(&n)
	if n != 0 {
		t.Fatalf("refused rotations wrote %d rows", n)
	}
	id, err := e.svc.CreateRotation(ctx, alice.ID, RotationFields{Name: ptr("Single Target!"), Script: ptr(valid)})
	if err != nil {
		t.Fatal(err)
	}
	var slug string
	var public bool
	e.dbQueryRow("SELECT slug, is_public FROM rotations WHERE id = $1", id).Scan(&slug, &public)
	if slug != "single-target" || public {
		t.Fatalf("slug %q public %v", slug, public)
	}
	if err := e.svc.UpdateRotation(ctx, bob.ID, id, RotationFields{IsPublic: ptr(true)}); KindOf(err) != KindNotFound {
		t.Fatalf("bob changed alice's rotation: %v", err)
	}
	if err := e.svc.UpdateRotation(ctx, alice.ID, id, RotationFields{Script: ptr(`{"actions":[{"cast":"nope"}]}`)}); KindOf(err) != KindInvalid {
		t.Fatalf("an invalid script was saved: %v", err)
	}
	if err := e.svc.UpdateRotation(ctx, alice.ID, id, RotationFields{IsPublic: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	e.dbQueryRow("SELECT is_public FROM rotations WHERE id = $1", id).Scan(&public)
	if !public {
		t.Fatal("the rotation did not become public")
	}
	// Bob's job may use it now; after its deletion no job may.
	cfg := `{"rotationId":"` + id + `",` + strings.TrimPrefix(string(examples.Quick(1)), "{")
	if _, err := e.svc.CreateJob(ctx, bob.ID, JobRequest{Config: []byte(cfg), Iterations: 10}); err != nil {
		t.Fatalf("job with a public rotation: %v", err)
	}
	if err := e.svc.DeleteRotation(ctx, bob.ID, id); KindOf(err) != KindNotFound {
		t.Fatalf("bob deleted alice's rotation: %v", err)
	}
	if err := e.svc.DeleteRotation(ctx, alice.ID, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateJob(ctx, bob.ID, JobRequest{Config: []byte(cfg), Iterations: 10}); KindOf(err) != KindForbidden {
		t.Fatalf("job with a deleted rotation: %v", err)
	}
}

func TestValidateRotation(t *testing.T) {
	cases := []struct {
		script, spec, wantSpec string
		problems               int
	}{
		{`{"actions":[{"cast":"kill_command"}]}`, "", "beast_mastery", 0},
		{`{"actions":[{"cast":"aimed_shot"}]}`, "", "marksmanship", 0},
		{`{"actions":[{"cast":"aimed_shot"}]}`, "bm", "beast_mastery", 1},
		{`{"actions":[{"cast":"nope"},{"cast":"kill_command"}]}`, "", "beast_mastery", 1},
		{`{"actions":[]}`, "warrior", "warrior", 1},
	}
	for _, c := range cases {
		ps, spec := ValidateRotation(c.script, c.spec)
		if len(ps) != c.problems || spec != c.wantSpec {
			t.Errorf("%s for %q: %v (%s), want %d problems for %s", c.script, c.spec, ps, spec, c.problems, c.wantSpec)
		}
	}
}

func TestProgressSaysWhyNoNodeTakesTheJob(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, _ := e.user("alice")
	bob, _ := e.user("bob")
	cases := []struct {
		access string
		want   string
	}{
		{AccessPrivate, "none of your nodes is online"},
		{AccessUser, "none of the 0 online nodes is granted to you"},
		{AccessPublic, "no node is online"},
	}
	jobs := map[string]string{}
	for _, c := range cases {
		jobs[c.access] = e.job(alice.ID, 1000, c.access).JobID
		p, err := e.svc.Progress(ctx, alice.ID, jobs[c.access])
		if err != nil || p.EligibleNodes != 0 || !strings.Contains(p.Waiting, c.want) {
			t.Errorf("%s job with no node: %+v %v, want %q", c.access, p, err, c.want)
		}
	}
	// Bob's node comes online: it may take the public job only, until bob
	// grants it to alice.
	n := e.onlineNode(bob.ID, 4, 4)
	for access, want := range map[string]int{AccessPrivate: 0, AccessUser: 0, AccessPublic: 1} {
		p, err := e.svc.Progress(ctx, alice.ID, jobs[access])
		if err != nil || p.EligibleNodes != want || (want == 0) != (p.Waiting != "") {
			t.Errorf("%s job with bob's node: %+v %v", access, p, err)
		}
	}
	if p, _ := e.svc.Progress(ctx, alice.ID, jobs[AccessUser]); !strings.Contains(p.Waiting, "of the 1 online nodes") {
		t.Errorf("user job: %q", p.Waiting)
	}
	if err := e.svc.GrantNode(ctx, bob.ID, n.id, alice.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := e.svc.Progress(ctx, alice.ID, jobs[AccessUser]); err != nil || p.EligibleNodes != 1 || p.Waiting != "" {
		t.Errorf("user job after the grant: %+v %v", p, err)
	}
	if _, err := e.svc.Progress(ctx, bob.ID, jobs[AccessPublic]); KindOf(err) != KindNotFound {
		t.Errorf("bob read alice's job: %v", err)
	}
	// An ended job waits for nothing.
	if err := e.svc.CancelJob(ctx, alice.ID, jobs[AccessPrivate]); err != nil {
		t.Fatal(err)
	}
	if p, err := e.svc.Progress(ctx, alice.ID, jobs[AccessPrivate]); err != nil || p.Waiting != "" || p.Status != protocol.StatusFailed || p.Error != CancelledError {
		t.Errorf("cancelled job: %+v %v", p, err)
	}
}
