package sentinel

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"wowlab/protocol"
)

func getBootstrap(t *testing.T, h http.Handler, host string) (int, protocol.Bootstrap) {
	t.Helper()
	req := httptest.NewRequest("GET", protocol.PathBootstrap, nil)
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var b protocol.Bootstrap
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
			t.Fatalf("bootstrap body %q: %v", rec.Body, err)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
	}
	return rec.Code, b
}

// GET /bootstrap publishes the sentinel's own base URL as the API URL, a
// working anon key and the claim page: the request's host, or the public
// URL when one is set.
func TestBootstrap(t *testing.T) {
	e := newEnv(t)
	code, b := getBootstrap(t, e.svc.Handler(), "sentinel.test:8080")
	if code != 200 || b.APIURL != "http://sentinel.test:8080" || b.ClaimURL != "http://sentinel.test:8080/claim" {
		t.Fatalf("bootstrap %d %+v", code, b)
	}
	if c, err := e.svc.Authenticate(context.Background(), b.AnonKey); err != nil || c.Role != RoleAnon {
		t.Fatalf("the published anon key: %+v %v", c, err)
	}
	for _, bad := range []string{"", "evil.test/path", "a b", "x@evil.test"} {
		if code, _ := getBootstrap(t, e.svc.Handler(), bad); code != http.StatusBadRequest {
			t.Errorf("Host %q: %d", bad, code)
		}
	}

	pub, err := New(Config{Store: e.db, JWTSecret: testSecret, Clock: e.clock, PublicURL: "https://sentinel.example/wow/"})
	if err != nil {
		t.Fatal(err)
	}
	code, b = getBootstrap(t, pub.Handler(), "10.0.0.5:8080")
	if code != 200 || b.APIURL != "https://sentinel.example/wow" || b.ClaimURL != "https://sentinel.example/wow/claim" {
		t.Fatalf("with a public URL: %d %+v", code, b)
	}
	for _, bad := range []string{"ftp://x", "https://", "https://x/?q=1", "https://u:p@x", "not a url"} {
		if _, err := New(Config{Store: e.db, JWTSecret: testSecret, PublicURL: bad}); err == nil {
			t.Errorf("public URL %q accepted", bad)
		}
	}
}
