package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"wowlab/examples"
	"wowlab/internal/clock"
	"wowlab/protocol"
	"wowlab/sentinel"
)

// syncBuffer is a buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func TestLimits(t *testing.T) {
	e := newEnv(t, Limits{MaxFrameBytes: 1024, MaxChannelsPerSocket: 2, MaxBindingsPerChannel: 2, MaxSocketsPerToken: 2, MaxMessagesPerSecond: 20})
	u, tok := e.user("alice")
	n := e.newNode(u)

	t.Run("frame size", func(t *testing.T) {
		c := e.connect(vsn2)
		c.sendRaw(`[null,"1","phoenix","heartbeat",{"pad":"` + strings.Repeat("x", 2048) + `"}]`)
		if ce := c.closeErr(); ce.Code != websocket.StatusMessageTooBig {
			t.Fatalf("close %v", ce)
		}
	})
	t.Run("channels per socket", func(t *testing.T) {
		c := e.connect(vsn2)
		for i, topic := range []string{"realtime:a", "realtime:b"} {
			if r := c.join(topic, tok, nil, ""); r.status != "ok" {
				t.Fatalf("join %d: %+v", i, r)
			}
		}
		if r := c.join("realtime:c", tok, nil, ""); r.status != "error" || !strings.Contains(r.reason, "too many channels on this socket: at most 2") {
			t.Fatalf("third join: %+v", r)
		}
		// Rejoining a topic it holds is not a new channel.
		if r := c.join("realtime:a", tok, nil, ""); r.status != "ok" {
			t.Fatalf("rejoin: %+v", r)
		}
	})
	t.Run("bindings per channel", func(t *testing.T) {
		c := e.connect(vsn2)
		many := make([]map[string]string, 3)
		for i := range many {
			many[i] = changes("*", "jobs", "id=eq."+uuid.NewString())
		}
		if r := c.join("realtime:many", tok, many, ""); r.status != "error" || !strings.Contains(r.reason, "at most 2 per channel") {
			t.Fatalf("3 bindings: %+v", r)
		}
	})
	t.Run("sockets per token", func(t *testing.T) {
		var socks []*client
		for i := range 2 {
			c := e.connect(vsn1)
			if r := c.join("realtime:node:"+n.id, n.token, nil, ""); r.status != "ok" {
				t.Fatalf("socket %d: %+v", i, r)
			}
			socks = append(socks, c)
		}
		c := e.connect(vsn1)
		if r := c.join("realtime:node:"+n.id, n.token, nil, ""); r.status != "error" || !strings.Contains(r.reason, "too many sockets for this token: at most 2") {
			t.Fatalf("third socket: %+v", r)
		}
		// Another identity is not affected.
		if r := c.join("realtime:mine", tok, nil, ""); r.status != "ok" {
			t.Fatalf("user on the third socket: %+v", r)
		}
	})
	t.Run("messages per second", func(t *testing.T) {
		c := e.connect(vsn2)
		for range 60 {
			if err := c.conn.Write(context.Background(), websocket.MessageText, []byte(`[null,"1","phoenix","heartbeat",{}]`)); err != nil {
				break // closed under us: that is the point
			}
		}
		if ce := c.closeErr(); ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "rate limit") {
			t.Fatalf("close %v", ce)
		}
	})
	t.Run("apikey and serializer at upgrade", func(t *testing.T) {
		if _, err := e.dial(e.a, vsn2, ""); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("no apikey: %v", err)
		}
		if _, err := e.dial(e.a, vsn2, n.token); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("node token as apikey: %v", err)
		}
		if _, err := e.dial(e.a, "3.0.0", e.anon); err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("bad vsn: %v", err)
		}
	})
}

