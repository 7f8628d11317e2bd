package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestLimits(t *testing.T) {
	e := newEnv(t, Limits{MaxFrameBytes: 1024, MaxChannelsPerSocket: 2, MaxSocketsPerToken: 2, MaxMessagesPerSecond: 20})
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

// A client that does not read is disconnected once its send queue is
// full; memory never grows past the queue.
func TestSlowConsumer(t *testing.T) {
	e := newEnv(t, Limits{SendQueue: 4})
	g := e.a.gw
	made := make(chan *socket, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		// A socket whose writer never runs: frames only pile up.
		s := &socket{g: g, conn: conn, codec: codec{vsn2}, send: make(chan []byte, g.limits.SendQueue), done: make(chan struct{})}
		made <- s
		<-s.done
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http://", "ws://", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	s := <-made
	for range g.limits.SendQueue {
		s.enqueue([]byte(`x`))
	}
	select {
	case <-s.done:
		t.Fatal("closed before the queue was full")
	default:
	}
	s.enqueue([]byte(`x`))
	<-s.done
	if r, _ := s.reason.Load().(string); !strings.Contains(r, "slow consumer") {
		t.Fatalf("reason %q", r)
	}
	s.enqueue([]byte(`x`)) // after close: dropped, no growth
	if len(s.send) != g.limits.SendQueue {
		t.Fatalf("queue holds %d frames", len(s.send))
	}
	_, _, err = conn.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("client saw %v", err)
	}
}
