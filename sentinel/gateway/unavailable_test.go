package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// downDatabase is an address that accepts connections and closes them at
// once: a database server going away, without racing for a free port.
func downDatabase(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return fmt.Sprintf("postgres://postgres@%s/wowlab?sslmode=disable&connect_timeout=5", ln.Addr())
}

// With the database unreachable, REST and the node API answer 503 with
// Retry-After (PostgREST's PGRST000 for REST), never an internal error: a
// client is told to come back, and the sentinel changes nothing.
func TestDatabaseDownIs503(t *testing.T) {
	db, err := store.Open(context.Background(), downDatabase(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	svc, err := sentinel.New(sentinel.Config{Store: db, JWTSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := New(Config{Service: svc, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	gw.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	anon, err := sentinel.AnonKey(testSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/rest/v1/rotations?select=id", nil)
	req.Header.Set("apikey", anon)
	req.Header.Set("Authorization", "Bearer wlu_"+strings.Repeat("a", 43))
	checkUnavailable(t, "REST", req, "PGRST000")

	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(fmt.Sprintf(`{"publicKey":%q,"hostname":"h","totalCores":2,"platform":"linux-x86_64","version":"1"}`, protocol.EncodePublicKey(pub)))
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/nodes/register", strings.NewReader(string(body)))
	h := protocol.Sign(key, time.Now().Unix(), http.MethodPost, "/nodes/register", body)
	req.Header.Set(protocol.HeaderKey, h.Key)
	req.Header.Set(protocol.HeaderTimestamp, h.Timestamp)
	req.Header.Set(protocol.HeaderSignature, h.Signature)
	checkUnavailable(t, "node API", req, "")
}

func checkUnavailable(t *testing.T, what string, req *http.Request, code string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%s with the database down: %d (Retry-After %q) %s, want 503 with Retry-After", what, resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
	var got struct {
		Code  string `json:"code"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v in %s", what, err, raw)
	}
	if got.Code != code || (code == "" && !strings.Contains(got.Error, "unavailable")) {
		t.Fatalf("%s: body %s", what, raw)
	}
}
