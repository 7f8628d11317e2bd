package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"wowlab/internal/clock"
	"wowlab/internal/logging"
	"wowlab/node/policy"
)

// DefaultAddr is where the API listens when Options.Addr is empty: a free
// port on the loopback interface (control.url tells clients which).
const DefaultAddr = "127.0.0.1:0"

// maxBody bounds every request body.
const maxBody = 64 << 10

// Options configure Listen.
type Options struct {
	// Addr is host:port to listen on; empty: DefaultAddr. A host that is
	// not a loopback address or "localhost" needs AllowRemote.
	Addr string
	// AllowRemote permits listening on other interfaces: the API is then
	// reachable from the network, still only with the key.
	AllowRemote bool
	// ConfigDir holds the key and URL files; required.
	ConfigDir string
	// Version is reported in the status.
	Version string
	// Logs are the recent log entries and their stream; nil: none.
	Logs *logging.Ring
	// UI serves everything outside /api/ and /metrics (node-gui's
	// dashboard); nil: 404.
	UI http.Handler
	// Routes are more endpoints of the front end, under /api/v1/, behind
	// the same key, session and CSRF checks as the API's own.
	Routes []Route
	Logger *slog.Logger
	Clock  clock.Clock // nil: the system clock
	Random io.Reader   // keys and tokens; nil: crypto/rand
	// HTTP is the client that checks for a node already running; nil:
	// one with a 2 s timeout.
	HTTP *http.Client
	// Updates is the node's self-update, shown in the status and checked
	// on demand; nil: the node does not update itself.
	Updates Updates
}

// Route is an endpoint a front end adds to the API.
type Route struct {
	Method  string // GET, POST, ...
	Path    string // under /api/v1/
	Handler http.HandlerFunc
}

// Server is a listening control API. Create it with Listen and call Serve.
type Server struct {
	node       Node
	opts       Options
	log        *slog.Logger
	clock      clock.Clock
	key        string
	ln         net.Listener
	url        string
	listenHost string
	cookie     string // the session cookie's name: one per port, so two nodes' dashboards on one host do not collide
	sessions   *sessions
	handler    http.Handler
	done       chan struct{} // closed when Serve ends: streams stop
}

// Listen checks the address, makes sure no node runs with the same config
// directory, loads (or creates) the API key, binds the address and writes
// it to the URL file. A node already running gives an
// *AlreadyRunningError.
func Listen(n Node, opts Options) (*Server, error) {
	if opts.ConfigDir == "" {
		return nil, errors.New("control: no config directory")
	}
	for _, rt := range opts.Routes {
		if !strings.HasPrefix(rt.Path, "/api/v1/") || rt.Handler == nil {
			return nil, fmt.Errorf("control: route %s %q must be under /api/v1/ and have a handler", rt.Method, rt.Path)
		}
	}
	s := &Server{node: n, opts: opts, log: opts.Logger, clock: opts.Clock, done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = clock.System{}
	}
	addr := opts.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("control API address %q: %w", addr, err)
	}
	loopback := strings.EqualFold(host, "localhost")
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	if !loopback && !opts.AllowRemote {
		return nil, fmt.Errorf("control API address %q is not a loopback address: listening there exposes the node to the network, so it must be allowed explicitly", addr)
	}
	s.listenHost = host

	hc := opts.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Second}
	}
	if running, err := Dial(opts.ConfigDir, hc); err == nil {
		if _, err := running.Status(context.Background()); err == nil {
			return nil, &AlreadyRunningError{URL: running.URL()}
		}
	}
	if s.key, err = loadKey(opts.ConfigDir, opts.Random, s.log); err != nil {
		return nil, err
	}
	if s.ln, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("control API: %w", err)
	}
	port := s.ln.Addr().(*net.TCPAddr).Port
	urlHost := host
	switch {
	case host == "" || host == "0.0.0.0" || host == "::":
		urlHost = "127.0.0.1" // the wildcard answers on loopback too
	case strings.Contains(host, ":"):
		urlHost = "[" + host + "]"
	}
	s.url = fmt.Sprintf("http://%s:%d", urlHost, port)
	s.cookie = fmt.Sprintf("wowlab_node_%d", port)
	s.sessions = newSessions(opts.Random)
	s.handler = s.routes()
	if err := os.WriteFile(filepath.Join(opts.ConfigDir, URLFile), []byte(s.url+"\n"), 0o600); err != nil {
		s.ln.Close()
		return nil, fmt.Errorf("write %s: %w", URLFile, err)
	}
	if !loopback {
		s.log.Warn("the control API listens beyond this computer; anyone who can reach it and has the key controls the node", "addr", s.ln.Addr().String())
	}
	return s, nil
}

