package sentinel

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"wowlab/protocol"
)

// Guessing codes: about 6 000 verify_claim_code calls a second went
// through for one user token. Now each user and each address gets a few
// tries, then KindTooMany with when to try again, even for a right code.
func TestClaimCodeGuessingLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	users := make([]string, 4)
	for i := range users {
		u, _ := e.user("guesser")
		users[i] = u.ID
	}
	n := e.newNode()
	code := n.register(4).ClaimCode
	const addr = "198.51.100.7"
	wrong := "AAAAAA"
	if code == wrong {
		wrong = "BBBBBB"
	}
	try := func(user, address, code string) error {
		_, err := e.svc.VerifyClaimCode(ctx, CodeCheck{UserID: user, Address: address, Code: code})
		return err
	}
	for i := range DefaultClaimChecksPerUser.N {
		if err := try(users[0], addr, wrong); KindOf(err) != KindNotFound {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	err := try(users[0], addr, code)
	var se *Error
	if !errors.As(err, &se) || se.Kind != KindTooMany || se.RetryAfter != 30*time.Second || !strings.Contains(se.Message, "by this user") {
		t.Fatalf("guess over the user's limit: %v", err)
	}
	// The address's limit holds across users.
	for _, u := range users[1:3] {
		for range DefaultClaimChecksPerUser.N {
			if err := try(u, addr, wrong); KindOf(err) != KindNotFound {
				t.Fatalf("user %s: %v", u, err)
			}
		}
	}
	if err := try(users[3], addr, code); KindOf(err) != KindTooMany || !strings.Contains(err.Error(), "from this address") {
		t.Fatalf("a fourth user on the address: %v", err)
	}
	// Another address is not affected, and time gives tries back.
	if _, err := e.svc.VerifyClaimCode(ctx, CodeCheck{UserID: users[3], Address: "203.0.113.9", Code: code}); err != nil {
		t.Fatalf("other address: %v", err)
	}
	e.clock.Add(30 * time.Second)
	if err := try(users[0], addr, code); err != nil {
		t.Fatalf("after 30s: %v", err)
	}
	// An operator's command is not limited.
	for range 3 * DefaultClaimChecksPerAddress.N {
		if err := try(users[0], "", wrong); KindOf(err) != KindNotFound {
			t.Fatalf("operator check: %v", err)
		}
	}
}

// IPv6 callers are limited per /64, IPv4 per address; a configured proxy
// header names the client.
func TestClientAddress(t *testing.T) {
	e := newEnv(t)
	proxied, err := New(Config{Store: e.db, JWTSecret: testSecret, ClientIPHeader: "X-Forwarded-For"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		svc    *Service
		remote string
		header string
		want   string
	}{
		{e.svc, "198.51.100.7:4242", "", "198.51.100.7"},
		{e.svc, "[2001:db8:1:2:3:4:5:6]:4242", "", "2001:db8:1:2::/64"},
		{e.svc, "[::ffff:198.51.100.7]:1", "", "198.51.100.7"},
		{e.svc, "198.51.100.7:4242", "203.0.113.1", "198.51.100.7"}, // no proxy configured: the header is ignored
		{proxied, "10.0.0.1:4242", "203.0.113.1, 192.0.2.5", "192.0.2.5"},
		{proxied, "10.0.0.1:4242", "", "10.0.0.1"},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.header != "" {
			r.Header.Set("X-Forwarded-For", c.header)
		}
		if got := c.svc.ClientAddress(r); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.remote, c.header, got, c.want)
		}
	}
}

