package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"wowlab/internal/logging"
	"wowlab/node"
	"wowlab/node/policy"
	"wowlab/protocol"
)

// request sends a request to the API with the given headers (key: the
// API key; "" sends none).
func (a *api) request(method, path, key string, body string, hdr map[string]string) (*http.Response, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.srv.URL()+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set(keyHeader, key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := (&http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}).Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// endpoints are every route that needs authentication.
var endpoints = []struct{ method, path, body string }{
	{"GET", "/api/v1/status", ""},
	{"POST", "/api/v1/pause", `{"now":true}`},
	{"POST", "/api/v1/resume", ""},
	{"POST", "/api/v1/finish", ""},
	{"POST", "/api/v1/unlink", ""},
	{"POST", "/api/v1/retry", ""},
	{"GET", "/api/v1/settings", ""},
	{"PATCH", "/api/v1/settings", `{"cores":2}`},
	{"GET", "/api/v1/logs", ""},
	{"GET", "/api/v1/logs/stream", ""},
	{"GET", "/api/v1/events", ""},
	{"GET", "/api/v1/session", ""},
	{"DELETE", "/api/v1/session", ""},
	{"POST", "/api/v1/session/link", ""},
	{"POST", "/api/v1/update/check", ""},
	{"PUT", "/api/v1/update/automatic", `{"automatic":false}`},
	{"GET", "/metrics", ""},
}

func TestStatus(t *testing.T) {
	a := startAPI(t, nil)
	s, err := a.client().Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.State != "running" || s.NodeID != "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001" || s.Name != "desk" || s.Version != "1.2.3" ||
		s.Platform != "linux-x86_64" || s.Connection != "connected" || s.Stats.CompletedChunks != 17 || s.Reason != "" {
		t.Fatalf("%+v", s)
	}
	if len(s.Chunks) != 2 || s.Chunks[0].Progress != 0.25 || !s.Chunks[0].Running || s.Chunks[1].Running || !s.Chunks[1].Started.IsZero() {
		t.Fatalf("chunks %+v", s.Chunks)
	}
	if s.Policy.Cores != 4 || s.Policy.Rule != policy.RuleCores || len(s.Policy.Effects) != 8 {
		t.Fatalf("policy %+v", s.Policy)
	}
	_, raw := a.request("GET", "/api/v1/status", a.srv.Key(), "", nil)
	for _, field := range []string{`"state":"running"`, `"claimCode"`, `"chunks":[`, `"policy":{"cores":4,"rule":"cores","rules":[`} {
		if field == `"claimCode"` {
			if bytes.Contains(raw, []byte(field)) {
				t.Errorf("a claimed node shows a claim code: %s", raw)
			}
			continue
		}
		if !bytes.Contains(raw, []byte(field)) {
			t.Errorf("status lacks %s: %s", field, raw)
		}
	}
	a.node.mu.Lock()
	a.node.state = node.State{Phase: node.Claiming, NodeID: "x", ClaimCode: "ABCDEF"}
	a.node.mu.Unlock()
	if s, _ := a.client().Status(t.Context()); s.State != "claiming" || s.ClaimCode != "ABCDEF" {
		t.Fatalf("claiming: %+v", s)
	}
}

func TestNoKeyOrWrongKeyIs401(t *testing.T) {
	a := startAPI(t, nil)
	wrong := strings.Repeat("0", 64)
	for _, e := range endpoints {
		for name, hdr := range map[string]map[string]string{
			"no key":       nil,
			"wrong key":    {keyHeader: wrong},
			"wrong bearer": {"Authorization": "Bearer " + wrong},
			"a prefix":     {keyHeader: a.srv.Key()[:32]},
			"a cookie":     {"Cookie": a.srv.cookie + "=made-up"},
		} {
			resp, body := a.request(e.method, e.path, "", e.body, hdr)
			if resp.StatusCode != http.StatusUnauthorized || !json.Valid(body) {
				t.Errorf("%s %s with %s: %d %s", e.method, e.path, name, resp.StatusCode, body)
			}
		}
	}
	if calls := a.node.Calls(); len(calls) != 0 {
		t.Fatalf("unauthenticated requests reached the node: %v", calls)
	}
	resp, body := a.request("GET", "/api/v1/status", "", "", nil)
	if !strings.Contains(string(body), KeyFile) || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 does not say where the key is: %s", body)
	}
	if resp, _ := a.request("GET", "/metrics", "", "", map[string]string{"Authorization": "Bearer " + a.srv.Key()}); resp.StatusCode != 200 {
		t.Errorf("bearer key: %d", resp.StatusCode)
	}
}

