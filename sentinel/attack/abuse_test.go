package attack

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"wowlab/examples"
	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/sentinel/gateway"
)

// presenceTopic is where nodes track presence.
const presenceTopic = "realtime:nodes:presence"

// Presence floods: a fresh key gets nothing beyond its own row; a claimed
// node's big metas are refused and its track/untrack churn is cut to the
// socket's rate; the victim node on nodes:presence hears none of it.
func TestPresenceFlood(t *testing.T) {
	tg := start(t, options{realtime: gateway.Limits{PresenceChanges: sentinel.Rate{N: 5, Per: time.Hour}}})
	alice, _ := tg.user("alice")
	mallory, _ := tg.user("mallory")
	victim := tg.claimed(alice)
	cv := tg.realtime()
	if st, resp := cv.join(presenceTopic, victim.token, nil, victim.id); st != "ok" {
		t.Fatalf("victim join: %s %s", st, resp)
	}
	fresh := tg.register()
	cf := tg.realtime()
	if st, resp := cf.join(presenceTopic, fresh.token, nil, fresh.id); st != "error" || !strings.Contains(resp, "unclaimed node") {
		t.Fatalf("unclaimed node on nodes:presence: %s %s", st, resp)
	}
	if st, resp := cf.join("realtime:chunks:"+fresh.id, fresh.token, []map[string]string{{"event": "*", "schema": "public", "table": "jobs_chunks", "filter": "node_id=eq." + fresh.id}}, ""); st != "error" || !strings.Contains(resp, "unclaimed node") {
		t.Fatalf("unclaimed node's chunks: %s %s", st, resp)
	}
	attacker := tg.claimed(mallory)
	ca := tg.realtime()
	if st, resp := ca.join(presenceTopic, attacker.token, nil, attacker.id); st != "ok" {
		t.Fatalf("attacker join: %s %s", st, resp)
	}
	track := func(ev string, meta map[string]any) (string, string) {
		st, resp, _ := ca.reply(ca.send(presenceTopic, "presence", map[string]any{"type": "presence", "event": ev, "payload": meta}))
		return st, resp
	}
	if st, resp := track("track", map[string]any{"node_id": attacker.id, "pad": strings.Repeat("x", 60_000)}); st != "error" || !strings.Contains(resp, "larger than") {
		t.Fatalf("60 KB meta: %s %s", st, resp)
	}
	accepted := 0
	for i := range 90 {
		ev := "track"
		if i%2 == 1 {
			ev = "untrack"
		}
		if st, _ := track(ev, map[string]any{"node_id": attacker.id}); st == "ok" {
			accepted++
		}
	}
	if accepted != 4 {
		t.Fatalf("%d of 90 changes accepted, want the 4 left of the burst", accepted)
	}
	if _, _, skipped := cv.reply(cv.send("phoenix", "heartbeat", map[string]any{})); skipped != 0 {
		t.Fatalf("the victim received %d frames of another node's presence", skipped)
	}
}

