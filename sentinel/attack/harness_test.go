package attack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wowlab/internal/pgtest"
	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/sentinel/gateway"
	"wowlab/sentinel/server"
	"wowlab/sentinel/store"
	"wowlab/sentinel/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

var secret = []byte("attack-suite-secret-of-32-bytes!")

// patience bounds every wait of the suite.
const patience = 10 * time.Second

// options shape the sentinel under attack; zero fields take the defaults.
type options struct {
	sqlite                  bool
	http                    server.Limits
	realtime                gateway.Limits
	maxBodyMemory           int64
	registrationsPerAddress sentinel.Rate
}

// target is a sentinel serving on loopback.
type target struct {
	t    *testing.T
	srv  *server.Server
	url  string
	addr string
	anon string
	ts   atomic.Int64 // last signed timestamp, so no two requests share one
}

func start(t *testing.T, o options) *target {
	t.Helper()
	ctx := context.Background()
	var db store.Store
	var listen func(context.Context) error
	if o.sqlite {
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sentinel.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		db = s
	} else {
		s, err := store.Open(ctx, pgtest.New(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		db, listen = s, s.Listen
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(server.Config{Store: db, Listen: listen, JWTSecret: secret,
		HTTP: o.http, Realtime: o.realtime, MaxBodyMemory: o.maxBodyMemory, RegistrationsPerAddress: o.registrationsPerAddress}, ln)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	anon, err := sentinel.AnonKey(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{t: t, srv: srv, url: srv.URL(), addr: ln.Addr().String(), anon: anon}
	tg.ts.Store(time.Now().Unix())
	return tg
}

// user adds a user and returns its id and token.
func (tg *target) user(name string) (string, string) {
	tg.t.Helper()
	u, tok, err := tg.srv.Service().AddUser(context.Background(), name)
	if err != nil {
		tg.t.Fatal(err)
	}
	return u.ID, tok
}

// node is a node identity.
type node struct {
	key   ed25519.PrivateKey
	id    string
	code  string
	token string
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// register registers a fresh node over HTTP and fetches its token.
func (tg *target) register() *node {
	tg.t.Helper()
	n := &node{key: newKey(tg.t)}
	var reg protocol.RegisterResponse
	if st, body, _ := tg.call(n, protocol.PathRegister, protocol.RegisterRequest{Hostname: "h", TotalCores: 4, EnabledCores: 4, Platform: "linux-x86_64", Version: "1"}, &reg); st != 200 {
		tg.t.Fatalf("register: %d %s", st, body)
	}
	n.id, n.code = reg.ID, reg.ClaimCode
	n.token = tg.token(n)
	return n
}

func (tg *target) token(n *node) string {
	tg.t.Helper()
	var tok protocol.TokenResponse
	if st, body, _ := tg.call(n, protocol.PathToken, nil, &tok); st != 200 {
		tg.t.Fatalf("token: %d %s", st, body)
	}
	return tok.Token
}

// claimed registers a node, claims it for userID (as an operator would,
// by code) and makes it online.
func (tg *target) claimed(userID string) *node {
	tg.t.Helper()
	n := tg.register()
	mp := 4
	if _, err := tg.srv.Service().ClaimNode(context.Background(), sentinel.ClaimRequest{UserID: userID, Code: n.code, MaxParallel: &mp}); err != nil {
		tg.t.Fatal(err)
	}
	if st, body, _ := tg.call(n, protocol.PathHeartbeat, protocol.HeartbeatRequest{Status: "online"}, nil); st != 200 {
		tg.t.Fatalf("heartbeat: %d %s", st, body)
	}
	return n
}

// call posts a signed node API request (body marshalled unless it is
// []byte) and decodes a 200 answer into out.
func (tg *target) call(n *node, path string, body any, out any) (int, string, http.Header) {
	tg.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			tg.t.Fatal(err)
		}
	}
	// Ed25519 is deterministic: a fresh timestamp keeps every request
	// distinct, so the replay refusal never hits the suite by accident.
	ts := tg.ts.Add(1)
	if now := time.Now().Unix(); ts < now {
		tg.ts.Store(now)
		ts = now
	}
	h := protocol.Sign(n.key, ts, "POST", path, raw)
	req, err := http.NewRequest("POST", tg.url+path, bytes.NewReader(raw))
	if err != nil {
		tg.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(protocol.HeaderKey, h.Key)
	req.Header.Set(protocol.HeaderTimestamp, h.Timestamp)
	req.Header.Set(protocol.HeaderSignature, h.Signature)
	return tg.do(req, out)
}

// rest sends a REST request with the anon key as apikey.
func (tg *target) rest(method, path, bearer string, body any, out any) (int, string, http.Header) {
	tg.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			tg.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, tg.url+path, rd)
	if err != nil {
		tg.t.Fatal(err)
	}
	req.Header.Set("apikey", tg.anon)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Content-Type", "application/json")
	return tg.do(req, out)
}

func (tg *target) do(req *http.Request, out any) (int, string, http.Header) {
	tg.t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), patience)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		tg.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			tg.t.Fatalf("decode %s: %v", b, err)
		}
	}
	return resp.StatusCode, string(bytes.TrimSpace(b)), resp.Header
}

