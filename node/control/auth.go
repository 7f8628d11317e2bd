package control

import (
	"crypto/subtle"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Limits of browser sessions and one-time login links.
const (
	sessionIdle  = 24 * time.Hour  // a session unused this long ends
	maxSessions  = 32              // the oldest ends when a new one would exceed this
	linkLifetime = 2 * time.Minute // a login link must be opened this soon
	maxLinks     = 16
)

// Headers of the API.
const (
	keyHeader  = "X-API-Key"
	csrfHeader = "X-CSRF-Token"
)

// session is a browser's login.
type session struct {
	csrf     string
	lastUsed time.Time
}

// sessions are the logins of browsers and the login links not yet used.
// It is safe for concurrent use.
type sessions struct {
	random io.Reader
	mu     sync.Mutex
	byID   map[string]*session
	links  map[string]time.Time // token -> expiry
}

func newSessions(random io.Reader) *sessions {
	return &sessions{random: random, byID: map[string]*session{}, links: map[string]time.Time{}}
}

// start creates a session and returns its id and CSRF token.
func (ss *sessions) start(now time.Time) (id, csrf string, err error) {
	if id, err = newToken(ss.random, 32); err != nil {
		return "", "", err
	}
	if csrf, err = newToken(ss.random, 32); err != nil {
		return "", "", err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.expireLocked(now)
	for len(ss.byID) >= maxSessions {
		var oldest string
		for k, s := range ss.byID {
			if oldest == "" || s.lastUsed.Before(ss.byID[oldest].lastUsed) {
				oldest = k
			}
		}
		delete(ss.byID, oldest)
	}
	ss.byID[id] = &session{csrf: csrf, lastUsed: now}
	return id, csrf, nil
}

// get returns the session's CSRF token and marks it used.
func (ss *sessions) get(id string, now time.Time) (csrf string, ok bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.expireLocked(now)
	s, ok := ss.byID[id]
	if !ok {
		return "", false
	}
	s.lastUsed = now
	return s.csrf, true
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

func (ss *sessions) expireLocked(now time.Time) {
	for k, s := range ss.byID {
		if now.Sub(s.lastUsed) > sessionIdle {
			delete(ss.byID, k)
		}
	}
	for k, exp := range ss.links {
		if !now.Before(exp) {
			delete(ss.links, k)
		}
	}
}

// link creates a one-time login token.
func (ss *sessions) link(now time.Time) (string, error) {
	tok, err := newToken(ss.random, 32)
	if err != nil {
		return "", err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.expireLocked(now)
	if len(ss.links) >= maxLinks {
		for k := range ss.links { // any: they all expire within minutes
			delete(ss.links, k)
			break
		}
	}
	ss.links[tok] = now.Add(linkLifetime)
	return tok, nil
}

// useLink consumes a login token; it works once, before it expires.
func (ss *sessions) useLink(tok string, now time.Time) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.expireLocked(now)
	if _, ok := ss.links[tok]; !ok {
		return false
	}
	delete(ss.links, tok)
	return true
}

func equalSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// hostAllowed reports whether a request's Host names this API: a loopback
// name or address, or, when the API is opened to the network, an IP
// address or the host it was told to listen on. Refusing other names is
// what defeats DNS rebinding: a page of evil.example whose name now
// resolves to 127.0.0.1 still sends Host: evil.example.
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback() || s.opts.AllowRemote
	}
	return s.opts.AllowRemote && s.listenHost != "" && strings.EqualFold(host, s.listenHost)
}

// originAllowed refuses what a browser sends for a request another site
// started: an Origin other than this API's own, or Sec-Fetch-Site saying
// the request is not same-origin (sites on other localhost ports are
// "same-site", and that is not enough).
func (s *Server) originAllowed(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser, or a same-origin GET
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" || u.Path != "" && u.Path != "/" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) && s.hostAllowed(u.Host)
}

// presentedKey returns the API key of a request: X-API-Key, or a bearer
// token (which Prometheus sends from a credentials file).
func presentedKey(r *http.Request) (string, bool) {
	if k := r.Header.Get(keyHeader); k != "" {
		return k, true
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:]), true
	}
	return "", false
}

// safeMethod is a method that changes nothing.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
