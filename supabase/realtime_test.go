package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// clientGoroutines returns the stacks of goroutines running this package's
// client code, "" when there are none.
func clientGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, fn := range []string{"supabase.(*session)", "supabase.(*Realtime)", "supabase.(*dispatcher)"} {
			if strings.Contains(g, fn) {
				left = append(left, g)
				break
			}
		}
	}
	return strings.Join(left, "\n\n")
}

var serializers = []Serializer{SerializerV1, SerializerV2}

func TestNewRealtimeValidates(t *testing.T) {
	for _, opts := range []RealtimeOptions{
		{APIKey: "k"},
		{APIURL: "ftp://x", APIKey: "k"},
		{APIURL: "http://x"},
		{APIURL: "http://x", APIKey: "k", Serializer: "3.0.0"},
		{APIURL: "http://x", APIKey: "k", HeartbeatInterval: -1},
	} {
		if _, err := NewRealtime(opts); err == nil {
			t.Errorf("NewRealtime(%+v): no error", opts)
		}
	}
	for _, tc := range []struct{ api, want string }{
		{"http://localhost:8080", "ws://localhost:8080/realtime/v1/websocket?apikey=a%2Bb%20c&vsn=2.0.0"},
		{"https://api.example.test/base/", "wss://api.example.test/base/realtime/v1/websocket?apikey=a%2Bb%20c&vsn=2.0.0"},
	} {
		r, err := NewRealtime(RealtimeOptions{APIURL: tc.api, APIKey: "a+b c"})
		if err != nil {
			t.Fatal(err)
		}
		if r.URL() != tc.want {
			t.Errorf("URL = %s, want %s", r.URL(), tc.want)
		}
	}
	r, _ := NewRealtime(RealtimeOptions{APIURL: "http://x", APIKey: "k"})
	for _, name := range []string{"", "a\nb"} {
		if _, err := r.Subscribe(name, ChannelConfig{}); err == nil {
			t.Errorf("Subscribe(%q): no error", name)
		}
	}
	if _, err := r.Subscribe("x", ChannelConfig{Changes: []ChangeBinding{{Table: "t"}}}); err == nil {
		t.Error("binding without OnChange accepted")
	}
	if _, err := r.Subscribe("x", ChannelConfig{Changes: []ChangeBinding{{Event: "TRUNCATE", Table: "t", OnChange: func(Change) {}}}}); err == nil {
		t.Error("bad event accepted")
	}
	if _, err := r.Subscribe("x", ChannelConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Subscribe("x", ChannelConfig{}); err == nil {
		t.Error("duplicate channel accepted")
	}
}

// TestRealtimeJoinAndRouteChanges joins a channel with two bindings and
// checks the join frame, the server ids and the routing of changes, with
// both serializers.
func TestRealtimeJoinAndRouteChanges(t *testing.T) {
	for _, ser := range serializers {
		t.Run(string(ser), func(t *testing.T) {
			srv := newPhoenixServer(t)
			c := startClient(t, srv, ser, func(o *RealtimeOptions) { o.AccessToken = "node-token" })
			nodeCh := make(chan Change, 10)
			chunkCh := make(chan Change, 10)
			systemCh := make(chan SystemMessage, 10)
			ch, err := c.Subscribe("node:n1", ChannelConfig{
				Changes: []ChangeBinding{
					{Event: ChangeUpdate, Table: "nodes", Filter: "id=eq.n1", OnChange: func(ch Change) { nodeCh <- ch }},
					{Table: "jobs_chunks", Filter: "node_id=eq.n1", OnChange: func(ch Change) { chunkCh <- ch }},
				},
				OnSystem: func(m SystemMessage) { systemCh <- m },
			})
			if err != nil {
				t.Fatal(err)
			}
			conn := srv.nextConn(t)
			if conn.path != "/realtime/v1/websocket" || conn.query["vsn"] != string(ser) || conn.query["apikey"] != testAnonKey {
				t.Errorf("dialled %s %v", conn.path, conn.query)
			}
			join := conn.expect(t, "phx_join", "realtime:node:n1")
			if join.JoinRef == "" || join.JoinRef != join.Ref {
				t.Errorf("join refs: join_ref %q ref %q", join.JoinRef, join.Ref)
			}
			wantFirst := byte('{')
			if ser == SerializerV2 {
				wantFirst = '['
			}
			if join.raw[0] != wantFirst {
				t.Errorf("frame %s is not in %s form", join.raw, ser)
			}
			var payload map[string]any
			if err := json.Unmarshal(join.Payload, &payload); err != nil {
				t.Fatal(err)
			}
			wantPayload := `{"access_token":"node-token","config":{"broadcast":{"ack":false,"self":false},"postgres_changes":[` +
				`{"event":"UPDATE","filter":"id=eq.n1","schema":"public","table":"nodes"},` +
				`{"event":"*","filter":"node_id=eq.n1","schema":"public","table":"jobs_chunks"}],` +
				`"presence":{"enabled":false,"key":""},"private":false}}`
			if got := string(mustJSON(t, payload)); got != wantPayload {
				t.Errorf("join payload\n got %s\nwant %s", got, wantPayload)
			}
			st := c.status.wait(t, StatusSubscribed, "realtime:node:n1")
			if st.Session != 1 {
				t.Errorf("subscribed on session %d", st.Session)
			}
			if !ch.Joined() {
				t.Error("Joined() = false after subscribed")
			}
			select {
			case m := <-systemCh:
				if m.Status != "ok" || m.Extension != "postgres_changes" || m.Channel != "node:n1" {
					t.Errorf("system = %+v", m)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no system message")
			}

			sc, _ := conn.channel("realtime:node:n1")
			if len(sc.ids) != 2 || sc.ids[0] == sc.ids[1] {
				t.Fatalf("server ids %v", sc.ids)
			}
			conn.sendChange("realtime:node:n1", []int64{sc.ids[1]}, Change{
				Schema: "public", Table: "jobs_chunks", CommitTimestamp: "2026-01-02T03:04:05.123Z", Type: ChangeUpdate,
				Columns:   []Column{{Name: "id", Type: "uuid"}, {Name: "status", Type: "text"}},
				Record:    json.RawMessage(`{"id":"c1","status":"running","iterations":1000}`),
				OldRecord: json.RawMessage(`{"id":"c1"}`),
			})
			conn.sendChange("realtime:node:n1", []int64{99999}, Change{Table: "ignored", Type: ChangeInsert})
			conn.sendChange("realtime:node:n1", []int64{sc.ids[0], sc.ids[1]}, Change{Table: "both", Type: ChangeUpdate, Record: json.RawMessage(`{}`)})

			got := <-chunkCh
			var row struct {
				ID         string `json:"id"`
				Status     string `json:"status"`
				Iterations int    `json:"iterations"`
			}
			if err := json.Unmarshal(got.Record, &row); err != nil {
				t.Fatal(err)
			}
			if row.Status != "running" || row.Iterations != 1000 || got.Type != ChangeUpdate || got.Table != "jobs_chunks" || string(got.OldRecord) != `{"id":"c1"}` || len(got.Columns) != 2 {
				t.Errorf("change = %+v, row %+v", got, row)
			}
			if ts, err := got.Committed(); err != nil || !ts.Equal(time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC)) {
				t.Errorf("Committed = %v, %v", ts, err)
			}
			if both := <-chunkCh; both.Table != "both" {
				t.Errorf("chunk binding got %q, want the change sent to both", both.Table)
			}
			if n := <-nodeCh; n.Table != "both" {
				t.Errorf("node binding got %q: the change for the other binding or for no binding was routed to it", n.Table)
			}
			select {
			case extra := <-nodeCh:
				t.Errorf("node binding got an extra change %+v", extra)
			case extra := <-chunkCh:
				t.Errorf("chunk binding got an extra change %+v", extra)
			default:
			}
		})
	}
}

// TestRealtimePresence tracks presence (before the socket is up, so it is
// sent after the join) and receives presence_state and presence_diff.
func TestRealtimePresence(t *testing.T) {
	for _, ser := range serializers {
		t.Run(string(ser), func(t *testing.T) {
			srv := newPhoenixServer(t)
			r, err := NewRealtime(RealtimeOptions{APIURL: srv.URL(), APIKey: testAnonKey, Serializer: ser, HeartbeatInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			states := make(chan PresenceState, 10)
			diffs := make(chan PresenceDiff, 10)
			ch, err := r.Subscribe("nodes:presence", ChannelConfig{
				Presence:        PresenceConfig{Key: "n1", Enabled: true},
				OnPresenceState: func(p PresenceState) { states <- p },
				OnPresenceDiff:  func(p PresenceDiff) { diffs <- p },
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := ch.Track(context.Background(), map[string]string{"node_id": "n1"}); err != nil {
				t.Fatalf("Track before connect: %v", err)
			}
			log := newStatusLog()
			r.opts.OnStatus = log.record
			runClient(t, r, log)

			conn := srv.nextConn(t)
			join := conn.expect(t, "phx_join", "realtime:nodes:presence")
			var jp JoinPayload
			if err := json.Unmarshal(join.Payload, &jp); err != nil || jp.Config.Presence != (PresenceConfig{Key: "n1", Enabled: true}) {
				t.Errorf("join presence = %+v (%v)", jp.Config.Presence, err)
			}
			track := conn.expect(t, "presence", "realtime:nodes:presence")
			if string(track.Payload) != `{"type":"presence","event":"track","payload":{"node_id":"n1"}}` || track.JoinRef != join.JoinRef {
				t.Errorf("track frame %s (join_ref %q, join's %q)", track.Payload, track.JoinRef, join.JoinRef)
			}
			select {
			case st := <-states:
				if len(st) != 0 {
					t.Errorf("state = %v", st)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no presence_state")
			}
			d := <-diffs
			metas := d.Joins["n1"].Metas
			if len(metas) != 1 || len(d.Leaves) != 0 {
				t.Fatalf("diff = %+v", d)
			}
			var meta map[string]string
			if err := json.Unmarshal(metas[0], &meta); err != nil || meta["node_id"] != "n1" || meta["phx_ref"] == "" {
				t.Errorf("meta = %s", metas[0])
			}

			// While joined, Track and Untrack wait for the server's reply.
			if err := ch.Track(context.Background(), map[string]string{"node_id": "n1", "cores": "4"}); err != nil {
				t.Fatal(err)
			}
			conn.expect(t, "presence", "realtime:nodes:presence")
			if err := ch.Untrack(context.Background()); err != nil {
				t.Fatal(err)
			}
			untrack := conn.expect(t, "presence", "realtime:nodes:presence")
			if string(untrack.Payload) != `{"type":"presence","event":"untrack"}` {
				t.Errorf("untrack frame %s", untrack.Payload)
			}
			<-diffs
			if d := <-diffs; len(d.Leaves["n1"].Metas) != 1 {
				t.Errorf("leave diff = %+v", d)
			}
			if err := ch.Track(context.Background(), []int{1}); err == nil {
				t.Error("Track with a non-object payload accepted")
			}
		})
	}
}

// TestRealtimeHeartbeatMissedReconnects: the first socket leaves
// heartbeats unanswered; the client drops it, reconnects after the backoff,
// rejoins with its tracked presence and says so.
func TestRealtimeHeartbeatMissedReconnects(t *testing.T) {
	for _, ser := range serializers {
		t.Run(string(ser), func(t *testing.T) {
			srv := newPhoenixServer(t)
			srv.ignoreHeartbeats = func(no int) bool { return no == 1 }
			c := startClient(t, srv, ser, func(o *RealtimeOptions) { o.HeartbeatInterval = 20 * time.Millisecond })
			ch, err := c.Subscribe("chunks:n1", ChannelConfig{
				Presence: PresenceConfig{Key: "n1", Enabled: true},
				Changes:  []ChangeBinding{{Table: "jobs_chunks", Filter: "node_id=eq.n1", OnChange: func(Change) {}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := ch.Track(context.Background(), map[string]string{"node_id": "n1"}); err != nil {
				t.Fatal(err)
			}
			first := srv.nextConn(t)
			hb := first.expect(t, "heartbeat", "phoenix")
			if hb.Ref == "" || hb.JoinRef != "" || string(hb.Payload) != "{}" {
				t.Errorf("heartbeat frame %s", hb.raw)
			}
			if st := c.status.wait(t, StatusConnected, ""); st.Session != 1 {
				t.Errorf("first connected status %+v", st)
			}
			down := c.status.wait(t, StatusDisconnected, "")
			if !errors.Is(down.Err, ErrHeartbeatTimeout) || down.RetryIn != 10*time.Millisecond || down.Session != 1 {
				t.Errorf("disconnected status %+v", down)
			}
			select {
			case <-first.closed:
			case <-time.After(5 * time.Second):
				t.Fatal("first socket not closed by the client")
			}

			second := srv.nextConn(t)
			if st := c.status.wait(t, StatusConnected, ""); st.Session != 2 {
				t.Errorf("second connected status %+v", st)
			}
			second.expect(t, "phx_join", "realtime:chunks:n1")
			second.expect(t, "presence", "realtime:chunks:n1")
			if st := c.status.wait(t, StatusSubscribed, "realtime:chunks:n1"); st.Session != 2 {
				t.Errorf("resubscribed status %+v", st)
			}
			// The second socket answers heartbeats, so it stays up.
			for range 3 {
				second.expect(t, "heartbeat", "phoenix")
			}
			select {
			case st := <-c.status.ch:
				if st.Kind == StatusDisconnected {
					t.Errorf("healthy socket dropped: %+v", st)
				}
			default:
			}
		})
	}
}

// TestRealtimeSlowCallbackKeepsHeartbeats: a callback that blocks does not
// stop heartbeats or replies; the socket stays up.
func TestRealtimeSlowCallbackKeepsHeartbeats(t *testing.T) {
	srv := newPhoenixServer(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	c := startClient(t, srv, SerializerV2, func(o *RealtimeOptions) { o.HeartbeatInterval = 10 * time.Millisecond })
	_, err := c.Subscribe("chunks:n1", ChannelConfig{Changes: []ChangeBinding{{Table: "jobs_chunks", OnChange: func(Change) {
		entered <- struct{}{}
		<-release
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	conn := srv.nextConn(t)
	conn.expect(t, "phx_join", "")
	c.status.wait(t, StatusSubscribed, "")
	sc, _ := conn.channel("realtime:chunks:n1")
	conn.sendChange("realtime:chunks:n1", sc.ids, Change{Type: ChangeInsert})
	conn.sendChange("realtime:chunks:n1", sc.ids, Change{Type: ChangeInsert})
	<-entered
	for range 10 {
		conn.expect(t, "heartbeat", "phoenix")
	}
	close(release)
	<-entered
	select {
	case st := <-c.status.ch:
		t.Errorf("unexpected status while callback blocked: %+v", st)
	default:
	}
}

// TestRealtimeAccessToken: a new token goes to every joined channel at
// once and into the next join.
func TestRealtimeAccessToken(t *testing.T) {
	for _, ser := range serializers {
		t.Run(string(ser), func(t *testing.T) {
			srv := newPhoenixServer(t)
			c := startClient(t, srv, ser, nil)
			for _, name := range []string{"a", "b"} {
				if _, err := c.Subscribe(name, ChannelConfig{}); err != nil {
					t.Fatal(err)
				}
			}
			conn := srv.nextConn(t)
			joins := map[string]receivedFrame{}
			for range 2 {
				j := conn.expect(t, "phx_join", "")
				joins[j.Topic] = j
				var jp JoinPayload
				if err := json.Unmarshal(j.Payload, &jp); err != nil || jp.AccessToken != testAnonKey {
					t.Errorf("first join token %q (%v), want the anon key", jp.AccessToken, err)
				}
			}
			c.status.wait(t, StatusSubscribed, "")
			c.status.wait(t, StatusSubscribed, "")

			if err := c.SetAccessToken(context.Background(), "fresh"); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for range 2 {
				f := conn.expect(t, "access_token", "")
				if string(f.Payload) != `{"access_token":"fresh"}` || f.JoinRef != joins[f.Topic].JoinRef {
					t.Errorf("access_token frame %s join_ref %q", f.Payload, f.JoinRef)
				}
				got[f.Topic] = true
			}
			if !got["realtime:a"] || !got["realtime:b"] {
				t.Errorf("token sent to %v", got)
			}

			conn.drop()
			next := srv.nextConn(t)
			for range 2 {
				j := next.expect(t, "phx_join", "")
				var jp JoinPayload
				if err := json.Unmarshal(j.Payload, &jp); err != nil || jp.AccessToken != "fresh" {
					t.Errorf("rejoin token %q (%v), want fresh", jp.AccessToken, err)
				}
			}
		})
	}
}

// TestRealtimeLeave: Leave sends phx_leave with the join ref, waits for the
// reply, and the channel gets nothing more and is not rejoined.
func TestRealtimeLeave(t *testing.T) {
	for _, ser := range serializers {
		t.Run(string(ser), func(t *testing.T) {
			srv := newPhoenixServer(t)
			c := startClient(t, srv, ser, nil)
			changes := make(chan Change, 10)
			ch, err := c.Subscribe("chunks:n1", ChannelConfig{Changes: []ChangeBinding{{Table: "jobs_chunks", OnChange: func(ch Change) { changes <- ch }}}})
			if err != nil {
				t.Fatal(err)
			}
			conn := srv.nextConn(t)
			join := conn.expect(t, "phx_join", "")
			c.status.wait(t, StatusSubscribed, "")
			sc, _ := conn.channel("realtime:chunks:n1")

			if err := ch.Leave(context.Background()); err != nil {
				t.Fatal(err)
			}
			leave := conn.expect(t, "phx_leave", "realtime:chunks:n1")
			if leave.JoinRef != join.JoinRef {
				t.Errorf("leave join_ref %q, want %q", leave.JoinRef, join.JoinRef)
			}
			if ch.Joined() {
				t.Error("Joined() after Leave")
			}
			if err := ch.Track(context.Background(), map[string]string{}); !errors.Is(err, ErrClosed) {
				t.Errorf("Track after Leave: %v", err)
			}
			if err := ch.Leave(context.Background()); err != nil {
				t.Errorf("second Leave: %v", err)
			}
			conn.sendChange("realtime:chunks:n1", sc.ids, Change{Type: ChangeInsert})

			// A new channel of the same name works, and only it gets changes.
			again, err := c.Subscribe("chunks:n1", ChannelConfig{Changes: []ChangeBinding{{Table: "jobs_chunks", OnChange: func(ch Change) { changes <- ch }}}})
			if err != nil {
				t.Fatal(err)
			}
			conn.expect(t, "phx_join", "realtime:chunks:n1")
			c.status.wait(t, StatusSubscribed, "realtime:chunks:n1")
			sc2, _ := conn.channel("realtime:chunks:n1")
			conn.sendChange("realtime:chunks:n1", sc2.ids, Change{Type: ChangeDelete})
			if got := <-changes; got.Type != ChangeDelete {
				t.Errorf("left channel got a change: %+v", got)
			}

			// After a reconnect only the live channel is joined again.
			if err := again.Leave(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Subscribe("other", ChannelConfig{}); err != nil {
				t.Fatal(err)
			}
			conn.expect(t, "phx_join", "realtime:other")
			conn.drop()
			next := srv.nextConn(t)
			if j := next.expect(t, "phx_join", ""); j.Topic != "realtime:other" {
				t.Errorf("rejoined %s after leaving it", j.Topic)
			}
		})
	}
}

// TestRealtimeJoinRefusedAndChannelErrors: a refused join is reported and
// retried; phx_error and phx_close from the server make the client rejoin.
func TestRealtimeJoinRefusedAndChannelErrors(t *testing.T) {
	for _, ser := range serializers {
		t.Run(string(ser), func(t *testing.T) {
			srv := newPhoenixServer(t)
			var mu sync.Mutex
			refusals := 1
			srv.refuseJoin = func(int, string) string {
				mu.Lock()
				defer mu.Unlock()
				if refusals > 0 {
					refusals--
					return "Unauthorized: you do not have permissions to read from this Channel topic"
				}
				return ""
			}
			c := startClient(t, srv, ser, nil)
			if _, err := c.Subscribe("chunks:n2", ChannelConfig{}); err != nil {
				t.Fatal(err)
			}
			conn := srv.nextConn(t)
			st := c.status.wait(t, StatusChannelError, "realtime:chunks:n2")
			var ce *ChannelError
			if !errors.As(st.Err, &ce) || !strings.Contains(ce.Reason, "Unauthorized") || st.RetryIn != 10*time.Millisecond {
				t.Errorf("channel error status %+v", st)
			}
			c.status.wait(t, StatusSubscribed, "realtime:chunks:n2")

			for _, event := range []string{"phx_error", "phx_close"} {
				sc, _ := conn.channel("realtime:chunks:n2")
				conn.send(Message{JoinRef: sc.joinRef, Topic: "realtime:chunks:n2", Event: event, Payload: json.RawMessage(`{}`)})
				st := c.status.wait(t, StatusChannelError, "realtime:chunks:n2")
				if !errors.As(st.Err, &ce) || ce.Event != event {
					t.Errorf("%s: status %+v", event, st)
				}
				c.status.wait(t, StatusSubscribed, "realtime:chunks:n2")
			}
		})
	}
}

// TestRealtimeReconnectBackoff drives the reconnect backoff on a fake
// clock: 1 s doubling to 60 s plus jitter while connecting fails, and back
// to 1 s after a socket stayed up 10 s.
func TestRealtimeReconnectBackoff(t *testing.T) {
	srv := newPhoenixServer(t)
	srv.rejectUpgrade.Store(true)
	clock := newFakeClock()
	log := newStatusLog()
	r, err := NewRealtime(RealtimeOptions{
		APIURL: srv.URL(), APIKey: testAnonKey, Clock: clock, OnStatus: log.record,
		Backoff: Backoff{Rand: func() float64 { return 0.25 }},
	})
	if err != nil {
		t.Fatal(err)
	}
	runClient(t, r, log)
	jit := 250 * time.Millisecond
	for _, want := range []time.Duration{1, 2, 4, 8, 16, 32, 60, 60} {
		want = want*time.Second + jit
		st := log.wait(t, StatusDisconnected, "")
		if st.RetryIn != want || st.Session != 0 || !errors.Is(st.Err, ErrNetwork) {
			t.Fatalf("status %+v, want a failed dial retried in %v", st, want)
		}
		waitForWaiter(t, clock, "reconnect delay", func(d time.Duration) bool { return d == want })
		clock.Advance(want)
	}

	// Now let connections through; each one is dropped by the server.
	st := log.wait(t, StatusDisconnected, "")
	srv.rejectUpgrade.Store(false)
	waitForWaiter(t, clock, "reconnect delay", func(d time.Duration) bool { return d == st.RetryIn })
	clock.Advance(st.RetryIn)
	conn := srv.nextConn(t)
	log.wait(t, StatusConnected, "")
	conn.drop() // short-lived: the backoff keeps growing
	if st := log.wait(t, StatusDisconnected, ""); st.RetryIn != 60*time.Second+jit || st.Session == 0 {
		t.Fatalf("after a short session: %+v", st)
	}
	waitForWaiter(t, clock, "reconnect delay", func(d time.Duration) bool { return d == 60*time.Second+jit })
	clock.Advance(60*time.Second + jit)
	conn = srv.nextConn(t)
	log.wait(t, StatusConnected, "")
	clock.Advance(10 * time.Second) // healthy for 10 s (heartbeats are due at 25 s)
	conn.drop()
	if st := log.wait(t, StatusDisconnected, ""); st.RetryIn != time.Second+jit {
		t.Fatalf("after a healthy session: %+v, want the backoff reset", st)
	}
}

// TestRealtimeRunStopsCleanly: cancelling Run ends every goroutine, fails
// a waiting push, and Run can be started again.
func TestRealtimeRunStopsCleanly(t *testing.T) {
	srv := newPhoenixServer(t)
	srv.ignoreHeartbeats = func(int) bool { return false }
	c := startClient(t, srv, SerializerV1, nil)
	c.status.wait(t, StatusConnected, "")
	if err := c.Run(context.Background()); err == nil {
		t.Error("second concurrent Run accepted")
	}
	ch, err := c.Subscribe("nodes:presence", ChannelConfig{Presence: PresenceConfig{Key: "n1", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	conn := srv.nextConn(t)
	conn.expect(t, "phx_join", "")
	c.status.wait(t, StatusSubscribed, "")
	if !c.Connected() {
		t.Error("Connected() = false")
	}
	c.stop(t)
	if c.Connected() || ch.Joined() {
		t.Error("still connected after Run returned")
	}
	st := c.status.wait(t, StatusDisconnected, "")
	if !errors.Is(st.Err, context.Canceled) || st.RetryIn != 0 {
		t.Errorf("final status %+v", st)
	}
	// Track while down is kept for the next join, not an error.
	if err := ch.Track(context.Background(), map[string]string{"node_id": "n1"}); err != nil {
		t.Errorf("Track while down: %v", err)
	}
	again := runClient(t, c.Realtime, c.status)
	conn = srv.nextConn(t)
	conn.expect(t, "phx_join", "")
	conn.expect(t, "presence", "")
	again.stop(t)
}

// TestRealtimeIgnoresBadFrames: hostile or malformed frames are dropped;
// the socket stays up and later valid frames are still routed.
func TestRealtimeIgnoresBadFrames(t *testing.T) {
	for _, ser := range serializers {
		t.Run(string(ser), func(t *testing.T) {
			srv := newPhoenixServer(t)
			c := startClient(t, srv, ser, nil)
			changes := make(chan Change, 10)
			if _, err := c.Subscribe("chunks:n1", ChannelConfig{Changes: []ChangeBinding{{Table: "jobs_chunks", OnChange: func(ch Change) { changes <- ch }}}}); err != nil {
				t.Fatal(err)
			}
			conn := srv.nextConn(t)
			conn.expect(t, "phx_join", "")
			c.status.wait(t, StatusSubscribed, "")
			sc, _ := conn.channel("realtime:chunks:n1")
			ctx := context.Background()
			for _, raw := range []string{
				`not json`, `[]`, `{}`, `[1,2,3,4,5]`, `["1","2","realtime:chunks:n1","postgres_changes","str"]`,
				`{"topic":"realtime:chunks:n1","event":"postgres_changes","payload":{"ids":"x","data":1}}`,
				`["` + sc.joinRef + `",null,"realtime:chunks:n1","postgres_changes",{"ids":["x"],"data":[]}]`,
				`{"topic":"realtime:chunks:n1","event":"presence_state","payload":{"k":"not a presence"}}`,
				`{"topic":"phoenix","event":"phx_reply","payload":{"status":7},"ref":"1"}`,
				`["999",null,"realtime:chunks:n1","postgres_changes",{"ids":[` + strconv.FormatInt(sc.ids[0], 10) + `],"data":{"type":"STALE"}}]`,
				`{"topic":"realtime:unknown","event":"postgres_changes","payload":{"ids":[1],"data":{}}}`,
			} {
				if err := conn.ws.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
					t.Fatal(err)
				}
			}
			if err := conn.ws.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
				t.Fatal(err)
			}
			conn.sendChange("realtime:chunks:n1", sc.ids, Change{Type: ChangeInsert, Table: "jobs_chunks"})
			select {
			case got := <-changes:
				if got.Type != ChangeInsert {
					t.Errorf("got %+v, want the valid change only", got)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("valid change after bad frames not delivered")
			}
			if !c.Connected() {
				t.Error("socket dropped by bad frames")
			}
			select {
			case st := <-c.status.ch:
				t.Errorf("unexpected status %+v", st)
			default:
			}
		})
	}
}

// TestRealtimeLeaveDuringJoin: a channel left while its join is in flight
// is left on the server as soon as the join succeeds, and never reported
// subscribed.
func TestRealtimeLeaveDuringJoin(t *testing.T) {
	srv := newPhoenixServer(t)
	srv.joinGate = make(chan struct{})
	c := startClient(t, srv, SerializerV2, nil)
	ch, err := c.Subscribe("chunks:n1", ChannelConfig{})
	if err != nil {
		t.Fatal(err)
	}
	conn := srv.nextConn(t)
	join := conn.expect(t, "phx_join", "realtime:chunks:n1")
	if err := ch.Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(srv.joinGate)
	leave := conn.expect(t, "phx_leave", "realtime:chunks:n1")
	if leave.JoinRef != join.JoinRef {
		t.Errorf("leave join_ref %q, want %q", leave.JoinRef, join.JoinRef)
	}
	// A later channel joins normally; the left one was never subscribed.
	if _, err := c.Subscribe("other", ChannelConfig{}); err != nil {
		t.Fatal(err)
	}
	if st := c.status.wait(t, StatusSubscribed, ""); st.Topic != "realtime:other" {
		t.Errorf("subscribed %s after leaving it", st.Topic)
	}
}
