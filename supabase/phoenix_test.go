package supabase

// A small Phoenix / Supabase Realtime server for the tests, over real
// WebSockets on loopback. It answers heartbeats, joins (with server-chosen
// binding ids), presence pushes and leaves the way Supabase Realtime does,
// records every frame it receives, and lets a test push frames, drop the
// socket or stop answering heartbeats.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const testAnonKey = "anon-key"

type phoenixServer struct {
	t      *testing.T
	srv    *httptest.Server
	ctx    context.Context
	conns  chan *phoenixConn
	connNo atomic.Int32
	nextID atomic.Int64

	// ignoreHeartbeats, when set, says whether connection no (from 1)
	// leaves heartbeats unanswered.
	ignoreHeartbeats func(no int) bool
	// refuseJoin, when set, returns a reason to refuse a join (or "").
	refuseJoin func(no int, topic string) string
	// joinGate, when set, holds every join reply until it is closed.
	joinGate chan struct{}
	// rejectUpgrade makes the server answer 503 instead of upgrading.
	rejectUpgrade atomic.Bool
}

type phoenixConn struct {
	no       int
	ser      Serializer
	query    map[string]string
	path     string
	ws       *websocket.Conn
	srv      *phoenixServer
	received chan receivedFrame
	closed   chan struct{}

	mu     sync.Mutex
	joined map[string]serverChannel
}

type receivedFrame struct {
	Message
	raw []byte
}

type serverChannel struct {
	joinRef string
	join    JoinPayload
	ids     []int64
}

func newPhoenixServer(t *testing.T) *phoenixServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &phoenixServer{t: t, ctx: ctx, conns: make(chan *phoenixConn, 100)}
	s.nextID.Store(1000)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		cancel()
		s.srv.Close()
	})
	return s
}

func (s *phoenixServer) URL() string { return s.srv.URL }

func (s *phoenixServer) serve(w http.ResponseWriter, r *http.Request) {
	if s.rejectUpgrade.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	if q.Get("apikey") != testAnonKey {
		http.Error(w, "bad apikey", http.StatusForbidden)
		return
	}
	ser := Serializer(q.Get("vsn"))
	if !ser.Valid() {
		http.Error(w, "bad vsn", http.StatusBadRequest)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c := &phoenixConn{
		no:       int(s.connNo.Add(1)),
		ser:      ser,
		query:    map[string]string{"apikey": q.Get("apikey"), "vsn": q.Get("vsn")},
		path:     r.URL.Path,
		ws:       ws,
		srv:      s,
		received: make(chan receivedFrame, 1000),
		closed:   make(chan struct{}),
		joined:   make(map[string]serverChannel),
	}
	s.conns <- c
	defer close(c.closed)
	defer ws.CloseNow()
	for {
		_, data, err := ws.Read(s.ctx)
		if err != nil {
			return
		}
		m, err := ser.Decode(data)
		if err != nil {
			s.t.Errorf("server: bad frame %s: %v", data, err)
			return
		}
		select {
		case c.received <- receivedFrame{m, data}:
		default:
			s.t.Error("server: received buffer full")
		}
		c.handle(m)
	}
}

func (c *phoenixConn) reply(m Message, status string, response any) {
	payload := mustJSON(c.srv.t, map[string]any{"status": status, "response": response})
	c.send(Message{JoinRef: m.JoinRef, Ref: m.Ref, Topic: m.Topic, Event: "phx_reply", Payload: payload})
}

// send writes m to the client; errors after the socket closed are ignored.
func (c *phoenixConn) send(m Message) {
	data, err := c.ser.Encode(m)
	if err != nil {
		c.srv.t.Errorf("server: encode %+v: %v", m, err)
		return
	}
	_ = c.ws.Write(c.srv.ctx, websocket.MessageText, data)
}

func (c *phoenixConn) handle(m Message) {
	s := c.srv
	switch {
	case m.Topic == "phoenix" && m.Event == "heartbeat":
		if s.ignoreHeartbeats == nil || !s.ignoreHeartbeats(c.no) {
			c.reply(m, "ok", map[string]any{})
		}
	case m.Event == "phx_join":
		var jp JoinPayload
		if err := json.Unmarshal(m.Payload, &jp); err != nil {
			c.reply(m, "error", map[string]any{"reason": "bad join"})
			return
		}
		if s.refuseJoin != nil {
			if reason := s.refuseJoin(c.no, m.Topic); reason != "" {
				c.reply(m, "error", map[string]any{"reason": reason})
				return
			}
		}
		if s.joinGate != nil {
			<-s.joinGate
		}
		sc := serverChannel{joinRef: m.JoinRef, join: jp}
		echo := make([]PostgresChange, len(jp.Config.PostgresChanges))
		for i, b := range jp.Config.PostgresChanges {
			b.ID = s.nextID.Add(1)
			echo[i] = b
			sc.ids = append(sc.ids, b.ID)
		}
		c.mu.Lock()
		c.joined[m.Topic] = sc
		c.mu.Unlock()
		c.reply(m, "ok", map[string]any{"postgres_changes": echo})
		if len(echo) > 0 {
			c.send(Message{JoinRef: m.JoinRef, Topic: m.Topic, Event: "system", Payload: mustJSON(s.t, SystemMessage{
				Extension: "postgres_changes", Status: "ok", Message: "Subscribed to PostgreSQL", Channel: strings.TrimPrefix(m.Topic, "realtime:"),
			})})
		}
		if jp.Config.Presence.Enabled {
			c.send(Message{JoinRef: m.JoinRef, Topic: m.Topic, Event: "presence_state", Payload: json.RawMessage(`{}`)})
		}
	case m.Event == "presence":
		var pp PresencePush
		if err := json.Unmarshal(m.Payload, &pp); err != nil || pp.Type != "presence" {
			c.reply(m, "error", map[string]any{"reason": "bad presence"})
			return
		}
		c.reply(m, "ok", map[string]any{})
		sc, _ := c.channel(m.Topic)
		key := sc.join.Config.Presence.Key
		meta := map[string]any{"phx_ref": "pr-" + m.Ref}
		if len(pp.Payload) > 0 {
			var fields map[string]any
			_ = json.Unmarshal(pp.Payload, &fields)
			for k, v := range fields {
				meta[k] = v
			}
		}
		state := map[string]any{key: map[string]any{"metas": []any{meta}}}
		diff := map[string]any{"joins": state, "leaves": map[string]any{}}
		if pp.Event == "untrack" {
			diff = map[string]any{"joins": map[string]any{}, "leaves": state}
		}
		c.send(Message{JoinRef: m.JoinRef, Topic: m.Topic, Event: "presence_diff", Payload: mustJSON(s.t, diff)})
	case m.Event == "phx_leave":
		c.mu.Lock()
		delete(c.joined, m.Topic)
		c.mu.Unlock()
		c.reply(m, "ok", map[string]any{})
		c.send(Message{JoinRef: m.JoinRef, Ref: m.Ref, Topic: m.Topic, Event: "phx_close", Payload: json.RawMessage(`{}`)})
	}
}

// channel returns what the server knows of a joined topic.
func (c *phoenixConn) channel(topic string) (serverChannel, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc, ok := c.joined[topic]
	return sc, ok
}

// sendChange pushes a postgres_changes event with ids for topic.
func (c *phoenixConn) sendChange(topic string, ids []int64, change Change) {
	sc, _ := c.channel(topic)
	c.send(Message{JoinRef: sc.joinRef, Topic: topic, Event: "postgres_changes", Payload: mustJSON(c.srv.t, ChangePayload{IDs: ids, Data: change})})
}

// drop closes the socket without a close handshake.
func (c *phoenixConn) drop() { _ = c.ws.CloseNow() }

// nextConn waits for the next accepted connection.
func (s *phoenixServer) nextConn(t *testing.T) *phoenixConn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection to the test server")
		return nil
	}
}