// Token abuse on REST, the rpc calls and Realtime: expired, forged, alg
// none, another node's, a token in the apikey's place, a node token on a
// user's rpc. Each is refused; none reaches another's rows.
func TestTokenAbuse(t *testing.T) {
	tg := start(t, options{})
	alice, aliceTok := tg.user("alice")
	a := tg.claimed(alice)
	b := tg.claimed(alice)
	now := time.Now()
	sign := func(key []byte, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	nodeClaims := func(id string, exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"role": "authenticated", "node_id": id, "sub": id, "exp": exp.Unix(), "iat": now.Unix()}
	}
	expired := sign(secret, nodeClaims(a.id, now.Add(-time.Minute)))
	forged := sign([]byte("not the sentinel's secret, 32 b!"), nodeClaims(a.id, now.Add(time.Hour)))
	mismatched := sign(secret, jwt.MapClaims{"role": "authenticated", "node_id": a.id, "sub": b.id, "exp": now.Add(time.Hour).Unix()})
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload, _ := json.Marshal(nodeClaims(a.id, now.Add(time.Hour)))
	none := header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	rows := "/rest/v1/jobs_chunks?node_id=eq." + a.id + "&select=id"
	for _, c := range []struct {
		name, path, bearer string
		status             int
		want               string
	}{
		{"expired node token", rows, expired, 401, "expired"},
		{"forged node token", rows, forged, 401, "signature"},
		{"alg none", rows, none, 401, "invalid token"},
		{"subject and node differ", rows, mismatched, 401, "not a node token"},
		{"garbage bearer", rows, "eyJnope", 401, "invalid token"},
		{"unknown user token", rows, "wlu_guess", 401, "invalid user token"},
		{"another node's rows", rows, b.token, 200, "[]"},
		{"another node's row", "/rest/v1/nodes?id=eq." + a.id + "&select=id", b.token, 200, "[]"},
		{"jobs with a node token", "/rest/v1/jobs?select=id", a.token, 200, "[]"},
	} {
		if st, body, _ := tg.rest("GET", c.path, c.bearer, nil, nil); st != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, st, body, c.status, c.want)
		}
	}
	job := map[string]any{"p_config": json.RawMessage(examples.Quick(1)), "p_iterations": 1000}
	for _, c := range []struct {
		name, bearer string
		status       int
	}{
		{"create_job with a node token", a.token, 403},
		{"create_job anon", tg.anon, 401},
		{"create_job with an expired token", expired, 401},
	} {
		if st, body, _ := tg.rest("POST", "/rest/v1/rpc/create_job", c.bearer, job, nil); st != c.status {
			t.Errorf("%s: %d %s", c.name, st, body)
		}
	}
	// A user or node token is no apikey.
	for _, key := range []string{aliceTok, a.token} {
		req := must(t, "GET", tg.url+"/rest/v1/jobs?select=id")
		req.Header.Set("apikey", key)
		if st, body, _ := tg.do(req, nil); st != 401 {
			t.Errorf("apikey %.8s...: %d %s", key, st, body)
		}
	}
	// Realtime: another node's chunks, a forged token, a refresh naming
	// someone else.
	c := tg.realtime()
	chunksOf := func(id string) []map[string]string {
		return []map[string]string{{"event": "*", "schema": "public", "table": "jobs_chunks", "filter": "node_id=eq." + id}}
	}
	if st, resp := c.join("realtime:chunks:x", b.token, chunksOf(a.id), ""); st != "error" || !strings.Contains(resp, "own chunks") {
		t.Errorf("another node's chunks: %s %s", st, resp)
	}
	if st, resp := c.join("realtime:chunks:"+a.id, forged, chunksOf(a.id), ""); st != "error" || !strings.Contains(resp, "signature") {
		t.Errorf("forged realtime token: %s %s", st, resp)
	}
	if st, resp := c.join("realtime:chunks:"+a.id, a.token, chunksOf(a.id), ""); st != "ok" {
		t.Fatalf("own chunks: %s %s", st, resp)
	}
	if st, resp, _ := c.reply(c.send("realtime:chunks:"+a.id, "access_token", map[string]string{"access_token": b.token})); st != "error" || !strings.Contains(resp, "another caller") {
		t.Errorf("refresh with another node's token: %s %s", st, resp)
	}
	// The node API: a replayed request.
	n := &node{key: a.key}
	ts := time.Now().Unix()
	h := protocol.Sign(n.key, ts, "POST", protocol.PathVerify, nil)
	for i, want := range []int{200, 401} {
		req := must(t, "POST", tg.url+protocol.PathVerify)
		req.Header.Set(protocol.HeaderKey, h.Key)
		req.Header.Set(protocol.HeaderTimestamp, h.Timestamp)
		req.Header.Set(protocol.HeaderSignature, h.Signature)
		if st, body, _ := tg.do(req, nil); st != want {
			t.Errorf("signed request %d: %d %s, want %d", i, st, body, want)
		}
	}
}