// A client that does not read is disconnected once the bytes waiting for
// it pass the limit, or its oldest frame has waited too long; memory never
// grows past the queue, and the drop is logged.
func TestSlowConsumer(t *testing.T) {
	e := newEnv(t, Limits{})
	clk := clock.NewFake(time.Unix(1_800_000_000, 0))
	var logs syncBuffer
	g, err := New(Config{Service: e.a.svc, Store: e.a.db, Clock: clk, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Limits: Limits{SendQueueBytes: 4 << 10, SendQueueDelay: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	made := make(chan *socket, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		// A socket whose writer never runs: frames only pile up.
		s := &socket{g: g, conn: conn, codec: codec{vsn2}, out: newSendQueue(g.limits.SendQueueBytes, g.limits.SendQueueDelay), done: make(chan struct{})}
		made <- s
		<-s.done
	}))
	defer srv.Close()
	dial := func() (*websocket.Conn, *socket) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http://", "ws://", 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		return conn, <-made
	}
	conn, s := dial()
	kib := []byte(strings.Repeat("x", 1<<10))
	for range 4 {
		s.enqueue(kib)
	}
	select {
	case <-s.done:
		t.Fatal("closed before the queue was full")
	default:
	}
	s.enqueue([]byte(`x`))
	<-s.done
	if r, _ := s.reason.Load().(string); !strings.Contains(r, "slow consumer: more than 4096 bytes waiting") {
		t.Fatalf("reason %q", r)
	}
	s.enqueue(kib) // after close: dropped, no growth
	if frames, bytes := s.out.waiting(); frames != 4 || bytes != 4<<10 {
		t.Fatalf("queue holds %d frames, %d bytes", frames, bytes)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("client saw %v", err)
	}
	if !strings.Contains(logs.String(), "realtime socket dropped") || !strings.Contains(logs.String(), "bytes_waiting=4096") {
		t.Fatalf("drop not logged: %s", logs.String())
	}

	// A frame left waiting longer than the delay: small, but too old.
	_, s = dial()
	s.enqueue([]byte(`x`))
	clk.Advance(time.Minute + time.Second)
	s.enqueue([]byte(`y`))
	<-s.done
	if r, _ := s.reason.Load().(string); !strings.Contains(r, "slow consumer: a frame waited 1m1s") {
		t.Fatalf("reason %q", r)
	}
}

// A client that reads as fast as it can is never cut off by a burst: one
// socket with one jobs_chunks binding was closed as a slow consumer every
// time its user created a 1 000-chunk job. All 1 000 inserts of one
// statement arrive.
func TestBurstReachesReadingClient(t *testing.T) {
	e := newEnv(t, Limits{})
	u, tok := e.user("alice")
	c := e.connect(vsn2)
	if r := c.join("realtime:mine", tok, []map[string]string{changes("INSERT", "jobs_chunks", "")}, ""); r.status != "ok" {
		t.Fatalf("join: %+v", r)
	}
	const chunks = 1000
	st, body := e.rest("POST", "/rest/v1/rpc/create_job", e.anon, tok, map[string]any{"p_config": json.RawMessage(examples.Quick(1)), "p_iterations": chunks * protocol.ChunkSize})
	if st != 200 {
		t.Fatalf("create_job: %d %s", st, body)
	}
	var job sentinel.JobCreated
	if err := json.Unmarshal(body, &job); err != nil {
		t.Fatalf("job %s %v", body, err)
	}
	e.exec(`INSERT INTO jobs_chunks (job_id, config_hash, iterations, seed_offset, status)
		SELECT j.id, j.config_hash, $2, (k - 1) * $2, 'pending' FROM jobs j, generate_series(1, $3) AS k WHERE j.id = $1`,
		job.JobID, protocol.ChunkSize, chunks)
	seen := map[any]bool{}
	for len(seen) < chunks {
		ch := c.expectChange("realtime:mine")
		if ch.Data.Type != "INSERT" || ch.Data.Record["job_id"] != job.JobID {
			t.Fatalf("change %+v", ch.Data)
		}
		seen[ch.Data.Record["seed_offset"]] = true
	}
	// Still open: a heartbeat is answered.
	ref := c.send("", topicPhoenix, evHeartbeat, struct{}{})
	if st, _ := c.reply(topicPhoenix, ref); st != "ok" {
		t.Fatalf("heartbeat after the burst: %s", st)
	}
	_ = u
}
