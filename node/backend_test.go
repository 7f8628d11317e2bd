package node

// An in-test backend on loopback: the sentinel's node API (signatures
// verified), the three PostgREST reads and a Phoenix-channels Realtime
// server, all speaking the real wire formats of PROTOCOL.md.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wowlab/protocol"
	"wowlab/supabase"
)

const testAnonKey = "anon-test-key"

type call struct {
	path string
	body []byte
}

type backend struct {
	t   testing.TB
	srv *httptest.Server

	mu           sync.Mutex
	nodeID       string // "" until registered
	pubKey       string
	claimed      bool
	name         string
	maxParallel  int
	failStatus   map[string][]int // path -> statuses to answer before succeeding, with an {"error"} body
	pageStatus   map[string][]int // the same with a plain-text body, as a proxy answers
	counts       map[string]int   // path -> node API calls
	tokenExpires func() int64     // expiresAt of /nodes/token; nil: an hour from now
	configs      map[string]json.RawMessage
	rotations    map[string]Rotation
	running      []Chunk // rows returned by the resync query
	conns        map[*rtConn]bool
	nextBinding  int64
	calls        chan call
	joined       map[string]bool // topics ever joined
	token        string
	restRequests int
	blockChunk   chan struct{} // when set, /chunks/* answers wait for it
	capacity     *int          // of the last heartbeat
}