// Claim-code guessing: one user (one address) gets a few tries, then 429
// with Retry-After; a claim by node id needs the claimer's own check of
// the code.
func TestClaimCodeGuessing(t *testing.T) {
	tg := start(t, options{})
	_, mallory := tg.user("mallory")
	_, alice := tg.user("alice")
	victim := tg.register()
	wrong := "AAAAAA"
	if victim.code == wrong {
		wrong = "BBBBBB"
	}
	verify := func(token, code string) (int, string, string) {
		st, body, h := tg.rest("POST", "/rest/v1/rpc/verify_claim_code", token, map[string]any{"p_code": code}, nil)
		return st, body, h.Get("Retry-After")
	}
	guesses := 0
	for ; guesses < 100; guesses++ {
		st, body, retry := verify(mallory, wrong)
		if st == 429 {
			if retry == "" || !strings.Contains(body, `"code":"53400"`) {
				t.Fatalf("429 without Retry-After or PostgREST shape: %q %s", retry, body)
			}
			break
		}
		if st != 404 {
			t.Fatalf("guess %d: %d %s", guesses, st, body)
		}
	}
	if guesses != sentinel.DefaultClaimChecksPerUser.N {
		t.Fatalf("%d guesses before 429, want %d", guesses, sentinel.DefaultClaimChecksPerUser.N)
	}
	// The right code is refused too while the limit holds.
	if st, _, _ := verify(mallory, victim.code); st != 429 {
		t.Fatalf("right code over the limit: %d", st)
	}
	// Knowing the node id is not enough to claim it.
	if st, body, _ := tg.rest("POST", "/rest/v1/rpc/claim_node", mallory, map[string]any{"p_node_id": victim.id}, nil); st != 403 {
		t.Fatalf("claim by id without a check: %d %s", st, body)
	}
	// The owner's portal flow still works: check the code, claim the id.
	if st, body, _ := verify(alice, strings.ToLower(victim.code[:3])+"-"+victim.code[3:]); st != 200 || !strings.Contains(body, victim.id) {
		t.Fatalf("owner's verify: %d %s", st, body)
	}
	if st, body, _ := tg.rest("POST", "/rest/v1/rpc/claim_node", alice, map[string]any{"p_node_id": victim.id, "p_name": "desk"}, nil); st != 200 {
		t.Fatalf("owner's claim: %d %s", st, body)
	}
}

// Registration floods: new keys from one address are limited (429 with
// Retry-After); a known key registering again is not.
func TestRegistrationFlood(t *testing.T) {
	tg := start(t, options{registrationsPerAddress: sentinel.Rate{N: 5, Per: time.Hour}})
	first := tg.register()
	for range 4 {
		tg.register()
	}
	st, body, h := tg.call(&node{key: newKey(t)}, protocol.PathRegister, protocol.RegisterRequest{Hostname: "h", TotalCores: 1, EnabledCores: 1, Platform: "linux-x86_64", Version: "1"}, nil)
	if st != 429 || h.Get("Retry-After") == "" || !strings.Contains(body, "Too many new nodes") {
		t.Fatalf("sixth new node: %d %s (Retry-After %q)", st, body, h.Get("Retry-After"))
	}
	if st, body, _ := tg.call(first, protocol.PathRegister, protocol.RegisterRequest{Hostname: "h", TotalCores: 1, EnabledCores: 1, Platform: "linux-x86_64", Version: "1"}, nil); st != 200 {
		t.Fatalf("known node registering again: %d %s", st, body)
	}
}

// Result forgery: results lacking figures, of another count, impossible for
// their range, or not numbers at all are refused and change nothing; the
// true result then completes the job.
func TestResultForgery(t *testing.T) {
	tg := start(t, options{})
	alice, tok := tg.user("alice")
	n := tg.claimed(alice)
	var job sentinel.JobCreated
	if st, body, _ := tg.rest("POST", "/rest/v1/rpc/create_job", tok, map[string]any{"p_config": json.RawMessage(examples.Quick(1)), "p_iterations": 1000}, &job); st != 200 {
		t.Fatalf("create_job: %d %s", st, body)
	}
	chunk := runningChunk(t, tg, n, job.JobID)
	for _, r := range []string{
		`{"iterations":1000}`,
		`{"iterations":1000,"meanDps":100,"stdDps":null,"minDps":100,"maxDps":100}`,
		`{"iterations":999,"meanDps":100,"stdDps":0,"minDps":100,"maxDps":100}`,
		`{"iterations":1000,"meanDps":100,"stdDps":1e12,"minDps":100,"maxDps":100}`,
		`{"iterations":1000,"meanDps":500,"stdDps":1,"minDps":90,"maxDps":110}`,
		`{"iterations":1000,"meanDps":100,"stdDps":1,"minDps":-5,"maxDps":110}`,
		`{"iterations":1000,"meanDps":1e13,"stdDps":0,"minDps":1e13,"maxDps":1e13}`,
		`{"iterations":1000,"meanDps":"NaN","stdDps":0,"minDps":100,"maxDps":100}`,
		`{"iterations":1000,"meanDps":1e999,"stdDps":0,"minDps":100,"maxDps":100}`,
	} {
		body := []byte(`{"chunkId":"` + chunk + `","result":` + r + `}`)
		if st, resp, _ := tg.call(n, protocol.PathComplete, body, nil); st != 400 {
			t.Errorf("forged %s: %d %s", r, st, resp)
		}
	}
	var state []struct {
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
	}
	if st, body, _ := tg.rest("GET", "/rest/v1/jobs_chunks?id=eq."+chunk+"&select=status,result", tok, nil, &state); st != 200 || len(state) != 1 || state[0].Status != "running" || string(state[0].Result) != "null" {
		t.Fatalf("the chunk after forgeries: %d %s", st, body)
	}
	var done protocol.CompleteResponse
	truth := protocol.CompleteRequest{ChunkID: chunk, Result: protocol.ChunkResult{Iterations: 1000, MeanDps: 100, StdDps: 5, MinDps: 90, MaxDps: 110}}
	if st, body, _ := tg.call(n, protocol.PathComplete, truth, &done); st != 200 || !done.JobComplete {
		t.Fatalf("true result: %d %s", st, body)
	}
}