// must builds a request without a body.
func must(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// dialTCP opens a raw connection to the target, closed by the cleanup.
func (tg *target) dialTCP() net.Conn {
	tg.t.Helper()
	c, err := net.DialTimeout("tcp", tg.addr, patience)
	if err != nil {
		tg.t.Fatal(err)
	}
	tg.t.Cleanup(func() { _ = c.Close() })
	return c
}

// answer reads one HTTP answer from a raw connection within patience.
func answer(t *testing.T, c net.Conn, req *http.Request) (*http.Response, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(patience))
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// closedByServer waits until the server closes c (a read ends in EOF or a
// reset) and returns what it sent before, failing after patience.
func closedByServer(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(patience))
	got, err := io.ReadAll(c)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open past %v (it sent %q)", patience, got)
	}
	return string(got)
}

// rt is a Realtime client speaking serializer 1.0.0.
type rt struct {
	t      *testing.T
	conn   *websocket.Conn
	ref    int
	frames chan rtFrame
	closed chan error
}

type rtFrame struct {
	Topic   string          `json:"topic"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Ref     json.RawMessage `json:"ref"`
}

func (tg *target) realtime() *rt {
	tg.t.Helper()
	u := strings.Replace(tg.url, "http://", "ws://", 1) + "/realtime/v1/websocket?" + url.Values{"apikey": {tg.anon}, "vsn": {"1.0.0"}}.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		tg.t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	c := &rt{t: tg.t, conn: conn, frames: make(chan rtFrame, 4096), closed: make(chan error, 1)}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				c.closed <- err
				close(c.frames)
				return
			}
			var f rtFrame
			if json.Unmarshal(data, &f) == nil {
				c.frames <- f
			}
		}
	}()
	tg.t.Cleanup(func() { _ = conn.CloseNow() })
	return c
}

// send pushes a message and returns its ref.
func (c *rt) send(topic, event string, payload any) string {
	c.t.Helper()
	c.ref++
	ref := fmt.Sprint(c.ref)
	msg, err := json.Marshal(map[string]any{"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": ref})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	return ref
}

// reply waits for the reply to ref, skipping other frames, and returns its
// status and response; skipped counts the frames passed over.
func (c *rt) reply(ref string) (status string, response string, skipped int) {
	c.t.Helper()
	deadline := time.After(patience)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("socket closed waiting for reply %s: %v", ref, <-c.closed)
			}
			if f.Event != "phx_reply" || string(f.Ref) != `"`+ref+`"` {
				skipped++
				continue
			}
			var p struct {
				Status   string          `json:"status"`
				Response json.RawMessage `json:"response"`
			}
			_ = json.Unmarshal(f.Payload, &p)
			return p.Status, string(p.Response), skipped
		case <-deadline:
			c.t.Fatalf("no reply to %s within %v", ref, patience)
		}
	}
}

// join joins topic with token and postgres_changes bindings.
func (c *rt) join(topic, token string, bindings []map[string]string, presenceKey string) (string, string) {
	c.t.Helper()
	if bindings == nil {
		bindings = []map[string]string{}
	}
	ref := c.send(topic, "phx_join", map[string]any{"config": map[string]any{
		"presence": map[string]any{"key": presenceKey, "enabled": presenceKey != ""}, "postgres_changes": bindings, "private": false,
	}, "access_token": token})
	st, resp, _ := c.reply(ref)
	if st == "ok" {
		// A join ends with its presence_state (after the system message
		// when it has bindings): take them, so later frames are news.
		deadline := time.After(patience)
		for done := false; !done; {
			select {
			case f, ok := <-c.frames:
				if !ok {
					c.t.Fatalf("socket closed after joining %s", topic)
				}
				done = f.Event == "presence_state"
			case <-deadline:
				c.t.Fatalf("no presence_state after joining %s", topic)
			}
		}
	}
	return st, resp
}

// closeStatus waits for the server to close the socket.
func (c *rt) closeStatus() websocket.CloseError {
	c.t.Helper()
	deadline := time.After(patience)
	for {
		select {
		case _, ok := <-c.frames:
			if ok {
				continue
			}
			err := <-c.closed
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				c.t.Fatalf("socket ended without a close frame: %v", err)
			}
			return ce
		case <-deadline:
			c.t.Fatalf("socket not closed within %v", patience)
		}
	}
}