func newBackend(t testing.TB) *backend {
	b := &backend{
		t: t, name: "test box", maxParallel: 2, failStatus: map[string][]int{}, pageStatus: map[string][]int{}, counts: map[string]int{},
		configs: map[string]json.RawMessage{}, rotations: map[string]Rotation{},
		conns: map[*rtConn]bool{}, calls: make(chan call, 4096), joined: map[string]bool{}, token: "node-token-1",
	}
	mux := http.NewServeMux()
	for _, p := range []string{protocol.PathRegister, protocol.PathVerify, protocol.PathHeartbeat, protocol.PathToken,
		protocol.PathComplete, protocol.PathFail, protocol.PathRelease} {
		mux.HandleFunc("POST "+p, b.nodeAPI)
	}
	mux.HandleFunc("GET "+protocol.PathBootstrap, func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.counts[protocol.PathBootstrap]++
		b.mu.Unlock()
		writeJSON(w, 200, protocol.Bootstrap{APIURL: b.srv.URL, AnonKey: testAnonKey, ClaimURL: b.srv.URL + "/claim"})
	})
	mux.HandleFunc("GET /rest/v1/{table}", b.rest)
	mux.HandleFunc("GET /realtime/v1/websocket", b.realtime)
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) URL() string { return b.srv.URL }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (b *backend) nodeAPI(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h := protocol.Headers{Key: r.Header.Get(protocol.HeaderKey), Timestamp: r.Header.Get(protocol.HeaderTimestamp), Signature: r.Header.Get(protocol.HeaderSignature)}
	if _, err := protocol.Verify(h, r.Method, r.URL.Path, body, time.Now()); err != nil {
		b.t.Errorf("%s: bad signature: %v", r.URL.Path, err)
		writeJSON(w, 401, protocol.ErrorResponse{Error: err.Error()})
		return
	}
	select {
	case b.calls <- call{r.URL.Path, body}:
	default: // nobody is reading (heartbeats of a finished test); do not block the server
	}
	b.mu.Lock()
	b.counts[r.URL.Path]++
	if st := b.pageStatus[r.URL.Path]; len(st) > 0 {
		b.pageStatus[r.URL.Path] = st[1:]
		b.mu.Unlock()
		http.Error(w, "<html>upstream unavailable</html>", st[0])
		return
	}
	if st := b.failStatus[r.URL.Path]; len(st) > 0 {
		b.failStatus[r.URL.Path] = st[1:]
		b.mu.Unlock()
		writeJSON(w, st[0], protocol.ErrorResponse{Error: "temporarily broken"})
		return
	}
	block := b.blockChunk
	b.mu.Unlock()
	if block != nil && strings.HasPrefix(r.URL.Path, "/chunks/") {
		<-block
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	known := b.nodeID != "" && b.pubKey == h.Key
	switch r.URL.Path {
	case protocol.PathRegister:
		var req protocol.RegisterRequest
		if err := json.Unmarshal(body, &req); err != nil || req.Hostname == "" || req.TotalCores < 1 {
			writeJSON(w, 400, protocol.ErrorResponse{Error: "bad register body"})
			return
		}
		if !known {
			b.nodeID, b.pubKey = "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", h.Key // claimed as preset by the test
		}
		pub, _ := protocol.DecodePublicKey(h.Key)
		writeJSON(w, 200, protocol.RegisterResponse{ID: b.nodeID, ClaimCode: protocol.ClaimCode(pub), Claimed: b.claimed})
	case protocol.PathVerify, protocol.PathHeartbeat:
		if r.URL.Path == protocol.PathHeartbeat {
			var hb protocol.HeartbeatRequest
			if err := json.Unmarshal(body, &hb); err == nil && hb.Status == protocol.NodeOnline {
				b.capacity = hb.Capacity
			}
		}
		switch {
		case !known:
			writeJSON(w, 404, protocol.ErrorResponse{Error: "Node not found"})
		case !b.claimed:
			writeJSON(w, 404, protocol.ErrorResponse{Error: "Node not claimed"})
		default:
			writeJSON(w, 200, protocol.NodeInfo{ID: b.nodeID, Name: b.name, MaxParallel: b.maxParallel, Status: "online", Claimed: r.URL.Path == protocol.PathVerify})
		}
	case protocol.PathToken:
		if !known {
			writeJSON(w, 404, protocol.ErrorResponse{Error: "Node not found"})
			return
		}
		exp := time.Now().Add(time.Hour).Unix()
		if b.tokenExpires != nil {
			exp = b.tokenExpires()
		}
		writeJSON(w, 200, protocol.TokenResponse{Token: b.token, ExpiresAt: exp})
	case protocol.PathComplete:
		writeJSON(w, 200, protocol.CompleteResponse{Success: true})
	case protocol.PathFail:
		writeJSON(w, 200, protocol.FailResponse{Requeued: true})
	case protocol.PathRelease:
		writeJSON(w, 200, protocol.ReleaseResponse{Released: true})
	}
}

// rest serves the three reads of PROTOCOL section 5.
func (b *backend) rest(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.restRequests++
	if r.Header.Get("apikey") != testAnonKey || r.Header.Get("Authorization") != "Bearer "+b.token {
		writeJSON(w, 401, map[string]string{"code": "PGRST301", "message": "bad credentials"})
		return
	}
	q := r.URL.Query()
	eq := func(k string) string { return strings.TrimPrefix(q.Get(k), "eq.") }
	switch table := r.PathValue("table"); table {
	case "jobs_configs":
		if q.Get("select") != "config" {
			b.t.Errorf("jobs_configs select=%q", q.Get("select"))
		}
		out := []map[string]json.RawMessage{}
		if c, ok := b.configs[eq("hash")]; ok {
			out = append(out, map[string]json.RawMessage{"config": c})
		}
		writeJSON(w, 200, out)
	case "rotations":
		if q.Get("select") != "id,script,checksum" {
			b.t.Errorf("rotations select=%q", q.Get("select"))
		}
		out := []Rotation{}
		if rot, ok := b.rotations[eq("id")]; ok {
			out = append(out, rot)
		}
		writeJSON(w, 200, out)
	case "jobs_chunks":
		if q.Get("select") != "id,iterations,config_hash,seed_offset" || eq("status") != "running" || eq("node_id") != b.nodeID {
			b.t.Errorf("jobs_chunks query %v", q)
		}
		out := []Chunk{}
		for _, c := range b.running {
			out = append(out, Chunk{ID: c.ID, Iterations: c.Iterations, ConfigHash: c.ConfigHash, SeedOffset: c.SeedOffset})
		}
		writeJSON(w, 200, out)
	default:
		writeJSON(w, 404, map[string]string{"code": "42P01", "message": "unknown table " + table})
	}
}

// rtConn is one realtime socket.
type rtConn struct {
	ws     *websocket.Conn
	ser    supabase.Serializer
	mu     sync.Mutex
	topics map[string]rtChannel
}

type rtChannel struct {
	joinRef  string
	bindings []supabase.PostgresChange
}

func (c *rtConn) send(m supabase.Message) {
	data, err := c.ser.Encode(m)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, data)
}