// runningChunk waits until the job's chunk runs on n and returns its id.
func runningChunk(t *testing.T, tg *target, n *node, jobID string) string {
	t.Helper()
	var id string
	waitFor(t, "the chunk to be assigned", func() bool {
		var rows []struct {
			ID string `json:"id"`
		}
		tg.rest("GET", "/rest/v1/jobs_chunks?node_id=eq."+n.id+"&job_id=eq."+jobID+"&status=eq.running&select=id", n.token, nil, &rows)
		if len(rows) == 1 {
			id = rows[0].ID
		}
		return id != ""
	})
	return id
}

// NUL bytes: PostgreSQL cannot store them, and they made every call that
// tried fail with 500. Both stores refuse them with 400, as they refuse
// control characters in node fields.
func TestNULBytes(t *testing.T) {
	for _, sqlite := range []bool{false, true} {
		name := "postgres"
		if sqlite {
			name = "sqlite"
		}
		t.Run(name, func(t *testing.T) {
			tg := start(t, options{sqlite: sqlite})
			alice, tok := tg.user("alice")
			for field, req := range map[string]protocol.RegisterRequest{
				"version":  {Hostname: "h", TotalCores: 1, EnabledCores: 1, Platform: "linux-x86_64", Version: "1\x00"},
				"platform": {Hostname: "h", TotalCores: 1, EnabledCores: 1, Platform: "linux\x00", Version: "1"},
				"escape":   {Hostname: "h", TotalCores: 1, EnabledCores: 1, Platform: "linux-x86_64", Version: "\x1b[2J"},
			} {
				if st, body, _ := tg.call(&node{key: newKey(t)}, protocol.PathRegister, req, nil); st != 400 {
					t.Errorf("register with a bad %s: %d %s", field, st, body)
				}
			}
			if st, body, _ := tg.rest("POST", "/rest/v1/rpc/create_job", tok, map[string]any{"p_config": map[string]any{"name": "a\x00b"}, "p_iterations": 1}, nil); st != 400 || !strings.Contains(body, "NUL") {
				t.Errorf("config with NUL: %d %s", st, body)
			}
			if st, body, _ := tg.rest("POST", "/rest/v1/rpc/verify_claim_code", tok, map[string]any{"p_code": "AB\x00CDE"}, nil); st != 404 {
				t.Errorf("code with NUL: %d %s", st, body)
			}
			n := tg.register()
			if st, body, _ := tg.rest("POST", "/rest/v1/rpc/verify_claim_code", tok, map[string]any{"p_code": n.code}, nil); st != 200 {
				t.Fatalf("verify: %d %s", st, body)
			}
			if st, body, _ := tg.rest("POST", "/rest/v1/rpc/claim_node", tok, map[string]any{"p_node_id": n.id, "p_name": "rig\x00"}, nil); st != 400 {
				t.Errorf("node name with NUL: %d %s", st, body)
			}
			if st, body, _ := tg.rest("GET", "/rest/v1/nodes?name=eq.%00&select=id", tok, nil, nil); st != 200 && st != 400 {
				t.Errorf("filter value with NUL: %d %s", st, body)
			}
			claimed := tg.claimed(alice)
			var job sentinel.JobCreated
			if st, body, _ := tg.rest("POST", "/rest/v1/rpc/create_job", tok, map[string]any{"p_config": json.RawMessage(examples.Quick(1)), "p_iterations": 1}, &job); st != 200 {
				t.Fatalf("create_job: %d %s", st, body)
			}
			chunk := runningChunk(t, tg, claimed, job.JobID)
			if st, body, _ := tg.call(claimed, protocol.PathFail, protocol.FailRequest{ChunkID: chunk, Error: "bad\x00"}, nil); st != 400 {
				t.Errorf("failure text with NUL: %d %s", st, body)
			}
		})
	}
}
