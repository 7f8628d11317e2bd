package gateway

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"wowlab/internal/pgtest"
	"wowlab/protocol"
	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// instance is one sentinel (service + gateway) serving on loopback.
type instance struct {
	db  *store.Postgres
	svc *sentinel.Service
	gw  *Gateway
	srv *httptest.Server
}

// env is a migrated database with one or more instances on it.
type env struct {
	t    testing.TB
	dsn  string
	pool *pgxpool.Pool
	anon string
	a    *instance
}

func newEnv(t testing.TB, limits Limits) *env {
	t.Helper()
	dsn := pgtest.New(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	e := &env{t: t, dsn: dsn, pool: pool}
	e.anon, err = sentinel.AnonKey(testSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.a = e.instance(limits, true)
	return e
}

// instance starts a service and gateway on the env's database, with the
// store's listener and the gateway's dispatcher running.
func (e *env) instance(limits Limits, migrate bool) *instance {
	t := e.t
	t.Helper()
	db, err := store.Open(context.Background(), e.dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if migrate {
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := sentinel.New(sentinel.Config{Store: db, JWTSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := New(Config{Service: svc, Store: db, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Routes(mux)
	gw.Routes(mux)
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = db.Listen(ctx); done <- struct{}{} }()
	go func() { _ = gw.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		srv.Close()
	})
	select {
	case <-gw.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("change feed did not come up")
	}
	return &instance{db: db, svc: svc, gw: gw, srv: srv}
}

func (e *env) user(name string) (string, string) {
	e.t.Helper()
	u, tok, err := e.a.svc.AddUser(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID, tok
}

// node is a registered node identity.
type node struct {
	id    string
	pub   ed25519.PublicKey
	code  string
	token string
}

// newNode registers a node; when owner is set it is claimed by owner and
// made online.
func (e *env) newNode(ownerID string) *node {
	e.t.Helper()
	ctx := context.Background()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	svc := e.a.svc
	reg, err := svc.Register(ctx, pub, protocol.RegisterRequest{Hostname: "h", TotalCores: 4, EnabledCores: 4, Platform: "linux-x86_64", Version: "1"})
	if err != nil {
		e.t.Fatal(err)
	}
	n := &node{id: reg.ID, pub: pub, code: reg.ClaimCode}
	if ownerID != "" {
		if _, err := svc.ClaimNode(ctx, sentinel.ClaimRequest{UserID: ownerID, Code: n.code}); err != nil {
			e.t.Fatal(err)
		}
		if _, err := svc.Heartbeat(ctx, pub, protocol.HeartbeatRequest{Status: protocol.NodeOnline}); err != nil {
			e.t.Fatal(err)
		}
	}
	tok, err := svc.NodeToken(ctx, pub)
	if err != nil {
		e.t.Fatal(err)
	}
	n.token = tok.Token
	return n
}

// signToken makes a JWT with the test secret (or another secret).
func signToken(t testing.TB, secret []byte, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nodeToken mints a node token valid for ttl (negative: already expired).
func nodeToken(t testing.TB, secret []byte, nodeID string, ttl time.Duration) string {
	now := time.Now()
	return signToken(t, secret, sentinel.NodeClaims{Role: "authenticated", NodeID: nodeID, RegisteredClaims: jwt.RegisteredClaims{
		Subject: nodeID, IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}})
}

// rest sends a REST request and returns the status and body.
func (e *env) rest(method, path, apikey, bearer string, body any, header ...string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if raw, ok := body.(rawBody); ok {
		rd = bytes.NewReader(raw)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.a.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if apikey != "" {
		req.Header.Set("apikey", apikey)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// exec runs SQL on the test database.
func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// client is a test Realtime client speaking one serializer.
type client struct {
	t      testing.TB
	conn   *websocket.Conn
	vsn    string
	ref    int
	frames chan frame
	closed chan error // receives the read error once
	// ignore, when set, drops the changes it accepts (see ignoreChanges).
	ignore func(change) bool
}

// frame is a decoded server frame.
type frame struct {
	JoinRef json.RawMessage
	Ref     json.RawMessage
	Topic   string
	Event   string
	Payload json.RawMessage
}

func (f frame) String() string {
	return fmt.Sprintf("%s %s ref=%s join_ref=%s %s", f.Topic, f.Event, f.Ref, f.JoinRef, f.Payload)
}

func (e *env) dial(inst *instance, vsn, apikey string) (*client, error) {
	e.t.Helper()
	u := strings.Replace(inst.srv.URL, "http://", "ws://", 1) + "/realtime/v1/websocket?" +
		url.Values{"apikey": {apikey}, "vsn": {vsn}}.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	c := &client{t: e.t, conn: conn, vsn: vsn, frames: make(chan frame, 4096), closed: make(chan error, 1)}
	go c.read()
	e.t.Cleanup(func() { _ = conn.CloseNow() })
	return c, nil
}

func (e *env) connect(vsn string) *client {
	e.t.Helper()
	c, err := e.dial(e.a, vsn, e.anon)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (c *client) read() {
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.closed <- err
			close(c.frames)
			return
		}
		f, err := c.decode(data)
		if err != nil {
			c.closed <- err
			close(c.frames)
			return
		}
		c.frames <- f
	}
}

func (c *client) decode(data []byte) (frame, error) {
	var f frame
	if c.vsn == vsn2 {
		var parts []json.RawMessage
		if err := json.Unmarshal(data, &parts); err != nil || len(parts) != 5 {
			return f, fmt.Errorf("bad v2 frame %s", data)
		}
		f.JoinRef, f.Ref, f.Payload = parts[0], parts[1], parts[4]
		if err := json.Unmarshal(parts[2], &f.Topic); err != nil {
			return f, err
		}
		return f, json.Unmarshal(parts[3], &f.Event)
	}
	var obj struct {
		Topic   string          `json:"topic"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
		Ref     json.RawMessage `json:"ref"`
		JoinRef json.RawMessage `json:"join_ref"`
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return f, fmt.Errorf("bad v1 frame %s", data)
	}
	return frame{obj.JoinRef, obj.Ref, obj.Topic, obj.Event, obj.Payload}, nil
}

// sendRaw writes a text frame as it is.
func (c *client) sendRaw(data string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(data)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send pushes a message and returns its ref.
func (c *client) send(joinRef, topic, event string, payload any) string {
	c.t.Helper()
	c.ref++
	ref := fmt.Sprint(c.ref)
	p, err := json.Marshal(payload)
	if err != nil {
		c.t.Fatal(err)
	}
	jr := json.RawMessage("null")
	if joinRef != "" {
		jr, _ = json.Marshal(joinRef)
	}
	rr, _ := json.Marshal(ref)
	c.sendRaw(string(codec{c.vsn}.encode(message{JoinRef: jr, Ref: rr, Topic: topic, Event: event, Payload: p})))
	return ref
}

// next returns the next frame, failing after a deadline. Changes that
// ignoreChanges names are skipped.
func (c *client) next() frame {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("socket closed: %v", c.closeErr())
			}
			if c.ignored(f) {
				continue
			}
			return f
		case <-deadline:
			c.t.Fatal("no frame within 10s")
			return frame{}
		}
	}
}

// ignoreChanges makes the client drop the changes that ignore accepts, on
// every topic: changes of rows the test wrote before joining, whose notices
// travel through the database and may reach the socket at any point after
// it joined.
func (c *client) ignoreChanges(ignore func(change) bool) { c.ignore = ignore }

func (c *client) ignored(f frame) bool {
	if c.ignore == nil || f.Event != evChanges {
		return false
	}
	var ch change
	if err := json.Unmarshal(f.Payload, &ch); err != nil {
		c.t.Fatalf("change payload %s: %v", f.Payload, err)
	}
	return c.ignore(ch)
}

// expect returns the next frame and checks its topic and event.
func (c *client) expect(topic, event string) frame {
	c.t.Helper()
	f := c.next()
	if f.Topic != topic || f.Event != event {
		c.t.Fatalf("want %s %s, got %v", topic, event, f)
	}
	return f
}

// reply waits for the reply to ref and returns its status and response.
func (c *client) reply(topic, ref string) (string, json.RawMessage) {
	c.t.Helper()
	f := c.expect(topic, evReply)
	if string(f.Ref) != `"`+ref+`"` {
		c.t.Fatalf("reply to ref %s, want %s: %v", f.Ref, ref, f)
	}
	var p struct {
		Status   string          `json:"status"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(f.Payload, &p); err != nil {
		c.t.Fatal(err)
	}
	return p.Status, p.Response
}

// closeErr waits for the socket to be closed by the server and returns
// the close error.
func (c *client) closeErr() websocket.CloseError {
	c.t.Helper()
	for {
		select {
		case _, ok := <-c.frames:
			if ok {
				continue
			}
			err := <-c.closed
			c.closed <- err
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				c.t.Fatalf("socket ended without a close frame: %v", err)
			}
			return ce
		case <-time.After(10 * time.Second):
			c.t.Fatal("socket not closed within 10s")
		}
	}
}

// join joins topic with postgres_changes bindings and returns the reply's
// status and response; on success it also consumes the system message (if
// bindings were given) and the presence_state, returning the latter.
type joinResult struct {
	status   string
	response json.RawMessage
	reason   string
	ids      []int64
	state    json.RawMessage
}

func (c *client) join(topic, token string, bindings []map[string]string, presenceKey string) joinResult {
	c.t.Helper()
	cfg := map[string]any{
		"broadcast":        map[string]any{"self": false, "ack": false},
		"presence":         map[string]any{"key": presenceKey, "enabled": presenceKey != ""},
		"postgres_changes": bindings,
		"private":          false,
	}
	if bindings == nil {
		cfg["postgres_changes"] = []any{}
	}
	payload := map[string]any{"config": cfg}
	if token != "" {
		payload["access_token"] = token
	}
	c.ref++
	ref := fmt.Sprint(c.ref)
	p, _ := json.Marshal(payload)
	jr, _ := json.Marshal(ref)
	c.sendRaw(string(codec{c.vsn}.encode(message{JoinRef: jr, Ref: jr, Topic: topic, Event: evJoin, Payload: p})))
	var r joinResult
	r.status, r.response = c.reply(topic, ref)
	if r.status != "ok" {
		var why struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal(r.response, &why)
		r.reason = why.Reason
		return r
	}
	var resp struct {
		PostgresChanges []struct {
			ID     int64  `json:"id"`
			Event  string `json:"event"`
			Schema string `json:"schema"`
			Table  string `json:"table"`
			Filter string `json:"filter"`
		} `json:"postgres_changes"`
	}
	if err := json.Unmarshal(r.response, &resp); err != nil {
		c.t.Fatal(err)
	}
	if len(resp.PostgresChanges) != len(bindings) {
		c.t.Fatalf("join reply lists %d bindings, want %d: %s", len(resp.PostgresChanges), len(bindings), r.response)
	}
	for i, b := range resp.PostgresChanges {
		want := bindings[i]
		if b.Event != want["event"] || b.Schema != want["schema"] || b.Table != want["table"] || b.Filter != want["filter"] {
			c.t.Fatalf("binding %d echoed as %+v, want %v", i, b, want)
		}
		r.ids = append(r.ids, b.ID)
	}
	if len(bindings) > 0 {
		f := c.expect(topic, evSystem)
		if !strings.Contains(string(f.Payload), `"status":"ok"`) || !strings.Contains(string(f.Payload), "Subscribed to PostgreSQL") {
			c.t.Fatalf("system message: %v", f)
		}
	}
	f := c.expect(topic, evState)
	if string(f.JoinRef) != string(jr) {
		c.t.Fatalf("presence_state join_ref %s, want %s", f.JoinRef, jr)
	}
	r.state = f.Payload
	return r
}

func changes(event, table, filter string) map[string]string {
	return map[string]string{"event": event, "schema": "public", "table": table, "filter": filter}
}

// change is a decoded postgres_changes payload.
type change struct {
	IDs  []int64 `json:"ids"`
	Data struct {
		Schema          string              `json:"schema"`
		Table           string              `json:"table"`
		CommitTimestamp string              `json:"commit_timestamp"`
		Type            string              `json:"type"`
		Columns         []map[string]string `json:"columns"`
		Record          map[string]any      `json:"record"`
		OldRecord       map[string]any      `json:"old_record"`
		Errors          *json.RawMessage    `json:"errors"`
	} `json:"data"`
}

func (c *client) expectChange(topic string) change {
	c.t.Helper()
	f := c.expect(topic, evChanges)
	var ch change
	if err := json.Unmarshal(f.Payload, &ch); err != nil {
		c.t.Fatal(err)
	}
	return ch
}

func vsns(t *testing.T, fn func(t *testing.T, vsn string)) {
	for _, v := range []string{vsn1, vsn2} {
		t.Run("vsn="+v, func(t *testing.T) { fn(t, v) })
	}
}