// URL returns the API's base URL, such as http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// Key returns the API key.
func (s *Server) Key() string { return s.key }

// LoginURL returns a link that logs a browser in once, within two minutes:
// node-gui opens it to show the dashboard.
func (s *Server) LoginURL() (string, error) {
	tok, err := s.sessions.link(s.clock.Now())
	if err != nil {
		return "", err
	}
	return s.url + "/login?token=" + tok, nil
}

// Serve answers requests until ctx ends, then stops the streams, waits up
// to 5 s for requests in flight and removes the URL file.
func (s *Server) Serve(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second, // streams lift it
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	s.log.Info("control API listening", "url", s.url)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	close(s.done)
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shut); serr != nil && err == nil {
		err = serr
	}
	s.removeURLFile()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// removeURLFile deletes the URL file if it still names this server.
func (s *Server) removeURLFile() {
	path := filepath.Join(s.opts.ConfigDir, URLFile)
	if raw, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(raw)) == s.url {
		os.Remove(path)
	}
}

// ServeHTTP checks Host and Origin, sets the security headers, and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if !s.hostAllowed(r.Host) {
		s.log.Warn("control API request refused: foreign Host", "host", r.Host, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusForbidden, errorBody{Error: "this address does not serve the node's control API under that host name"})
		return
	}
	if !s.originAllowed(r) {
		s.log.Warn("control API request refused: foreign Origin", "origin", r.Header.Get("Origin"), "fetch_site", r.Header.Get("Sec-Fetch-Site"))
		writeJSON(w, http.StatusForbidden, errorBody{Error: "requests from other web sites are refused"})
		return
	}
	s.handler.ServeHTTP(w, r)
}

func (s *Server) routes() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(s.node, s.opts.Version), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	routes := []struct {
		method, path string
		h            http.HandlerFunc
	}{
		{"GET", "/api/v1/status", s.auth(s.getStatus)},
		{"POST", "/api/v1/pause", s.auth(s.postPause)},
		{"POST", "/api/v1/resume", s.auth(s.postResume)},
		{"POST", "/api/v1/finish", s.auth(s.postFinish)},
		{"POST", "/api/v1/unlink", s.auth(s.postUnlink)},
		{"POST", "/api/v1/retry", s.auth(s.postRetry)},
		{"POST", "/api/v1/update/check", s.auth(s.postUpdateCheck)},
		{"PUT", "/api/v1/update/automatic", s.auth(s.putAutomatic)},
		{"GET", "/api/v1/settings", s.auth(s.getSettings)},
		{"PATCH", "/api/v1/settings", s.auth(s.patchSettings)},
		{"GET", "/api/v1/logs", s.auth(s.getLogs)},
		{"GET", "/api/v1/logs/stream", s.auth(s.streamLogs)},
		{"GET", "/api/v1/events", s.auth(s.streamEvents)},
		{"POST", "/api/v1/session", s.postSession},
		{"GET", "/api/v1/session", s.auth(s.getSession)},
		{"DELETE", "/api/v1/session", s.auth(s.deleteSession)},
		{"POST", "/api/v1/session/link", s.auth(s.postLink)},
		{"GET", "/login", s.getLogin},
		{"GET", "/metrics", s.auth(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP)},
	}
	for _, rt := range s.opts.Routes {
		routes = append(routes, struct {
			method, path string
			h            http.HandlerFunc
		}{rt.Method, rt.Path, s.auth(rt.Handler)})
	}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range routes {
		mux.HandleFunc(rt.method+" "+rt.path, rt.h)
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// The catch-all below would hide the mux's own 405, so it answers it.
	unknown := func(w http.ResponseWriter, r *http.Request) {
		if methods, ok := allowed[r.URL.Path]; ok {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: r.Method + " is not allowed here; use " + strings.Join(methods, " or ")})
			return
		}
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such endpoint"})
	}
	mux.HandleFunc("/api/", unknown)
	mux.HandleFunc("/login", unknown)
	mux.HandleFunc("/metrics", unknown)
	if s.opts.UI != nil {
		mux.Handle("/", s.opts.UI)
	}
	return mux
}