// expect waits for the next received frame with event (and topic, unless
// empty), skipping others.
func (c *phoenixConn) expect(t *testing.T, event, topic string) receivedFrame {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f := <-c.received:
			if f.Event == event && (topic == "" || f.Topic == topic) {
				return f
			}
		case <-deadline:
			t.Fatalf("server conn %d: no %s on %q", c.no, event, topic)
			return receivedFrame{}
		}
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return b
}

// statusLog collects a Realtime's statuses for a test to wait on.
type statusLog struct{ ch chan Status }

func newStatusLog() *statusLog { return &statusLog{ch: make(chan Status, 1000)} }

func (l *statusLog) record(st Status) { l.ch <- st }

// wait returns the next status of kind (and topic, unless empty), skipping
// others.
func (l *statusLog) wait(t *testing.T, kind StatusKind, topic string) Status {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case st := <-l.ch:
			if st.Kind == kind && (topic == "" || st.Topic == topic) {
				return st
			}
		case <-deadline:
			t.Fatalf("no %s status for %q", kind, topic)
			return Status{}
		}
	}
}

// testClient is a Realtime running against a phoenixServer until the test
// ends; the cleanup checks that Run returns and leaves no goroutine behind.
type testClient struct {
	*Realtime
	status *statusLog
	cancel context.CancelFunc
	done   chan error
}

func startClient(t *testing.T, srv *phoenixServer, ser Serializer, mod func(*RealtimeOptions)) *testClient {
	t.Helper()
	log := newStatusLog()
	opts := RealtimeOptions{
		APIURL:            srv.URL(),
		APIKey:            testAnonKey,
		Serializer:        ser,
		HeartbeatInterval: time.Hour,
		ReplyTimeout:      5 * time.Second,
		Backoff:           Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond, Rand: func() float64 { return 0 }},
		OnStatus:          log.record,
	}
	if mod != nil {
		mod(&opts)
	}
	r, err := NewRealtime(opts)
	if err != nil {
		t.Fatal(err)
	}
	return runClient(t, r, log)
}

func runClient(t *testing.T, r *Realtime, log *statusLog) *testClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &testClient{Realtime: r, status: log, cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- r.Run(ctx) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels Run, waits for it and checks for leftover goroutines.
func (c *testClient) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case err, ok := <-c.done:
		if ok && err != context.Canceled {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
		if ok {
			close(c.done)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	waitNoGoroutines(t)
}

// waitNoGoroutines fails the test if goroutines of this package's client
// are still running (polled with a deadline: the last ones may be exiting).
func waitNoGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := clientGoroutines()
		if left == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Run returned:\n%s", left)
		}
		waitABit()
	}
}

// waitABit yields for a millisecond between polls of a condition.
func waitABit() { <-time.After(time.Millisecond) }