func (b *backend) realtime(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("apikey") != testAnonKey {
		http.Error(w, "bad apikey", 401)
		return
	}
	ser := supabase.Serializer(r.URL.Query().Get("vsn"))
	if !ser.Valid() {
		ser = supabase.SerializerV1
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c := &rtConn{ws: ws, ser: ser, topics: map[string]rtChannel{}}
	b.mu.Lock()
	b.conns[c] = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		ws.CloseNow()
	}()
	for {
		_, data, err := ws.Read(r.Context())
		if err != nil {
			return
		}
		m, err := ser.Decode(data)
		if err != nil {
			b.t.Errorf("realtime: bad frame %q: %v", data, err)
			return
		}
		reply := func(status string, resp any) {
			raw, _ := json.Marshal(resp)
			p, _ := json.Marshal(supabase.Reply{Status: status, Response: raw})
			c.send(supabase.Message{JoinRef: m.JoinRef, Ref: m.Ref, Topic: m.Topic, Event: "phx_reply", Payload: p})
		}
		switch m.Event {
		case "heartbeat":
			reply("ok", map[string]any{})
		case "phx_join":
			var jp supabase.JoinPayload
			if err := json.Unmarshal(m.Payload, &jp); err != nil {
				reply("error", supabase.ErrorResponse{Reason: "bad join"})
				continue
			}
			b.mu.Lock()
			tokenOK := jp.AccessToken == b.token
			var bindings []supabase.PostgresChange
			for _, pc := range jp.Config.PostgresChanges {
				b.nextBinding++
				pc.ID = b.nextBinding
				bindings = append(bindings, pc)
			}
			b.mu.Unlock()
			if !tokenOK {
				reply("error", supabase.ErrorResponse{Reason: "invalid token"})
				continue
			}
			c.mu.Lock()
			c.topics[m.Topic] = rtChannel{joinRef: m.JoinRef, bindings: bindings}
			c.mu.Unlock()
			reply("ok", supabase.JoinResponse{PostgresChanges: bindings})
			sys, _ := json.Marshal(supabase.SystemMessage{Extension: "postgres_changes", Status: "ok", Message: "Subscribed to PostgreSQL", Channel: strings.TrimPrefix(m.Topic, "realtime:")})
			c.send(supabase.Message{JoinRef: m.JoinRef, Topic: m.Topic, Event: "system", Payload: sys})
			if jp.Config.Presence.Enabled {
				c.send(supabase.Message{JoinRef: m.JoinRef, Topic: m.Topic, Event: "presence_state", Payload: json.RawMessage(`{}`)})
			}
			b.mu.Lock()
			b.joined[m.Topic] = true
			b.mu.Unlock()
		case "presence":
			reply("ok", map[string]any{})
		case "access_token":
		case "phx_leave":
			c.mu.Lock()
			delete(c.topics, m.Topic)
			c.mu.Unlock()
			reply("ok", map[string]any{})
		}
	}
}

// push sends a postgres change of table with record to every socket joined
// to topic, routed to its bindings on that table.
func (b *backend) push(topic, table, typ string, record any) int {
	rec, _ := json.Marshal(record)
	b.mu.Lock()
	conns := make([]*rtConn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	sent := 0
	for _, c := range conns {
		c.mu.Lock()
		ch, ok := c.topics[topic]
		c.mu.Unlock()
		if !ok {
			continue
		}
		var ids []int64
		for _, bd := range ch.bindings {
			if bd.Table == table {
				ids = append(ids, bd.ID)
			}
		}
		p, _ := json.Marshal(supabase.ChangePayload{IDs: ids, Data: supabase.Change{
			Schema: "public", Table: table, CommitTimestamp: time.Now().UTC().Format(time.RFC3339), Type: typ,
			Columns: []supabase.Column{{Name: "id", Type: "uuid"}}, Record: rec, OldRecord: json.RawMessage(`{}`),
		}})
		c.send(supabase.Message{JoinRef: ch.joinRef, Topic: topic, Event: "postgres_changes", Payload: p})
		sent++
	}
	return sent
}

// dropSockets closes every realtime socket (the client reconnects).
func (b *backend) dropSockets() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		c.ws.CloseNow()
	}
}

// goAway makes the backend unreachable, as a killed sentinel is: new
// connections are refused and open ones closed.
func (b *backend) goAway() {
	b.srv.Listener.Close()
	b.srv.CloseClientConnections()
	b.dropSockets()
}

// waitCall returns the next node API call to path, skipping others.
func (b *backend) waitCall(t *testing.T, path string) call {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case c := <-b.calls:
			if c.path == path {
				return c
			}
		case <-timeout:
			t.Fatalf("no call to %s", path)
		}
	}
}

// waitSubscribed waits until some socket has joined topic.
func (b *backend) waitSubscribed(t *testing.T, topic string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.mu.Lock()
		ok := b.joined[topic]
		b.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no join of %s", topic)
		}
		time.Sleep(2 * time.Millisecond) // polling a condition
	}
}

// count returns how many node API calls to path the backend answered.
func (b *backend) count(path string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts[path]
}

func (b *backend) set(f func(b *backend)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b)
}

// lastCapacity returns the capacity of the last heartbeat, -1 for none.
func (b *backend) lastCapacity() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.capacity == nil {
		return -1
	}
	return *b.capacity
}

func (b *backend) String() string { return fmt.Sprintf("backend(%s)", b.srv.URL) }