// claim_node took only a node id: anyone who learned an id could claim
// the node. Now a claim by id needs the same user's recent check of the
// node's code.
func TestClaimBoundToCode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, _ := e.user("alice")
	mallory, _ := e.user("mallory")
	n := e.newNode()
	r := n.register(4)
	if _, err := e.svc.ClaimNode(ctx, ClaimRequest{UserID: mallory.ID, NodeID: r.ID, Address: "192.0.2.1"}); KindOf(err) != KindForbidden || !strings.Contains(err.Error(), "verify_claim_code") {
		t.Fatalf("claim by id without a check: %v", err)
	}
	if _, err := e.svc.VerifyClaimCode(ctx, CodeCheck{UserID: alice.ID, Address: "192.0.2.2", Code: r.ClaimCode}); err != nil {
		t.Fatal(err)
	}
	// Alice's check is hers.
	if _, err := e.svc.ClaimNode(ctx, ClaimRequest{UserID: mallory.ID, NodeID: r.ID, Address: "192.0.2.1"}); KindOf(err) != KindForbidden {
		t.Fatalf("claim by id on another user's check: %v", err)
	}
	// A code naming another node does not claim this one.
	other := e.newNode()
	otherCode := other.register(4).ClaimCode
	if _, err := e.svc.ClaimNode(ctx, ClaimRequest{UserID: mallory.ID, NodeID: r.ID, Code: otherCode, Address: "192.0.2.1"}); KindOf(err) != KindNotFound {
		t.Fatalf("claim with another node's code: %v", err)
	}
	// The check lasts ClaimCheckTTL.
	e.clock.Add(ClaimCheckTTL)
	if _, err := e.svc.ClaimNode(ctx, ClaimRequest{UserID: alice.ID, NodeID: r.ID, Address: "192.0.2.2"}); KindOf(err) != KindForbidden {
		t.Fatalf("claim after the check expired: %v", err)
	}
	if _, err := e.svc.VerifyClaimCode(ctx, CodeCheck{UserID: alice.ID, Address: "192.0.2.2", Code: r.ClaimCode}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.ClaimNode(ctx, ClaimRequest{UserID: alice.ID, NodeID: r.ID, Address: "192.0.2.2"}); err != nil || got.ID != r.ID {
		t.Fatalf("claim after a check: %+v %v", got, err)
	}
	if row, _ := e.db.NodeByID(ctx, r.ID); row.UserID != alice.ID {
		t.Fatalf("owner %q", row.UserID)
	}
}

// A claim code stops working UnclaimedNodeTTL after registration; the node
// then hears "Node not found", registers again under the same id and its
// code works again.
func TestClaimCodeExpires(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, _ := e.user("alice")
	n := e.newNode()
	r := n.register(4)
	e.clock.Add(UnclaimedNodeTTL)
	if _, err := e.svc.VerifyClaimCode(ctx, CodeCheck{UserID: u.ID, Code: r.ClaimCode}); KindOf(err) != KindNotFound {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := e.svc.ClaimNode(ctx, ClaimRequest{UserID: u.ID, Code: r.ClaimCode}); KindOf(err) != KindNotFound {
		t.Fatalf("claim by expired code: %v", err)
	}
	if st, body := n.call(protocol.PathVerify, nil, nil); st != 404 || body != `{"error":"Node not found"}` {
		t.Fatalf("verify of an expired registration: %d %s", st, body)
	}
	if st, body := n.call(protocol.PathToken, nil, nil); st != 404 {
		t.Fatalf("token of an expired registration: %d %s", st, body)
	}
	if again := n.register(4); again.ID != r.ID || again.ClaimCode != r.ClaimCode || again.Claimed {
		t.Fatalf("registering again: %+v", again)
	}
	if got, err := e.svc.ClaimNode(ctx, ClaimRequest{UserID: u.ID, Code: r.ClaimCode}); err != nil || got.ID != r.ID {
		t.Fatalf("claim after renewal: %+v %v", got, err)
	}
	// A claimed node never expires.
	e.clock.Add(2 * UnclaimedNodeTTL)
	if st, body := n.call(protocol.PathVerify, nil, nil); st != 200 {
		t.Fatalf("verify of a claimed node: %d %s", st, body)
	}
}

// New registrations are limited per address (429 with Retry-After); a
// known key registering again is not counted.
func TestRegistrationsPerAddress(t *testing.T) {
	e := newEnv(t)
	svc, err := New(Config{Store: e.db, JWTSecret: testSecret, Clock: e.clock, RegistrationsPerAddress: Rate{N: 3, Per: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = newServer(t, svc)
	first := e.newNode()
	first.register(4)
	for range 2 {
		e.newNode().register(4)
	}
	st, body := e.newNode().call(protocol.PathRegister, protocol.RegisterRequest{Hostname: "h", TotalCores: 4, EnabledCores: 4, Platform: "linux-x86_64", Version: "1"}, nil)
	if st != 429 || !strings.Contains(body, "Too many new nodes registered from this address") {
		t.Fatalf("fourth registration: %d %s", st, body)
	}
	first.register(4) // idempotent: allowed
	if ns, _ := svc.ListNodes(context.Background()); len(ns) != 3 {
		t.Fatalf("%d nodes stored", len(ns))
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"10/5m": {10, 5 * time.Minute}, " 60/1h ": {60, time.Hour}, "5/10s": {5, 10 * time.Second}, "1/1h30m": {1, 90 * time.Minute}} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := ParseRate(got.String()); err != nil || back != got {
			t.Errorf("%v does not read back: %q %v", got, got.String(), err)
		}
	}
	for _, in := range []string{"", "10", "0/5m", "-1/5m", "10/0s", "10/-5m", "x/5m", "10/soon"} {
		if r, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %v", in, r)
		}
	}
	if got := (Rate{60, time.Hour}).String(); got != "60/1h" {
		t.Errorf("String %q", got)
	}
}