// auth lets through requests with the API key, or with a session cookie
// and, unless they only read, the session's CSRF token.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if k, ok := presentedKey(r); ok {
			if !equalSecret(k, s.key) {
				unauthorized(w, "wrong API key")
				return
			}
			h(w, r)
			return
		}
		c, err := r.Cookie(s.cookie)
		if err != nil {
			unauthorized(w, "no API key: send it in the "+keyHeader+" header (it is in the node's config directory, file "+KeyFile+")")
			return
		}
		csrf, ok := s.sessions.get(c.Value, s.clock.Now())
		if !ok {
			unauthorized(w, "the session has ended: log in again")
			return
		}
		if !safeMethod(r.Method) && !equalSecret(r.Header.Get(csrfHeader), csrf) {
			writeJSON(w, http.StatusForbidden, errorBody{Error: "missing or wrong " + csrfHeader})
			return
		}
		h(w, r)
	}
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="wowlab-node"`)
	writeJSON(w, http.StatusUnauthorized, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// readJSON decodes a request body into v: JSON, at most maxBody, no
// unknown fields, nothing after the value. An empty body leaves v as it
// is. It writes the error answer itself and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("request body larger than %d bytes", maxBody)})
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "send the body as application/json"})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "bad JSON body: " + err.Error()})
		return false
	}
	if dec.More() {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "bad JSON body: more than one value"})
		return false
	}
	return true
}

func (s *Server) status() Status {
	st := statusOf(s.node, s.opts.Version, s.clock.Now())
	if s.opts.Updates != nil {
		st.Update = updateStatusOf(s.opts.Updates.Status())
	}
	return st
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.status())
}

// PauseRequest is the body of POST /api/v1/pause.
type PauseRequest struct {
	// Now hands back the running chunks too, instead of letting them finish.
	Now bool `json:"now"`
}

func (s *Server) postPause(w http.ResponseWriter, r *http.Request) {
	var req PauseRequest
	if !readJSON(w, r, &req) {
		return
	}
	s.act(w, "pause", func() error { return s.node.Pause(req.Now) }, "now", req.Now)
}

func (s *Server) postResume(w http.ResponseWriter, r *http.Request) {
	if readJSON(w, r, &struct{}{}) {
		s.act(w, "resume", s.node.Resume)
	}
}

func (s *Server) postRetry(w http.ResponseWriter, r *http.Request) {
	if readJSON(w, r, &struct{}{}) {
		s.act(w, "retry", func() error { s.node.RetryNow(); return nil })
	}
}

func (s *Server) postFinish(w http.ResponseWriter, r *http.Request) {
	if readJSON(w, r, &struct{}{}) {
		s.act(w, "finish", s.node.Finish)
	}
}

func (s *Server) postUnlink(w http.ResponseWriter, r *http.Request) {
	if readJSON(w, r, &struct{}{}) {
		s.act(w, "unlink", s.node.Unlink)
	}
}

// act runs a control and answers with the status after it.
func (s *Server) act(w http.ResponseWriter, name string, f func() error, attrs ...any) {
	if err := f(); err != nil {
		writeJSON(w, http.StatusConflict, errorBody{Error: fmt.Sprintf("cannot %s now: %v", name, err)})
		return
	}
	s.log.Info("control: "+name, attrs...)
	writeJSON(w, http.StatusOK, s.status())
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, settingsOf(s.node.Policy()))
}

// patchSettings changes settings: a JSON object of settings by any of
// their names, each a number, true/false or a string.
func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request) {
	var raw map[string]json.RawMessage
	if !readJSON(w, r, &raw) {
		return
	}
	if len(raw) == 0 {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "no settings given: send an object such as {\"cores\": 2}"})
		return
	}
	patch, err := overridesOf(raw)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorOf(err))
		return
	}
	if err := s.node.UpdateSettings(patch); err != nil {
		var ke *policy.KeyError
		if errors.As(err, &ke) {
			writeJSON(w, http.StatusBadRequest, errorOf(err))
			return
		}
		s.log.Warn("changing settings failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorOf(err))
		return
	}
	writeJSON(w, http.StatusOK, settingsOf(s.node.Policy()))
}

// overridesOf turns a JSON patch into text values.
func overridesOf(raw map[string]json.RawMessage) (policy.Overrides, error) {
	out := policy.Overrides{}
	for name, v := range raw {
		if _, ok := policy.LookupKey(name); !ok {
			return nil, &policy.KeyError{Key: name, Err: policy.ErrUnknownKey}
		}
		var val any
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&val); err != nil {
			return nil, &policy.KeyError{Key: name, Err: err}
		}
		switch x := val.(type) {
		case string:
			out[name] = x
		case json.Number:
			out[name] = x.String()
		case bool:
			out[name] = strconv.FormatBool(x)
		default:
			return nil, &policy.KeyError{Key: name, Err: errors.New("must be a number, true or false, or a string")}
		}
	}
	return out, nil
}

func (s *Server) getLogs(w http.ResponseWriter, r *http.Request) {
	limit, level, ok := logQuery(w, r, "limit", 100)
	if !ok {
		return
	}
	entries := []logging.Entry{}
	if s.opts.Logs != nil {
		for _, e := range s.opts.Logs.Recent() {
			if e.Level >= level {
				entries = append(entries, e)
			}
		}
	}
	if len(entries) > limit {
		entries = entries[len(entries)-limit:]
	}
	writeJSON(w, http.StatusOK, Logs{Entries: entries})
}

// logQuery reads a count parameter and level= (debug, info, warn, error).
func logQuery(w http.ResponseWriter, r *http.Request, countName string, def int) (int, slog.Level, bool) {
	q := r.URL.Query()
	n := def
	if v := q.Get(countName); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 || n > 100_000 {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: countName + " must be a whole number from 0 to 100000"})
			return 0, 0, false
		}
	}
	level := slog.LevelDebug
	if v := q.Get("level"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "level must be debug, info, warn or error"})
			return 0, 0, false
		}
	}
	return n, level, true
}

// SessionResponse is the answer of POST and GET /api/v1/session.
type SessionResponse struct {
	CSRFToken string `json:"csrfToken"` // send it as X-CSRF-Token
}

// LoginRequest is the body of POST /api/v1/session.
type LoginRequest struct {
	Key string `json:"key"`
}

// postSession logs a browser in with the API key.
func (s *Server) postSession(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !equalSecret(req.Key, s.key) {
		unauthorized(w, "wrong API key")
		return
	}
	s.startSession(w, func(csrf string) { writeJSON(w, http.StatusOK, SessionResponse{CSRFToken: csrf}) })
}

func (s *Server) startSession(w http.ResponseWriter, then func(csrf string)) {
	id, csrf, err := s.sessions.start(s.clock.Now())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: err.Error()})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	then(csrf)
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no browser session: this request came with the API key"})
		return
	}
	csrf, _ := s.sessions.get(c.Value, s.clock.Now())
	writeJSON(w, http.StatusOK, SessionResponse{CSRFToken: csrf})
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.cookie); err == nil {
		s.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// LinkResponse is the answer of POST /api/v1/session/link.
type LinkResponse struct {
	URL string `json:"url"` // opens a browser session once, within two minutes
}

func (s *Server) postLink(w http.ResponseWriter, r *http.Request) {
	if !readJSON(w, r, &struct{}{}) {
		return
	}
	u, err := s.LoginURL()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, LinkResponse{URL: u})
}

// getLogin turns a one-time link into a session and goes to the dashboard.
func (s *Server) getLogin(w http.ResponseWriter, r *http.Request) {
	if !s.sessions.useLink(r.URL.Query().Get("token"), s.clock.Now()) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "This login link is not valid any more (each works once, for two minutes). Open the dashboard again from the node.\n")
		return
	}
	s.startSession(w, func(string) { http.Redirect(w, r, "/", http.StatusSeeOther) })
}
