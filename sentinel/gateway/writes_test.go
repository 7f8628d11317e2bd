package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"wowlab/examples"
)

func TestRotationWritesOverREST(t *testing.T) {
	f := newRESTFixture(t)
	ctx := context.Background()
	rep := []string{"Prefer", "return=representation"}
	script := `{"actions":[{"cast":"kill_command"},{"cast":"cobra_shot"}]}`
	st, body := f.rest("POST", "/rest/v1/rotations?select=id,user_id,name,slug,script,checksum,is_public,current_version", f.anon, f.tok1,
		map[string]any{"name": "My ST", "script": script}, rep...)
	if st != 201 {
		t.Fatalf("insert: %d %s", st, body)
	}
	var rows []struct {
		ID             string `json:"id"`
		UserID         string `json:"user_id"`
		Name           string `json:"name"`
		Slug           string `json:"slug"`
		Checksum       string `json:"checksum"`
		IsPublic       bool   `json:"is_public"`
		CurrentVersion int    `json:"current_version"`
	}
	sum := sha256.Sum256([]byte(script))
	if err := json.Unmarshal(body, &rows); err != nil || len(rows) != 1 || rows[0].UserID != f.u1 || rows[0].Slug != "my-st" ||
		rows[0].Checksum != hex.EncodeToString(sum[:]) || rows[0].IsPublic || rows[0].CurrentVersion != 1 {
		t.Fatalf("inserted row %s (%v)", body, err)
	}
	id := rows[0].ID
	// Without representation: 201 and no body.
	if st, body := f.rest("POST", "/rest/v1/rotations", f.anon, f.tok1, map[string]any{"name": "Two", "script": script, "user_id": f.u1}); st != 201 || len(body) != 0 {
		t.Fatalf("insert without representation: %d %q", st, body)
	}

	refusals := []struct {
		name, method, path, bearer string
		body                       any
		status                     int
		want                       string
	}{
		{"anon insert", "POST", "/rest/v1/rotations", "", map[string]any{"name": "x", "script": script}, 401, "42501"},
		{"node insert", "POST", "/rest/v1/rotations", f.a.token, map[string]any{"name": "x", "script": script}, 403, "42501"},
		{"another table", "POST", "/rest/v1/jobs", f.tok1, map[string]any{"status": "completed"}, 405, "only rotations"},
		{"invalid script", "POST", "/rest/v1/rotations", f.tok1, map[string]any{"name": "x", "script": `{"actions":[{"cast":"kill_comand"}]}`}, 400, `actions[0].cast: unknown spell`},
		{"no script", "POST", "/rest/v1/rotations", f.tok1, map[string]any{"name": "x"}, 400, "needs a name and a script"},
		{"someone else's user_id", "POST", "/rest/v1/rotations", f.tok1, map[string]any{"name": "x", "script": script, "user_id": f.u2}, 403, "row-level security"},
		{"checksum given", "POST", "/rest/v1/rotations", f.tok1, map[string]any{"name": "x", "script": script, "checksum": "00"}, 400, "PGRST204"},
		{"malformed JSON", "POST", "/rest/v1/rotations", f.tok1, rawBody(`{"name":`), 400, "PGRST102"},
		{"two rows", "POST", "/rest/v1/rotations", f.tok1, []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}, 400, "one rotation per request"},
		{"NUL in the name", "POST", "/rest/v1/rotations", f.tok1, map[string]any{"name": "a\x00b", "script": script}, 400, "control character"},
		{"huge script", "POST", "/rest/v1/rotations", f.tok1, map[string]any{"name": "x", "script": strings.Repeat(" ", 300<<10)}, 413, "PGRST413"},
		{"patch without id", "PATCH", "/rest/v1/rotations?name=eq.x", f.tok1, map[string]any{"is_public": true}, 400, "id=eq."},
		{"patch of a bad id", "PATCH", "/rest/v1/rotations?id=eq.nope", f.tok1, map[string]any{"is_public": true}, 400, "22P02"},
		{"patch to an invalid script", "PATCH", "/rest/v1/rotations?id=eq." + id, f.tok1, map[string]any{"script": `{"actions":5}`}, 400, "script"},
		{"delete with a body", "DELETE", "/rest/v1/rotations?id=eq." + id, f.tok1, map[string]any{"x": 1}, 400, "no body"},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			st, body := f.rest(c.method, c.path, f.anon, c.bearer, c.body, rep...)
			if st != c.status || !strings.Contains(string(body), c.want) {
				t.Fatalf("%d %s, want %d with %s", st, body, c.status, c.want)
			}
		})
	}
	var n int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM rotations WHERE user_id = $1", f.u1).Scan(&n); err != nil || n != 3 {
		t.Fatalf("alice has %d rotations (%v), want her fixture's one and the two inserted", n, err)
	}

	// Bob can neither change nor delete alice's rotation: no row matches.
	for _, m := range []string{"PATCH", "DELETE"} {
		var b any
		if m == "PATCH" {
			b = map[string]any{"is_public": true}
		}
		if st, body := f.rest(m, "/rest/v1/rotations?id=eq."+id, f.anon, f.tok2, b, rep...); st != 200 || string(body) != "[]" {
			t.Fatalf("bob's %s: %d %s", m, st, body)
		}
	}
	st, body = f.rest("PATCH", "/rest/v1/rotations?id=eq."+id+"&select=is_public,current_version,script", f.anon, f.tok1,
		map[string]any{"is_public": true, "script": `{"actions":[{"cast":"barbed_shot"}]}`}, rep...)
	if st != 200 {
		t.Fatalf("patch: %d %s", st, body)
	}
	assertJSON(t, body, `[{"is_public":true,"current_version":2,"script":"{\"actions\":[{\"cast\":\"barbed_shot\"}]}"}]`)
	// Public now: bob's job may use it.
	if st, body := f.rest("POST", "/rest/v1/rpc/create_job", f.anon, f.tok2,
		map[string]any{"p_config": quickWith(t, 4, map[string]any{"rotationId": id}), "p_iterations": 100}); st != 200 {
		t.Fatalf("bob's job with alice's public rotation: %d %s", st, body)
	}
	if st, body := f.rest("DELETE", "/rest/v1/rotations?id=eq."+id+"&select=id", f.anon, f.tok1, nil, rep...); st != 200 || !strings.Contains(string(body), id) {
		t.Fatalf("delete: %d %s", st, body)
	}
	if st, body := f.rest("DELETE", "/rest/v1/rotations?id=eq."+id, f.anon, f.tok1, nil); st != 204 {
		t.Fatalf("second delete: %d %s", st, body)
	}
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM rotations WHERE id = $1", id).Scan(&n); err != nil || n != 0 {
		t.Fatalf("deleted rotation still there: %d %v", n, err)
	}
}