func TestForeignHostOrOriginIs403(t *testing.T) {
	a := startAPI(t, nil)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(a.srv.URL(), "http://"))
	key := a.srv.Key()
	refused := map[string]map[string]string{
		"a rebinding host name":    {"Host": "evil.example:" + port},
		"a LAN address":            {"Host": "192.168.1.20:" + port},
		"a foreign origin":         {"Origin": "http://evil.example"},
		"another port on the host": {"Origin": "http://127.0.0.1:1"},
		"localhost vs 127.0.0.1":   {"Origin": "http://localhost:" + port},
		"https origin":             {"Origin": "https://127.0.0.1:" + port},
		"a null origin":            {"Origin": "null"},
		"cross-site fetch":         {"Sec-Fetch-Site": "cross-site"},
		"same-site fetch":          {"Sec-Fetch-Site": "same-site"},
		"rebound origin and host":  {"Host": "evil.example:" + port, "Origin": "http://evil.example:" + port},
	}
	for _, e := range endpoints {
		for name, hdr := range refused {
			resp, body := a.request(e.method, e.path, key, e.body, hdr)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s from %s: %d %s", e.method, e.path, name, resp.StatusCode, body)
			}
		}
	}
	for _, path := range []string{"/login?token=x", "/", "/api/v1/nope"} {
		if resp, _ := a.request("GET", path, "", "", refused["a rebinding host name"]); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s with a foreign host: %d", path, resp.StatusCode)
		}
	}
	if calls := a.node.Calls(); len(calls) != 0 {
		t.Fatalf("refused requests reached the node: %v", calls)
	}
	for name, hdr := range map[string]map[string]string{
		"same origin":       {"Origin": a.srv.URL(), "Sec-Fetch-Site": "same-origin"},
		"localhost":         {"Host": "localhost:" + port},
		"typed in the bar":  {"Sec-Fetch-Site": "none"},
		"[::1] by the name": {"Host": "[::1]:" + port},
	} {
		if resp, body := a.request("GET", "/api/v1/status", key, "", hdr); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
}

