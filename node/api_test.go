package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"wowlab/protocol"
)

type recorded struct {
	path string
	body []byte
	err  error
}

// signedServer verifies every request's signature like the sentinel and
// answers with the status and body chosen per path.
func signedServer(t *testing.T, answers map[string]func() (int, string)) (*httptest.Server, chan recorded) {
	t.Helper()
	got := make(chan recorded, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := protocol.Headers{Key: r.Header.Get(protocol.HeaderKey), Timestamp: r.Header.Get(protocol.HeaderTimestamp), Signature: r.Header.Get(protocol.HeaderSignature)}
		_, err := protocol.Verify(h, r.Method, r.URL.Path, body, time.Now())
		if err == nil && r.Header.Get("Content-Type") != "application/json" {
			err = errors.New("content type " + r.Header.Get("Content-Type"))
		}
		got <- recorded{path: r.URL.Path, body: body, err: err}
		ans, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		status, text := ans()
		w.WriteHeader(status)
		io.WriteString(w, text)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func testIdentity(t *testing.T) *Identity {
	t.Helper()
	id, err := NewIdentity(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAPISignsEveryCall(t *testing.T) {
	ok := func(s string) func() (int, string) { return func() (int, string) { return 200, s } }
	srv, got := signedServer(t, map[string]func() (int, string){
		"/prefix/nodes/register":  ok(`{"id":"n1","claimCode":"ABCDEF","claimed":false}`),
		"/prefix/nodes/verify":    ok(`{"id":"n1","name":"box","maxParallel":3,"status":"online","claimed":true}`),
		"/prefix/nodes/heartbeat": ok(`{"id":"n1","name":"box","maxParallel":3,"status":"online"}`),
		"/prefix/nodes/token":     ok(`{"token":"jwt","expiresAt":1767225600}`),
		"/prefix/chunks/complete": ok(`{"success":true,"jobComplete":true}`),
		"/prefix/chunks/fail":     ok(`{"requeued":true}`),
		"/prefix/chunks/release":  ok(`{"released":true}`),
	})
	api, err := NewAPI(srv.URL+"/prefix/", testIdentity(t), APIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(path, wantBody string) {
		t.Helper()
		r := <-got
		if r.err != nil {
			t.Fatalf("%s: signature check: %v", path, r.err)
		}
		if r.path != path || string(r.body) != wantBody {
			t.Fatalf("request %s %q, want %s %q", r.path, r.body, path, wantBody)
		}
	}
	reg, err := api.Register(ctx, protocol.RegisterRequest{Hostname: "h", TotalCores: 4, EnabledCores: 2, Platform: "linux-x86_64", Version: "v"})
	if err != nil || reg.ID != "n1" || reg.ClaimCode != "ABCDEF" {
		t.Fatalf("register %+v %v", reg, err)
	}
	check("/prefix/nodes/register", `{"hostname":"h","totalCores":4,"enabledCores":2,"platform":"linux-x86_64","version":"v"}`)
	info, err := api.Verify(ctx)
	if err != nil || info.MaxParallel != 3 || !info.Claimed {
		t.Fatalf("verify %+v %v", info, err)
	}
	check("/prefix/nodes/verify", "")
	if _, err := api.Heartbeat(ctx, 3, nil); err != nil {
		t.Fatal(err)
	}
	check("/prefix/nodes/heartbeat", `{"status":"online","capacity":3}`)
	if _, err := api.Heartbeat(ctx, 0, nil); err != nil {
		t.Fatal(err)
	}
	check("/prefix/nodes/heartbeat", `{"status":"online","capacity":0}`)
	if _, err := api.Heartbeat(ctx, 2, &protocol.ChunkOffer{MaxIterations: 5000, Throughput: 1234.5}); err != nil {
		t.Fatal(err)
	}
	check("/prefix/nodes/heartbeat", `{"status":"online","capacity":2,"chunks":{"maxIterations":5000,"throughput":1234.5}}`)
	tok, err := api.Token(ctx)
	if err != nil || tok.Token != "jwt" || tok.ExpiresAt != 1767225600 {
		t.Fatalf("token %+v %v", tok, err)
	}
	check("/prefix/nodes/token", "")
	res := protocol.ChunkResult{Iterations: 2, MeanDps: 2, StdDps: 1, MinDps: 1, MaxDps: 3}
	if c, err := api.Complete(ctx, "c1", res); err != nil || !c.JobComplete {
		t.Fatalf("complete %+v %v", c, err)
	}
	check("/prefix/chunks/complete", `{"chunkId":"c1","result":{"iterations":2,"meanDps":2,"stdDps":1,"minDps":1,"maxDps":3}}`)
	if f, err := api.Fail(ctx, "c1", "bad config"); err != nil || !f.Requeued {
		t.Fatalf("fail %+v %v", f, err)
	}
	check("/prefix/chunks/fail", `{"chunkId":"c1","error":"bad config"}`)
	if r, err := api.Release(ctx, "c1"); err != nil || !r.Released {
		t.Fatalf("release %+v %v", r, err)
	}
	check("/prefix/chunks/release", `{"chunkId":"c1"}`)
}

func TestAPIErrorKinds(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		unavailable bool
		invalidID   bool
		message     string
	}{
		{"not found", 404, `{"error":"Node not found"}`, false, true, "Node not found"},
		{"not claimed", 404, `{"error":"Node not claimed"}`, false, true, "Node not claimed"},
		{"forbidden", 403, `{"error":"Not your chunk"}`, false, false, "Not your chunk"},
		{"bad request", 400, `{"error":"bad result"}`, false, false, "bad result"},
		{"server error", 500, `{"error":"db down"}`, true, false, "db down"},
		{"gateway html", 502, `<html>bad gateway</html>`, true, false, "<html>bad gateway</html>"},
		{"rate limited", 429, ``, true, false, "Too Many Requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := signedServer(t, map[string]func() (int, string){
				"/nodes/verify": func() (int, string) { return tt.status, tt.body },
			})
			api, _ := NewAPI(srv.URL, testIdentity(t), APIOptions{})
			_, err := api.Verify(context.Background())
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err %T %v, want *APIError", err, err)
			}
			if ae.Status != tt.status || ae.Message != tt.message || ae.InvalidIdentity() != tt.invalidID || ServerUnavailable(err) != tt.unavailable {
				t.Fatalf("got %+v invalid=%v unavailable=%v", ae, ae.InvalidIdentity(), ServerUnavailable(err))
			}
		})
	}
}

func TestAPINetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "not json")
	}))
	api, _ := NewAPI(srv.URL, testIdentity(t), APIOptions{})
	_, err := api.Verify(context.Background())
	var ne *NetworkError
	if !errors.As(err, &ne) || !ServerUnavailable(err) {
		t.Fatalf("undecodable answer: %T %v", err, err)
	}
	srv.Close()
	_, err = api.Heartbeat(context.Background(), 1, nil)
	if !errors.As(err, &ne) || !ServerUnavailable(err) {
		t.Fatalf("closed server: %T %v", err, err)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Fatal("network failure reported as APIError")
	}
}

func TestNewAPIRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "http://x/?q=1", "::"} {
		if _, err := NewAPI(u, testIdentity(t), APIOptions{}); err == nil {
			t.Errorf("NewAPI(%q) accepted", u)
		}
	}
	if c := NewHTTPClient(); c.Timeout != RequestTimeout {
		t.Fatalf("timeout %v", c.Timeout)
	}
}

// The sentinel refuses an exact replay; the same request twice within one
// second must therefore be signed differently.
func TestAPIRepeatedRequestIsNotAReplay(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sig := r.Header.Get(protocol.HeaderSignature)
		mu.Lock()
		replay := seen[sig]
		seen[sig] = true
		mu.Unlock()
		if replay {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"Replayed request"}`)
			return
		}
		io.WriteString(w, `{"id":"n1","name":"x","maxParallel":2,"status":"online","claimed":true}`)
	}))
	t.Cleanup(srv.Close)
	fixed := time.Unix(1767225600, 0)
	api, err := NewAPI(srv.URL, testIdentity(t), APIOptions{Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := api.Verify(context.Background()); err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("%d distinct signatures for 3 requests", len(seen))
	}
}