func TestCancelAndProgressRPCs(t *testing.T) {
	f := newRESTFixture(t)
	var created struct {
		JobID string `json:"jobId"`
	}
	st, body := f.rest("POST", "/rest/v1/rpc/create_job", f.anon, f.tok2, map[string]any{"p_config": json.RawMessage(examples.Quick(3)), "p_iterations": 3000})
	if st != 200 || json.Unmarshal(body, &created) != nil {
		t.Fatalf("create: %d %s", st, body)
	}
	// Bob's node b is online in the fixture: it may take his job.
	st, body = f.rest("POST", "/rest/v1/rpc/job_progress", f.anon, f.tok2, map[string]any{"p_job_id": created.JobID})
	if st != 200 || !strings.Contains(string(body), `"eligibleNodes":1`) || strings.Contains(string(body), "waiting") {
		t.Fatalf("progress: %d %s", st, body)
	}
	for _, c := range []struct {
		name, fn, bearer string
		args             any
		status           int
	}{
		{"progress of another's job", "job_progress", f.tok1, map[string]any{"p_job_id": created.JobID}, 404},
		{"cancel of another's job", "cancel_job", f.tok1, map[string]any{"p_job_id": created.JobID}, 404},
		{"cancel of a malformed id", "cancel_job", f.tok2, map[string]any{"p_job_id": "'; DROP TABLE jobs"}, 404},
		{"cancel with a node token", "cancel_job", f.b.token, map[string]any{"p_job_id": created.JobID}, 403},
	} {
		if st, body := f.rest("POST", "/rest/v1/rpc/"+c.fn, f.anon, c.bearer, c.args); st != c.status || strings.Contains(string(body), "SELECT") {
			t.Errorf("%s: %d %s, want %d", c.name, st, body, c.status)
		}
	}
	if st, body := f.rest("POST", "/rest/v1/rpc/cancel_job", f.anon, f.tok2, map[string]any{"p_job_id": created.JobID}); st != 200 {
		t.Fatalf("cancel: %d %s", st, body)
	}
	if st, body := f.rest("POST", "/rest/v1/rpc/cancel_job", f.anon, f.tok2, map[string]any{"p_job_id": created.JobID}); st != 409 {
		t.Fatalf("second cancel: %d %s", st, body)
	}
	st, body = f.rest("GET", "/rest/v1/jobs?id=eq."+created.JobID+"&select=status,error", f.anon, f.tok2, nil)
	assertJSON(t, body, `[{"status":"failed","error":"cancelled by its user"}]`)
}
