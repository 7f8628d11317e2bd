package attack

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"wowlab/protocol"
	"wowlab/sentinel/server"
)

// rawRequest writes a request's head (and part of a body) to a raw
// connection and returns the request for reading its answer.
func rawRequest(t *testing.T, tg *target, method, path string, header map[string]string, body string) (*http.Request, func() (*http.Response, string)) {
	t.Helper()
	c := tg.dialTCP()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, tg.addr)
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, tg.url+path, nil)
	return req, func() (*http.Response, string) { return answer(t, c, req) }
}

// Bodies over a route's limit are refused from their declared length,
// before a byte of them is read; a body that only turns out too long is
// refused when it passes the limit; a GET's body is never read.
func TestOversizedBodies(t *testing.T) {
	tg := start(t, options{})
	_, tok := tg.user("alice")
	const huge = 10 << 20
	_, node := rawRequest(t, tg, "POST", protocol.PathHeartbeat, map[string]string{
		"Content-Type": "application/json", "Content-Length": strconv.Itoa(huge),
		protocol.HeaderKey: "x", protocol.HeaderTimestamp: "1", protocol.HeaderSignature: "x"}, "")
	if resp, body := node(); resp.StatusCode != 401 || body != `{"error":"Request body too large"}`+"\n" {
		t.Fatalf("node API, 10 MiB declared: %d %q", resp.StatusCode, body)
	}
	_, rpc := rawRequest(t, tg, "POST", "/rest/v1/rpc/create_job", map[string]string{
		"Content-Type": "application/json", "Content-Length": strconv.Itoa(huge), "apikey": tg.anon, "Authorization": "Bearer " + tok}, "")
	if resp, body := rpc(); resp.StatusCode != 413 || !strings.Contains(body, "PGRST413") {
		t.Fatalf("rpc, 10 MiB declared: %d %s", resp.StatusCode, body)
	}
	_, get := rawRequest(t, tg, "GET", "/status", map[string]string{"Content-Length": strconv.Itoa(huge)}, "")
	if resp, _ := get(); resp.StatusCode != 200 {
		t.Fatalf("GET with a 10 MiB body: %d", resp.StatusCode)
	}
	// A chunked body has no declared length: cut at the limit.
	req, _ := http.NewRequest("POST", tg.url+protocol.PathHeartbeat, io.MultiReader(strings.NewReader(`{"status":"`), bytes.NewReader(bytes.Repeat([]byte("x"), 2<<20))))
	req.Header.Set(protocol.HeaderKey, "x")
	if st, body, _ := tg.do(req, nil); st != 401 || body != `{"error":"Request body too large"}` {
		t.Fatalf("chunked 2 MiB: %d %s", st, body)
	}
}

var bodyGauge = regexp.MustCompile(`(?m)^sentinel_request_body_bytes (\S+)$`)

// bodyBytes reads the bytes of bodies the target holds, from /metrics.
func (tg *target) bodyBytes() float64 {
	tg.t.Helper()
	_, metrics, _ := tg.rest("GET", "/metrics", "", nil, nil)
	m := bodyGauge.FindStringSubmatch(metrics)
	if m == nil {
		tg.t.Fatalf("no sentinel_request_body_bytes in /metrics")
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// waitFor polls cond until it holds, failing after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, patience)
		}
		<-tick.C
	}
}

// Slow bodies: 1 000 connections trickling bodies stayed open 150 s and
// 300 sending 1 MiB slowly took the process from 77 to 548 MB. Now the read
// timeout ends them, and the bytes of bodies held at once have a budget:
// over it a request is answered 503 with Retry-After at once.
func TestSlowBodies(t *testing.T) {
	t.Run("read timeout", func(t *testing.T) {
		tg := start(t, options{http: server.Limits{ReadTimeout: time.Second}})
		var waits []func() string
		for range 20 {
			c := tg.dialTCP()
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"status\":", protocol.PathHeartbeat)
			waits = append(waits, func() string { return closedByServer(t, c) })
		}
		for i, wait := range waits {
			if got := wait(); got != "" && !strings.HasPrefix(got, "HTTP/1.1 400") {
				t.Fatalf("slow body %d ended with %q", i, got)
			}
		}
	})
	t.Run("memory budget", func(t *testing.T) {
		tg := start(t, options{maxBodyMemory: protocol.MaxBodyBytes})
		// One upload holds 600 KiB of its declared MiB and stops sending.
		slow := tg.dialTCP()
		fmt.Fprintf(slow, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", protocol.PathHeartbeat, protocol.MaxBodyBytes)
		if _, err := slow.Write(bytes.Repeat([]byte("x"), 600<<10)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the slow upload to be read", func() bool { return tg.bodyBytes() >= 600<<10 })
		// Another 600 KiB does not fit beside it.
		n := &node{key: newKey(t)}
		big := bytes.Repeat([]byte(" "), 600<<10)
		st, body, h := tg.call(n, protocol.PathHeartbeat, big, nil)
		if st != 503 || h.Get("Retry-After") != "1" || !strings.Contains(body, "too many request bodies") {
			t.Fatalf("second upload: %d %s (Retry-After %q)", st, body, h.Get("Retry-After"))
		}
		// Once the slow one is gone the budget is free again.
		_ = slow.Close()
		waitFor(t, "the budget to be given back", func() bool { return tg.bodyBytes() == 0 })
		if st, body, _ := tg.call(n, protocol.PathHeartbeat, big, nil); st != 400 || !strings.Contains(body, "Invalid JSON body") {
			t.Fatalf("upload after: %d %s", st, body)
		}
	})
}

// A kept-alive connection idle past the idle timeout, and one that never
// sends its headers, are closed.
func TestIdleConnections(t *testing.T) {
	tg := start(t, options{http: server.Limits{IdleTimeout: time.Second, ReadHeaderTimeout: time.Second}})
	idle := tg.dialTCP()
	fmt.Fprintf(idle, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
	req, _ := http.NewRequest("GET", tg.url+"/status", nil)
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := closedByServer(t, idle); got != "" {
		t.Fatalf("idle connection got %q", got)
	}
	silent := tg.dialTCP()
	if got := closedByServer(t, silent); got != "" && !strings.HasPrefix(got, "HTTP/1.1 408") {
		t.Fatalf("silent connection got %q", got)
	}
}
