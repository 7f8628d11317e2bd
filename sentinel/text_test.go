package sentinel

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// A NUL byte made PostgreSQL fail the call (500); control characters in
// node fields reached the operator's terminal. Both are refused with 400
// in every text a node or user sends, and nothing is stored.
func TestNULAndControlCharactersRefused(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	ctx := context.Background()
	reg := func(mod func(*protocol.RegisterRequest)) protocol.RegisterRequest {
		r := protocol.RegisterRequest{Hostname: "h", TotalCores: 4, EnabledCores: 4, Platform: "linux-x86_64", Version: "1.0.0"}
		mod(&r)
		return r
	}
	for name, req := range map[string]protocol.RegisterRequest{
		"NUL in version":      reg(func(r *protocol.RegisterRequest) { r.Version = "1.0\x00" }),
		"NUL in platform":     reg(func(r *protocol.RegisterRequest) { r.Platform = "linux\x00" }),
		"NUL in hostname":     reg(func(r *protocol.RegisterRequest) { r.Hostname = "h\x00" }),
		"escape in version":   reg(func(r *protocol.RegisterRequest) { r.Version = "\x1b]0;pwned\x07" }),
		"CSI in platform":     reg(func(r *protocol.RegisterRequest) { r.Platform = "linux\u009b31m" }),
		"newline in platform": reg(func(r *protocol.RegisterRequest) { r.Platform = "linux\nx" }),
	} {
		n := e.newNode()
		if st, body := n.call(protocol.PathRegister, req, nil); st != 400 || !strings.Contains(body, "control character") {
			t.Errorf("%s: %d %s", name, st, body)
		}
	}
	if ns, err := e.svc.ListNodes(ctx); err != nil || len(ns) != 0 {
		t.Fatalf("refused registrations stored %d nodes (%v)", len(ns), err)
	}

	n := e.newNode()
	r := n.register(4)
	for _, name := range []string{"rig\x00", "rig\x1b[2J", "two\nlines"} {
		_, err := e.svc.ClaimNode(ctx, ClaimRequest{UserID: u.ID, Code: r.ClaimCode, Name: &name})
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), "control character") {
			t.Errorf("claim with name %q: %v", name, err)
		}
	}
	for _, name := range []string{"eve\x00", "eve\x1b[31m"} {
		if _, _, err := e.svc.AddUser(ctx, name); KindOf(err) != KindInvalid {
			t.Errorf("user %q: %v", name, err)
		}
	}
	for _, code := range []string{"AB\x00CDE", "ABCDE\x00"} {
		if _, err := e.svc.VerifyClaimCode(ctx, CodeCheck{UserID: u.ID, Code: code}); KindOf(err) != KindNotFound {
			t.Errorf("code %q: %v", code, err)
		}
	}
	for _, cfg := range []string{`{"name":"a\u0000b"}`, `{"a\u0000":1}`, `{"list":[{"deep":"\u0000"}]}`} {
		_, err := e.svc.CreateJob(ctx, u.ID, JobRequest{Config: json.RawMessage(cfg), Iterations: 1})
		if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("config %s: %v", cfg, err)
		}
	}

	// A failure text may span lines but holds no NUL.
	if _, err := e.svc.ClaimNode(ctx, ClaimRequest{UserID: u.ID, Code: r.ClaimCode}); err != nil {
		t.Fatal(err)
	}
	n.heartbeat()
	j := e.job(u.ID, 1000, AccessPrivate)
	e.schedule()
	c := e.chunkOn(j.JobID, n.id)
	if st, body := n.call(protocol.PathFail, protocol.FailRequest{ChunkID: c.ID, Error: "engine: bad\x00"}, nil); st != 400 || !strings.Contains(body, "control character") {
		t.Fatalf("fail with NUL: %d %s", st, body)
	}
	if got, _ := e.db.ChunkByID(ctx, c.ID); got.Attempts != 0 || got.Status != protocol.StatusRunning {
		t.Fatalf("a refused failure changed the chunk: %+v", got)
	}
	var fr protocol.FailResponse
	if st, body := n.call(protocol.PathFail, protocol.FailRequest{ChunkID: c.ID, Error: "engine: bad config\n\tat line 3"}, &fr); st != 200 || !fr.Requeued {
		t.Fatalf("multi-line failure: %d %s", st, body)
	}
}

// failingCounts is a store whose Counts fails with a driver's error text.
type failingCounts struct{ store.Store }

func (failingCounts) Counts(context.Context) (store.Counts, error) {
	return store.Counts{}, errors.New(`failed to connect to user=wowlab database=prod host=10.0.0.7: connection refused`)
}

// The unauthenticated /status says only that the database is unavailable.
func TestStatusHidesDatabaseErrors(t *testing.T) {
	e := newEnv(t)
	svc := e.instance(failingCounts{e.db})
	st := svc.Status(context.Background())
	if st.Database != "database unavailable" {
		t.Fatalf("status %+v", st)
	}
	srv := newServer(t, svc)
	resp, err := srv.Client().Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got Status
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 503 || got.Database != "database unavailable" {
		t.Fatalf("%d %+v %v", resp.StatusCode, got, err)
	}
}
