package sentinel

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"wowlab/examples"
	"wowlab/protocol"
)

func TestSignatureRefusals(t *testing.T) {
	e := newEnv(t)
	n := e.newNode()
	body := []byte(`{"status":"online"}`)
	now := e.clock.Now().Unix()
	good := protocol.Sign(n.key, now, "POST", protocol.PathHeartbeat, body)
	big := bytes.Repeat([]byte("a"), protocol.MaxBodyBytes+1)
	cases := []struct {
		name string
		h    func() protocol.Headers
		body []byte
		want string
	}{
		{"missing key", func() protocol.Headers { h := good; h.Key = ""; return h }, body, "Missing X-Node-Key header"},
		{"missing ts", func() protocol.Headers { h := good; h.Timestamp = ""; return h }, body, "Missing X-Node-Ts header"},
		{"missing sig", func() protocol.Headers { h := good; h.Signature = ""; return h }, body, "Missing X-Node-Sig header"},
		{"skew", func() protocol.Headers {
			return protocol.Sign(n.key, now-301, "POST", protocol.PathHeartbeat, body)
		}, body, "Request timestamp expired"},
		{"future", func() protocol.Headers {
			return protocol.Sign(n.key, now+301, "POST", protocol.PathHeartbeat, body)
		}, body, "Request timestamp expired"},
		{"bad ts", func() protocol.Headers { h := good; h.Timestamp = "soon"; return h }, body, "Invalid timestamp"},
		{"short key", func() protocol.Headers {
			h := good
			h.Key = base64.StdEncoding.EncodeToString(make([]byte, 31))
			return h
		}, body, "Invalid public key length"},
		{"short sig", func() protocol.Headers {
			h := good
			h.Signature = base64.StdEncoding.EncodeToString(make([]byte, 63))
			return h
		}, body, "Invalid signature length"},
		{"oversize body", func() protocol.Headers { return protocol.Sign(n.key, now, "POST", protocol.PathHeartbeat, big) }, big, "Request body too large"},
		{"bad signature", func() protocol.Headers { return good }, []byte(`{"status":"offline"}`), "Invalid signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, got := e.do(protocol.PathHeartbeat, c.body, c.h(), nil)
			want, _ := json.Marshal(protocol.ErrorResponse{Error: c.want})
			if st != 401 || got != string(want) {
				t.Fatalf("got %d %s, want 401 %s", st, got, want)
			}
		})
	}
	t.Run("replay", func(t *testing.T) {
		h := protocol.Sign(n.key, now, "POST", protocol.PathRegister, []byte(`{}`))
		if st, got := e.do(protocol.PathRegister, []byte(`{}`), h, nil); st != 200 {
			t.Fatalf("first: %d %s", st, got)
		}
		if st, got := e.do(protocol.PathRegister, []byte(`{}`), h, nil); st != 401 || got != `{"error":"Replayed request"}` {
			t.Fatalf("replay: %d %s", st, got)
		}
	})
}

// TestReplayAcrossInstances sends the same signed request to two instances
// sharing the database: the second refuses it.
func TestReplayAcrossInstances(t *testing.T) {
	e := newEnv(t)
	n := e.newNode()
	h := protocol.Sign(n.key, e.clock.Now().Unix(), "POST", protocol.PathRegister, nil)
	if st, got := e.do(protocol.PathRegister, nil, h, nil); st != 200 {
		t.Fatalf("first: %d %s", st, got)
	}
	e2 := *e
	e2.srv = newServer(t, e.instance(openStore(t, e.dsn)))
	if st, got := e2.do(protocol.PathRegister, nil, h, nil); st != 401 || got != `{"error":"Replayed request"}` {
		t.Fatalf("other instance: %d %s", st, got)
	}
}

func TestRegisterIdempotentAndClaim(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	n := e.newNode()
	r1 := n.register(8)
	if r1.Claimed || r1.ClaimCode != protocol.ClaimCode(n.pub) || r1.ID == "" {
		t.Fatalf("first register %+v", r1)
	}
	if r2 := n.register(8); r2 != r1 {
		t.Fatalf("second register %+v, want %+v", r2, r1)
	}
	row, err := e.db.NodeByID(context.Background(), r1.ID)
	if err != nil || row.Status != protocol.NodePending || row.ClaimCode != r1.ClaimCode {
		t.Fatalf("stored %+v %v", row, err)
	}
	if st, got := n.call(protocol.PathVerify, nil, nil); st != 404 || got != `{"error":"Node not claimed"}` {
		t.Fatalf("verify unclaimed: %d %s", st, got)
	}
	if st, _ := n.call(protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: "online"}, nil); st != 404 {
		t.Fatalf("heartbeat unclaimed: %d", st)
	}
	stranger := e.newNode()
	if st, got := stranger.call(protocol.PathVerify, nil, nil); st != 404 || got != `{"error":"Node not found"}` {
		t.Fatalf("verify unknown: %d %s", st, got)
	}

	typed := strings.ToLower(r1.ClaimCode[:3] + "-" + r1.ClaimCode[3:])
	found, err := e.svc.VerifyClaimCode(context.Background(), CodeCheck{UserID: u.ID, Code: typed})
	if err != nil || found.ID != r1.ID || found.TotalCores != 8 {
		t.Fatalf("verify claim code %q: %+v %v", typed, found, err)
	}
	name, mp := "rig", 3
	claimed, err := e.svc.ClaimNode(context.Background(), ClaimRequest{UserID: u.ID, Code: typed, Name: &name, MaxParallel: &mp})
	if err != nil || claimed.Name != "rig" || claimed.MaxParallel != 3 {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	// The claim used up the code and the user's check of it.
	if _, err := e.svc.ClaimNode(context.Background(), ClaimRequest{UserID: u.ID, NodeID: r1.ID}); KindOf(err) != KindForbidden {
		t.Fatalf("second claim by id: %v", err)
	}
	if _, err := e.svc.ClaimNode(context.Background(), ClaimRequest{UserID: u.ID, Code: typed}); KindOf(err) != KindNotFound {
		t.Fatalf("second claim by code: %v", err)
	}
	if _, err := e.svc.VerifyClaimCode(context.Background(), CodeCheck{UserID: u.ID, Code: typed}); KindOf(err) != KindNotFound {
		t.Fatalf("code of a claimed node still valid: %v", err)
	}
	var info protocol.NodeInfo
	if st, got := n.call(protocol.PathVerify, nil, &info); st != 200 || !info.Claimed || info.Name != "rig" || info.MaxParallel != 3 {
		t.Fatalf("verify: %d %s", st, got)
	}
	if r3 := n.register(8); !r3.Claimed || r3.ID != r1.ID {
		t.Fatalf("register after claim %+v", r3)
	}
	n.heartbeat()
	if row, _ := e.db.NodeByID(context.Background(), r1.ID); row.Status != protocol.NodeOnline || !row.LastSeenAt.Equal(e.clock.Now()) {
		t.Fatalf("after heartbeat %+v", row)
	}
}

