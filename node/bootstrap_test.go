package node

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"wowlab/protocol"
)

func TestFetchBootstrap(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		err        string
	}{
		{"good", `{"apiUrl":"https://api.example/","anonKey":"k.e.y","claimUrl":"https://sentinel.example/claim"}`, 200, ""},
		{"no claim page", `{"apiUrl":"https://api.example","anonKey":"k"}`, 200, ""},
		{"not there", `{"error":"not found"}`, 404, "404"},
		{"not JSON", `<html>`, 200, "not a bootstrap answer"},
		{"bad api url", `{"apiUrl":"ftp://x","anonKey":"k"}`, 200, "apiUrl"},
		{"no api url", `{"anonKey":"k"}`, 200, "apiUrl"},
		{"bad claim url", `{"apiUrl":"http://a","anonKey":"k","claimUrl":"javascript:alert(1)"}`, 200, "claimUrl"},
		{"no key", `{"apiUrl":"http://a"}`, 200, "no anonKey"},
		{"key with a newline", `{"apiUrl":"http://a","anonKey":"k\nX-Evil: 1"}`, 200, "control"},
		{"key with NUL", `{"apiUrl":"http://a","anonKey":"k\u0000"}`, 200, "control"},
		{"huge", `{"apiUrl":"http://a","anonKey":"` + strings.Repeat("k", maxBootstrapBody) + `"}`, 200, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != protocol.PathBootstrap || r.Method != http.MethodGet {
					t.Errorf("%s %s", r.Method, r.URL.Path)
				}
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
			}))
			defer srv.Close()
			b, err := FetchBootstrap(context.Background(), srv.Client(), srv.URL+"/")
			if c.err == "" {
				if err != nil || !strings.HasPrefix(b.APIURL, "https://api.example") || strings.HasSuffix(b.APIURL, "/") {
					t.Fatalf("%+v %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err %v, want one naming %q", err, c.err)
			}
		})
	}
}

// A node given only the sentinel's URL takes the API URL and anon key
// from its bootstrap, names its claim page, and saves them with the id.
func TestCoreJoinsWithTheSentinelURLOnly(t *testing.T) {
	b := newBackend(t)
	dir := t.TempDir()
	n := startNode(t, b, dir, func(o *Options) { o.Overrides = Overrides{SentinelURL: b.URL()} })
	e := n.waitEvent(t, "claiming", isPhase(Claiming))
	if e.State.ClaimURL != b.URL()+"/claim" || e.State.ClaimCode == "" {
		t.Fatalf("claiming state %+v", e.State)
	}
	b.waitSubscribed(t, "realtime:node:"+testNodeID) // the realtime session used the bootstrap's URL and key
	cfg, err := LoadConfig(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{NodeID: testNodeID, APIURL: b.URL(), SentinelURL: b.URL(), AnonKey: testAnonKey, AutoUpdate: true}
	if cfg != want {
		t.Fatalf("config.ini holds %+v, want %+v", cfg, want)
	}
}

// A node id registered at one sentinel is not used at another: the node
// registers there, and config.ini then pairs the new id with it.
func TestCoreRegistersAfreshAtAnotherSentinel(t *testing.T) {
	dir := t.TempDir()
	other := Config{NodeID: "5a1f1f6e-1b55-4c3b-9f2a-7d3c2b1a0f99", APIURL: "https://api.elsewhere.example",
		SentinelURL: "https://sentinel.elsewhere.example", AnonKey: "other-key", AutoUpdate: true}
	if err := SaveConfig(dir, other); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t)
	n := startNode(t, b, dir, nil)
	b.waitCall(t, protocol.PathRegister)
	n.waitEvent(t, "claiming", isPhase(Claiming))
	if got := b.count(protocol.PathVerify); got != 0 {
		t.Fatalf("%d verifies of the other sentinel's id", got)
	}
	cfg, err := LoadConfig(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{NodeID: testNodeID, APIURL: b.URL(), SentinelURL: b.URL(), AnonKey: testAnonKey, AutoUpdate: true}
	if cfg != want {
		t.Fatalf("config.ini holds %+v, want %+v", cfg, want)
	}
}

// Without --api-url and a bootstrap, a node pointed at a new sentinel
// does not fall back to the production API: it says what to pass.
func TestCoreWithoutBootstrapNeedsAPIURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c, err := New(Options{ConfigDir: t.TempDir(), Overrides: Overrides{SentinelURL: srv.URL}, Host: Host{TotalCores: 1, EnabledCores: 1}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.bootstrap(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--api-url") {
		t.Fatalf("err %v", err)
	}
	if got := c.Config().APIURL; got != DefaultAPIURL {
		t.Fatalf("API URL %q", got)
	}
}