func TestKeyFile(t *testing.T) {
	a := startAPI(t, nil)
	path := filepath.Join(a.dir, KeyFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if b, err := hex.DecodeString(string(raw)); err != nil || len(b) != 32 || string(raw) != a.srv.Key() {
		t.Fatalf("key file holds %q", raw)
	}
	u, _ := os.ReadFile(filepath.Join(a.dir, URLFile))
	if strings.TrimSpace(string(u)) != a.srv.URL() {
		t.Fatalf("url file %q, server %s", u, a.srv.URL())
	}
	a.close()
	if _, err := os.Stat(filepath.Join(a.dir, URLFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("url file left after stop: %v", err)
	}

	// The key survives restarts; a loosened mode is narrowed; a corrupt
	// file is replaced.
	if runtime.GOOS != "windows" {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	key, err := loadKey(a.dir, nil, log)
	if err != nil || key != a.srv.Key() {
		t.Fatalf("reload: %q %v", key, err)
	}
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && (st.Mode().Perm() != 0o600 || !strings.Contains(logs.String(), "readable by others")) {
		t.Fatalf("mode %v, log %s", st.Mode().Perm(), logs.String())
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	key2, err := loadKey(a.dir, nil, log)
	if err != nil || !validKey(key2) || key2 == key {
		t.Fatalf("corrupt key: %q %v", key2, err)
	}
}

func TestNonLoopbackNeedsAllowRemote(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.7:0", "example.com:0"} {
		_, err := Listen(newFakeNode(t), Options{ConfigDir: t.TempDir(), Addr: addr})
		if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
			t.Errorf("Listen(%q) = %v", addr, err)
		}
	}
	for _, addr := range []string{"nonsense", "127.0.0.1"} {
		if _, err := Listen(newFakeNode(t), Options{ConfigDir: t.TempDir(), Addr: addr}); err == nil {
			t.Errorf("Listen(%q) accepted", addr)
		}
	}
	var logs bytes.Buffer
	a := startAPI(t, func(o *Options) {
		o.Addr, o.AllowRemote = "0.0.0.0:0", true
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if !strings.HasPrefix(a.srv.URL(), "http://127.0.0.1:") {
		t.Errorf("url %s", a.srv.URL())
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(a.srv.URL(), "http://"))
	if resp, _ := a.request("GET", "/api/v1/status", a.srv.Key(), "", map[string]string{"Host": "192.168.1.20:" + port}); resp.StatusCode != 200 {
		t.Errorf("an address on the network, allowed: %d", resp.StatusCode)
	}
	if resp, _ := a.request("GET", "/api/v1/status", a.srv.Key(), "", map[string]string{"Host": "evil.example:" + port}); resp.StatusCode != 403 {
		t.Errorf("a host name, even allowed remote: %d", resp.StatusCode)
	}
	if resp, _ := a.request("GET", "/api/v1/status", "", "", nil); resp.StatusCode != 401 {
		t.Errorf("remote still needs the key: %d", resp.StatusCode)
	}
	a.close() // the server logs no more: the log can be read
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "beyond this computer") {
		t.Errorf("no warning: %s", logs.String())
	}
}

func TestAlreadyRunning(t *testing.T) {
	a := startAPI(t, nil)
	_, err := Listen(newFakeNode(t), Options{ConfigDir: a.dir})
	var ar *AlreadyRunningError
	if !errors.As(err, &ar) || ar.URL != a.srv.URL() {
		t.Fatalf("second Listen: %v", err)
	}
	a.close()
	// A URL file left by a node that died does not stop the next one.
	if err := os.WriteFile(filepath.Join(a.dir, URLFile), []byte(a.srv.URL()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Listen(newFakeNode(t), Options{ConfigDir: a.dir})
	if err != nil {
		t.Fatal(err)
	}
	b.ln.Close()
}

// login logs a browser in with the key and returns its cookie and CSRF token.
func (a *api) login() (*http.Cookie, string) {
	a.t.Helper()
	resp, body := a.request("POST", "/api/v1/session", "", `{"key":"`+a.srv.Key()+`"}`, map[string]string{"Origin": a.srv.URL()})
	if resp.StatusCode != 200 {
		a.t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	var sr SessionResponse
	if err := json.Unmarshal(body, &sr); err != nil || len(sr.CSRFToken) != 64 {
		a.t.Fatalf("login answer %s", body)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" {
		a.t.Fatalf("cookie %+v", cookies)
	}
	return cookies[0], sr.CSRFToken
}

func TestBrowserSession(t *testing.T) {
	a := startAPI(t, nil)
	if resp, _ := a.request("POST", "/api/v1/session", "", `{"key":"`+strings.Repeat("a", 64)+`"}`, nil); resp.StatusCode != 401 {
		t.Fatalf("login with a wrong key: %d", resp.StatusCode)
	}
	if resp, _ := a.request("POST", "/api/v1/session", "", `{"key":"`+a.srv.Key()+`"}`, map[string]string{"Origin": "http://evil.example"}); resp.StatusCode != 403 {
		t.Fatalf("login from another site: %d", resp.StatusCode)
	}
	c, csrf := a.login()
	cookie := c.Name + "=" + c.Value
	browser := func(extra map[string]string) map[string]string {
		h := map[string]string{"Cookie": cookie, "Origin": a.srv.URL(), "Sec-Fetch-Site": "same-origin"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	if resp, body := a.request("GET", "/api/v1/status", "", "", browser(nil)); resp.StatusCode != 200 {
		t.Fatalf("status with the cookie: %d %s", resp.StatusCode, body)
	}
	if resp, body := a.request("GET", "/api/v1/session", "", "", browser(nil)); resp.StatusCode != 200 || !strings.Contains(string(body), csrf) {
		t.Fatalf("session: %d %s", resp.StatusCode, body)
	}
	for _, e := range endpoints {
		if e.method == "GET" {
			continue
		}
		for name, hdr := range map[string]map[string]string{"no CSRF token": {}, "a wrong one": {csrfHeader: strings.Repeat("b", 64)}, "an empty one": {csrfHeader: ""}} {
			if resp, body := a.request(e.method, e.path, "", e.body, browser(hdr)); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with %s: %d %s", e.method, e.path, name, resp.StatusCode, body)
			}
		}
	}
	if calls := a.node.Calls(); len(calls) != 0 {
		t.Fatalf("requests without the CSRF token reached the node: %v", calls)
	}
	if resp, body := a.request("POST", "/api/v1/pause", "", "", browser(map[string]string{csrfHeader: csrf})); resp.StatusCode != 200 {
		t.Fatalf("pause with the token: %d %s", resp.StatusCode, body)
	}
	if resp, _ := a.request("DELETE", "/api/v1/session", "", "", browser(map[string]string{csrfHeader: csrf})); resp.StatusCode != 204 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := a.request("GET", "/api/v1/status", "", "", browser(nil)); resp.StatusCode != 401 {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
	// Sessions end after a day unused.
	c, _ = a.login()
	a.clock.Advance(sessionIdle + time.Minute)
	if resp, _ := a.request("GET", "/api/v1/status", "", "", map[string]string{"Cookie": c.Name + "=" + c.Value}); resp.StatusCode != 401 {
		t.Fatalf("an expired session: %d", resp.StatusCode)
	}
}

func TestLoginLink(t *testing.T) {
	a := startAPI(t, nil)
	link, err := a.client().LoginLink(t.Context())
	if err != nil || !strings.HasPrefix(link, a.srv.URL()+"/login?token=") {
		t.Fatalf("%q %v", link, err)
	}
	path := strings.TrimPrefix(link, a.srv.URL())
	resp, _ := a.request("GET", path, "", "", map[string]string{"Sec-Fetch-Site": "none"})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || len(resp.Cookies()) != 1 {
		t.Fatalf("login link: %d %v", resp.StatusCode, resp.Header)
	}
	c := resp.Cookies()[0]
	if resp, _ := a.request("GET", "/api/v1/status", "", "", map[string]string{"Cookie": c.Name + "=" + c.Value}); resp.StatusCode != 200 {
		t.Fatalf("session from the link: %d", resp.StatusCode)
	}
	if resp, body := a.request("GET", path, "", "", nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "not valid any more") {
		t.Fatalf("the link used twice: %d %s", resp.StatusCode, body)
	}
	link, _ = a.srv.LoginURL()
	a.clock.Advance(linkLifetime)
	if resp, _ := a.request("GET", strings.TrimPrefix(link, a.srv.URL()), "", "", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an expired link: %d", resp.StatusCode)
	}
	if resp, _ := a.request("GET", "/login", "", "", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
}

func TestControls(t *testing.T) {
	a := startAPI(t, nil)
	c := a.client()
	ctx := t.Context()
	s, err := c.Pause(ctx, true)
	if err != nil || s.Reason != policy.RuleUser || s.ReasonText != "paused by you" || s.Policy.Cores != 0 {
		t.Fatalf("pause: %+v %v", s, err)
	}
	if s, err = c.Resume(ctx); err != nil || s.Reason != "" || s.Policy.Cores != 4 {
		t.Fatalf("resume: %+v %v", s, err)
	}
	if _, err = c.Pause(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err = c.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err = c.RetryNow(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err = c.Unlink(ctx); err != nil {
		t.Fatal(err)
	}
	a.node.mu.Lock()
	a.node.finishOK = false
	a.node.mu.Unlock()
	_, err = c.Finish(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || !strings.Contains(ae.Message, "cannot finish now: already finishing") {
		t.Fatalf("refused finish: %v", err)
	}
	want := "pause now,resume,pause,finish,retry,unlink,finish"
	if got := strings.Join(a.node.Calls(), ","); got != want {
		t.Fatalf("calls %s, want %s", got, want)
	}
	for _, body := range []string{`{"now":"yes"}`, `{"later":true}`, `{"now":true}{"now":false}`, `[true]`, "{"} {
		if resp, out := a.request("POST", "/api/v1/pause", a.srv.Key(), body, nil); resp.StatusCode != 400 {
			t.Errorf("pause %s: %d %s", body, resp.StatusCode, out)
		}
	}
	if resp, _ := a.request("POST", "/api/v1/resume", a.srv.Key(), `{"x":1}`, nil); resp.StatusCode != 400 {
		t.Errorf("resume with a field: %d", resp.StatusCode)
	}
	if resp, _ := a.request("GET", "/api/v1/pause", a.srv.Key(), "", nil); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET pause: %d %v", resp.StatusCode, resp.Header)
	}
	if got := strings.Join(a.node.Calls(), ","); got != want {
		t.Fatalf("refused requests reached the node: %s", got)
	}
}

func TestSettings(t *testing.T) {
	a := startAPI(t, nil)
	c := a.client()
	ctx := t.Context()
	s, err := c.Settings(ctx)
	if err != nil || s.Settings.Cores != 4 || s.Saved.Cores != 0 || len(s.Overridden) != 1 || s.Overridden[0] != "cores" ||
		len(s.Keys) != len(policy.Keys()) || len(s.Rules) != 8 || s.Machine.TotalCores != 8 || s.Cores != 4 {
		t.Fatalf("%+v %v", s, err)
	}
	s, err = c.UpdateSettings(ctx, map[string]string{"cores": "2", "schedule": "mon-fri 18:00-08:00, sat-sun all day", "pause-on-battery": "false"})
	if err != nil || s.Settings.Cores != 2 || s.Settings.Schedule.String() != "mon-fri 18:00-08:00, sat-sun all day" || s.Settings.PauseOnBattery || len(s.Overridden) != 0 {
		t.Fatalf("update: %+v %v", s, err)
	}
	if sched, _ := policy.ParseSchedule("mon-fri 18:00-08:00, sat-sun all day"); len(a.node.saved) != 1 || !a.node.saved[0].Schedule.Equal(sched) {
		t.Fatalf("saved %+v", a.node.saved)
	}
	// Typed JSON values, by any spelling.
	resp, body := a.request("PATCH", "/api/v1/settings", a.srv.Key(), `{"coresInUse":1,"idle_minutes":5,"pauseOnBattery":true}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"coresInUse":1`) || !strings.Contains(string(body), `"idleMinutes":5`) {
		t.Fatalf("typed patch: %d %s", resp.StatusCode, body)
	}
	bad := []struct{ body, want string }{
		{`{"cores":-1}`, `"key":"cores"`},
		{`{"cores":2.5}`, "not a whole number"},
		{`{"schedule":"mon-fry all day"}`, `is not a day`},
		{`{"turbo":true}`, "unknown setting"},
		{`{"cores":null}`, "must be a number"},
		{`{"cores":[1]}`, "must be a number"},
		{`{"cores":{"n":1}}`, "must be a number"},
		{`{}`, "no settings given"},
		{`[]`, "bad JSON"},
		{`{"cores":1`, "bad JSON"},
		{`{"cores":1,"cores":"x"}`, "not a whole number"},
		{`{"max_temperature":"85\u0000"}`, "NUL"},
	}
	for _, tt := range bad {
		resp, body := a.request("PATCH", "/api/v1/settings", a.srv.Key(), tt.body, nil)
		if resp.StatusCode != 400 || !strings.Contains(string(body), tt.want) {
			t.Errorf("PATCH %s: %d %s, want 400 with %q", tt.body, resp.StatusCode, body, tt.want)
		}
	}
	if resp, _ := a.request("PATCH", "/api/v1/settings", a.srv.Key(), "", map[string]string{"Content-Type": "text/plain"}); resp.StatusCode != 400 {
		t.Errorf("empty patch: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("PATCH", a.srv.URL()+"/api/v1/settings", strings.NewReader(`cores=2`))
	req.Header.Set(keyHeader, a.srv.Key())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a form body: %v %v", resp.StatusCode, err)
	}
	huge := `{"schedule":"` + strings.Repeat("x", maxBody) + `"}`
	if resp, _ := a.request("PATCH", "/api/v1/settings", a.srv.Key(), huge, nil); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a huge body: %d", resp.StatusCode)
	}
	after, _ := c.Settings(ctx)
	if after.Settings.Cores != 2 || after.Settings.CoresInUse != 1 || len(a.node.saved) != 2 {
		t.Fatalf("refused patches changed something: %+v, %d saves", after.Settings, len(a.node.saved))
	}
	a.node.mu.Lock()
	a.node.saveErr = errors.New("disk full")
	a.node.mu.Unlock()
	_, err = c.UpdateSettings(ctx, map[string]string{"cores": "3"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 500 || !strings.Contains(ae.Message, "disk full") {
		t.Fatalf("save error: %v", err)
	}
	if after, _ := c.Settings(ctx); after.Settings.Cores != 2 {
		t.Fatal("applied although not saved")
	}
	_, err = c.UpdateSettings(ctx, map[string]string{"busy_percent": "150"})
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Key != "busy_percent" {
		t.Fatalf("key of a refused setting: %v", err)
	}
}

func TestLogs(t *testing.T) {
	a := startAPI(t, nil)
	c := a.client()
	entries, err := c.Logs(t.Context(), 100, slog.LevelInfo)
	if err != nil || len(entries) != 4 || entries[0].Message != "node started" {
		t.Fatalf("%+v %v", entries, err)
	}
	if entries, _ = c.Logs(t.Context(), 2, slog.LevelInfo); len(entries) != 2 || entries[1].Message != "sentinel slow" {
		t.Fatalf("limit: %+v", entries)
	}
	if entries, _ = c.Logs(t.Context(), 100, slog.LevelWarn); len(entries) != 1 || entries[0].Level != slog.LevelWarn {
		t.Fatalf("level: %+v", entries)
	}
	for _, q := range []string{"limit=-1", "limit=x", "limit=1000000", "level=loud"} {
		if resp, _ := a.request("GET", "/api/v1/logs?"+q, a.srv.Key(), "", nil); resp.StatusCode != 400 {
			t.Errorf("%s: %d", q, resp.StatusCode)
		}
	}
}

func TestLogStream(t *testing.T) {
	a := startAPI(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan logging.Entry, 16)
	done := make(chan error, 1)
	go func() {
		done <- a.client().FollowLogs(ctx, 2, slog.LevelInfo, func(e logging.Entry) { got <- e })
	}()
	next := func() logging.Entry {
		t.Helper()
		select {
		case e := <-got:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no log entry arrived")
			return logging.Entry{}
		}
	}
	if e := next(); e.Message != "chunk completed" {
		t.Fatalf("backlog: %+v", e)
	}
	if e := next(); e.Message != "sentinel slow" {
		t.Fatalf("backlog: %+v", e)
	}
	// The backlog is sent after subscribing, so a new entry now arrives.
	a.ring.Add(logging.Entry{Time: testStart, Level: slog.LevelDebug, Message: "too quiet"})
	a.ring.Add(logging.Entry{Time: testStart, Level: slog.LevelError, Message: "chunk failed", Attrs: []logging.Attr{{Key: "chunk", Value: "c9"}}})
	if e := next(); e.Message != "chunk failed" || e.Attrs[0].Value != "c9" {
		t.Fatalf("live: %+v", e)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A stream ends when the server stops, so Serve returns.
func TestStreamsEndWithTheServer(t *testing.T) {
	a := startAPI(t, nil)
	resp, err := http.DefaultClient.Do(mustRequest(t, "GET", a.srv.URL()+"/api/v1/events", a.srv.Key()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, _ := br.ReadString('\n'); line != ": stream open\n" {
		t.Fatalf("first line %q", line)
	}
	waitFor(t, "the stream to subscribe", func() bool { return a.node.subscribers() == 1 })
	a.node.emit(node.Event{Kind: node.ChunkCompleted, Time: testStart, Chunk: node.Chunk{ID: "c1"}, Result: protocol.ChunkResult{MeanDps: 1234.5}})
	var data string
	for data == "" {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			data = d
		}
	}
	var e Event
	if err := json.Unmarshal([]byte(data), &e); err != nil || e.Kind != "chunk-completed" || e.ChunkID != "c1" || e.MeanDps != 1234.5 {
		t.Fatalf("event %s: %+v %v", data, e, err)
	}
	a.close() // returns only once the stream handler has ended
	if _, err := io.ReadAll(br); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	if n := a.node.subscribers(); n != 0 {
		t.Fatalf("%d subscriptions left", n)
	}
}

func TestMetrics(t *testing.T) {
	a := startAPI(t, nil)
	_, body := a.request("GET", "/metrics", a.srv.Key(), "", nil)
	for _, want := range []string{
		"wowlab_node_iterations_total 17250", "wowlab_node_chunks_completed_total 17", "wowlab_node_chunks_failed_total 1",
		"wowlab_node_workers_busy 1", "wowlab_node_workers 4", "wowlab_node_iterations_per_second 812.5",
		`wowlab_node_state{state="running"} 1`, `wowlab_node_state{state="claiming"} 0`, "wowlab_node_policy_cores 4",
		`wowlab_node_policy_rule{rule="cores"} 1`, `wowlab_node_policy_rule{rule="user"} 0`,
		`wowlab_node_info{node_id="7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001",platform="linux-x86_64",version="1.2.3"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestUIAndUnknownPaths(t *testing.T) {
	a := startAPI(t, func(o *Options) {
		o.UI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "dashboard") })
	})
	if resp, body := a.request("GET", "/", "", "", nil); resp.StatusCode != 200 || string(body) != "dashboard" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("UI: %d %s", resp.StatusCode, body)
	}
	if resp, body := a.request("GET", "/api/v1/nothing", a.srv.Key(), "", nil); resp.StatusCode != 404 || !json.Valid(body) {
		t.Fatalf("unknown endpoint: %d %s", resp.StatusCode, body)
	}
	b := startAPI(t, nil)
	if resp, _ := b.request("GET", "/", "", "", nil); resp.StatusCode != 404 {
		t.Fatalf("no UI: %d", resp.StatusCode)
	}
}

func TestClientErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Dial(dir, nil); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("empty dir: %v", err)
	}
	a := startAPI(t, nil)
	c, err := Dial(a.dir, nil)
	if err != nil || c.URL() != a.srv.URL() {
		t.Fatalf("%v %v", c, err)
	}
	bad := NewClient(a.srv.URL(), strings.Repeat("1", 64), nil)
	if _, err := bad.Status(t.Context()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong key: %v", err)
	}
	a.close()
	if _, err := c.Status(t.Context()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("stopped node: %v", err)
	}
	for _, content := range []string{"", "garbage", "https://127.0.0.1:1", "http://127.0.0.1"} {
		if err := os.WriteFile(filepath.Join(dir, URLFile), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Dial(dir, nil); !errors.Is(err, ErrNotRunning) {
			t.Errorf("url file %q: %v", content, err)
		}
	}
}

func mustRequest(t *testing.T, method, url, key string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(keyHeader, key)
	return req
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