func TestNodeToken(t *testing.T) {
	e := newEnv(t)
	n := e.newNode()
	if st, _ := n.call(protocol.PathToken, nil, nil); st != 404 {
		t.Fatalf("unknown node: %d", st)
	}
	n.register(4)
	var tok protocol.TokenResponse
	if st, got := n.call(protocol.PathToken, nil, &tok); st != 200 {
		t.Fatalf("token: %d %s", st, got)
	}
	if tok.ExpiresAt != e.clock.Now().Add(time.Hour).Unix() {
		t.Fatalf("expiresAt %d", tok.ExpiresAt)
	}
	claims, err := e.svc.ParseNodeToken(tok.Token)
	if err != nil || claims.Subject != n.id || claims.NodeID != n.id || claims.Role != "authenticated" {
		t.Fatalf("claims %+v %v", claims, err)
	}
	var raw jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok.Token, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"role", "sub", "exp", "iat", "node_id"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
	e.clock.Add(time.Hour + time.Second)
	if _, err := e.svc.ParseNodeToken(tok.Token); KindOf(err) != KindUnauthorized {
		t.Fatalf("expired token accepted: %v", err)
	}
}

func TestCreateJobChunksAndHash(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("alice")
	// The config as a person writes it; it is stored in canonical form.
	canonical := string(examples.Quick(1))
	cfg := " " + strings.ReplaceAll(canonical, ":", ": ") + "\n"
	j, err := e.svc.CreateJob(context.Background(), u.ID, JobRequest{Config: json.RawMessage(cfg), Iterations: 2500})
	if err != nil || j.Chunks != 3 {
		t.Fatalf("create: %+v %v", j, err)
	}
	job, err := e.db.JobByID(context.Background(), j.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if job.ConfigHash != ConfigHash([]byte(canonical)) || job.AccessType != AccessPrivate || job.Status != protocol.StatusPending {
		t.Fatalf("job %+v", job)
	}
	// A job is a range: its chunks are carved as nodes take work.
	if cs := e.chunks(j.JobID); len(cs) != 0 {
		t.Fatalf("a new job has %d chunk rows: %+v", len(cs), cs)
	}
	// Same config by hash only.
	j2, err := e.svc.CreateJob(context.Background(), u.ID, JobRequest{ConfigHash: job.ConfigHash, Iterations: 1000, AccessType: AccessPublic})
	if err != nil || j2.Chunks != 1 {
		t.Fatalf("by hash: %+v %v", j2, err)
	}
	bad := []JobRequest{
		{Config: json.RawMessage(cfg), Iterations: 0},
		{Config: json.RawMessage(cfg), Iterations: MaxIterations + 1},
		{Config: json.RawMessage(`[1]`), Iterations: 1},
		{Config: json.RawMessage(`{"a":`), Iterations: 1},
		{Config: json.RawMessage(`{} {}`), Iterations: 1},
		{Iterations: 1},
		{ConfigHash: "ABC", Iterations: 1},
		{ConfigHash: strings.Repeat("0", 64), Iterations: 1},
		{Config: json.RawMessage(cfg), Iterations: 1, AccessType: "discord"},
		{Config: json.RawMessage(cfg), Iterations: 1, AccessType: "everyone"},
	}
	var before int
	e.dbQueryRow("SELECT count(*) FROM jobs").Scan(&before)
	for i, req := range bad {
		if _, err := e.svc.CreateJob(context.Background(), u.ID, req); KindOf(err) == 0 {
			t.Errorf("case %d accepted or internal: %v", i, err)
		}
	}
	var after int
	e.dbQueryRow("SELECT count(*) FROM jobs").Scan(&after)
	if after != before {
		t.Fatalf("refused jobs changed the database: %d -> %d", before, after)
	}
}

func TestCanonicalJSON(t *testing.T) {
	got, err := CanonicalJSON([]byte(" {\"b\":1,\n\"a\":{\"d\":[true,null],\"c\":\"é&\"}} "))
	if err != nil || string(got) != `{"a":{"c":"é&","d":[true,null]},"b":1}` {
		t.Fatalf("%s %v", got, err)
	}
}

func newServer(t *testing.T, s *Service) *httptest.Server {
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}
