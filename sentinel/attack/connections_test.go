package attack

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wowlab/sentinel/gateway"
	"wowlab/sentinel/server"
)

// A connection flood: over the cap a connection is answered 503 with
// Retry-After at once instead of waiting (or, at a low file limit, making
// accept fail), /status still answers on the reserved slots, and the
// sentinel serves again as soon as the flood ends.
func TestConnectionFlood(t *testing.T) {
	const max, reserve = 10, 2
	tg := start(t, options{http: server.Limits{MaxConnections: max, StatusReserve: reserve, ReadHeaderTimeout: time.Minute}})
	// The flood: connections that never send a request hold every slot.
	flood := make([]func() string, max)
	for i := range flood {
		c := tg.dialTCP()
		flood[i] = func() string { _ = c.Close(); return "" }
	}
	busy := func() (*http.Response, string) {
		_, read := rawRequest(t, tg, "GET", "/rest/v1/jobs", map[string]string{"apikey": tg.anon}, "")
		return read()
	}
	// The kernel hands connections over in order, so the next one is over
	// the cap as soon as the sentinel has taken the flood.
	resp, body := busy()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" || !strings.Contains(body, `"error":"Too many connections`) || !strings.Contains(body, `"code":"53300"`) {
		t.Fatalf("over the cap: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// /status answers on the reserve, for as many as it holds at once.
	var statuses []func() (*http.Response, string)
	for range reserve {
		_, read := rawRequest(t, tg, "GET", "/status", nil, "")
		statuses = append(statuses, read)
	}
	for i, read := range statuses {
		if resp, body := read(); resp.StatusCode != 200 || !strings.Contains(body, `"database":"ok"`) {
			t.Fatalf("/status %d under the flood: %d %s", i, resp.StatusCode, body)
		}
	}
	// Hundreds more are all answered, none left hanging.
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for range 200 {
		wg.Go(func() {
			c := tg.dialTCP()
			fmt.Fprintf(c, "GET /rest/v1/jobs HTTP/1.1\r\nHost: x\r\n\r\n")
			if got := closedByServer(t, c); got != "" && !strings.HasPrefix(got, "HTTP/1.1 503") {
				errs <- got
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("a flood connection got %q", e)
	}
	for _, end := range flood {
		end()
	}
	waitFor(t, "the sentinel to serve again", func() bool {
		resp, _ := busy()
		return resp.StatusCode != 503
	})
}

// Realtime sockets live for hours: the server's read, write and idle
// timeouts bound requests, not them.
func TestRealtimeOutlivesRequestTimeouts(t *testing.T) {
	tg := start(t, options{http: server.Limits{ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}})
	_, tok := tg.user("alice")
	c := tg.realtime()
	if st, resp := c.join("realtime:mine", tok, nil, ""); st != "ok" {
		t.Fatalf("join: %s %s", st, resp)
	}
	// Heartbeats for four times the longest request timeout, each answered.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	until := time.Now().Add(1200 * time.Millisecond)
	for n := 0; time.Now().Before(until); n++ {
		<-tick.C
		if st, _, _ := c.reply(c.send("phoenix", "heartbeat", map[string]any{})); st != "ok" {
			t.Fatalf("heartbeat %d: %s", n, st)
		}
	}
}

// Frame floods: a socket sending faster than its rate, an oversized frame,
// a binary frame and garbage each close only that socket.
func TestFrameFloods(t *testing.T) {
	tg := start(t, options{realtime: gateway.Limits{MaxFrameBytes: 4 << 10, MaxMessagesPerSecond: 20}})
	_, tok := tg.user("alice")
	bystander := tg.realtime()
	if st, _ := bystander.join("realtime:x", tok, nil, ""); st != "ok" {
		t.Fatal(st)
	}
	cases := []struct {
		name string
		send func(c *rt)
		code websocket.StatusCode
		why  string
	}{
		{"flood", func(c *rt) {
			for range 200 {
				if err := c.conn.Write(t.Context(), websocket.MessageText, []byte(`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}`)); err != nil {
					return // closed under us: that is the point
				}
			}
		}, websocket.StatusPolicyViolation, "rate limit"},
		{"oversized frame", func(c *rt) {
			_ = c.conn.Write(t.Context(), websocket.MessageText, []byte(`{"topic":"phoenix","event":"heartbeat","payload":{"pad":"`+strings.Repeat("x", 8<<10)+`"}}`))
		}, websocket.StatusMessageTooBig, ""},
		{"binary frame", func(c *rt) { _ = c.conn.Write(t.Context(), websocket.MessageBinary, []byte{1, 2, 3}) }, websocket.StatusUnsupportedData, "binary"},
		{"garbage", func(c *rt) { _ = c.conn.Write(t.Context(), websocket.MessageText, []byte(`not json`)) }, websocket.StatusInvalidFramePayloadData, "invalid frame"},
	}
	for _, tc := range cases {
		c := tg.realtime()
		tc.send(c)
		if ce := c.closeStatus(); ce.Code != tc.code || !strings.Contains(ce.Reason, tc.why) {
			t.Errorf("%s: closed with %v, want %v %q", tc.name, ce, tc.code, tc.why)
		}
	}
	if st, _, _ := bystander.reply(bystander.send("phoenix", "heartbeat", map[string]any{})); st != "ok" {
		t.Fatalf("the bystander's socket suffered: %s", st)
	}
}
