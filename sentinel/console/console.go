// Package console is the sentinel's web console for its users, served on
// the sentinel's own listener: signing in with a user token, the claim
// page a node's claim message points to (/claim?code=CODE), the user's
// nodes, jobs with live progress, job submission and rotations.
//
// Pages are html/template with embedded CSS and JavaScript (no CDN, no
// build step). A session is a signed cookie (HttpOnly, SameSite=Strict)
// that expires; every form carries a CSRF token bound to a second cookie,
// and cross-origin form posts are refused before any handler runs.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// DefaultSessionTTL is how long a session lasts after signing in.
const DefaultSessionTTL = 12 * time.Hour

// Cookie names.
const (
	sessionCookie = "wowlab_session"
	csrfCookie    = "wowlab_csrf"
)

// ClaimPath is the claim page, the stable URL a node's claim message
// names with its code: ClaimPath + "?code=" + CODE.
const ClaimPath = "/claim"

// Config configures a Console.
type Config struct {
	// Service and Store are the sentinel's. Required.
	Service *sentinel.Service
	Store   store.Store
	// Secret signs sessions and CSRF tokens (the sentinel's JWT secret;
	// keys are derived from it). Required, at least 32 bytes.
	Secret []byte
	// SessionTTL is a session's lifetime; DefaultSessionTTL when zero.
	SessionTTL time.Duration
	// Clock tells the time; sentinel.SystemClock when nil.
	Clock sentinel.Clock
	// Logger receives structured logs; discarded when nil.
	Logger *slog.Logger
}

// Console serves the web console. Close ends its live streams.
type Console struct {
	svc        *sentinel.Service
	store      store.Store
	sessionKey []byte
	csrfKey    []byte
	ttl        time.Duration
	clock      sentinel.Clock
	log        *slog.Logger
	pages      map[string]*template.Template
	origin     *http.CrossOriginProtection

	closeOnce sync.Once
	closed    chan struct{}
}

// New returns a Console.
func New(cfg Config) (*Console, error) {
	if cfg.Service == nil || cfg.Store == nil {
		return nil, errors.New("console: Service and Store are required")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("console: the secret must be at least 32 bytes")
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = sentinel.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{
		svc: cfg.Service, store: cfg.Store, ttl: cfg.SessionTTL, clock: cfg.Clock, log: cfg.Logger, pages: pages,
		sessionKey: derive(cfg.Secret, "wowlab console session"),
		csrfKey:    derive(cfg.Secret, "wowlab console csrf"),
		origin:     http.NewCrossOriginProtection(),
		closed:     make(chan struct{}),
	}
	c.origin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.log.Warn("console: cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		c.refusal(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused. Open the console and try again.")
	}))
	return c, nil
}

// derive returns a key for one purpose from the secret.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Close ends the live event streams, so that a server's Shutdown need not
// wait for them.
func (c *Console) Close() { c.closeOnce.Do(func() { close(c.closed) }) }

// Routes registers the console's pages on mux.
func (c *Console) Routes(mux *http.ServeMux) {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", cacheFor(time.Hour, http.FileServerFS(static))))
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, c.origin.Handler(securityHeaders(fn))) }
	h("GET /{$}", c.serveRoot)
	h("GET /console", c.serveRoot)
	h("GET /console/{$}", c.serveRoot)
	h("GET /console/signin", c.serveSignIn)
	h("POST /console/signin", c.form(c.signIn))
	h("POST /console/signout", c.form(c.signOut))
	h("GET "+ClaimPath, c.user(c.serveClaim))
	h("POST "+ClaimPath, c.form(c.user(c.claim)))
	h("GET /console/nodes", c.user(c.serveNodes))
	h("POST /console/nodes/{id}", c.form(c.user(c.updateNode)))
	h("POST /console/nodes/{id}/remove", c.form(c.user(c.removeNode)))
	h("GET /console/jobs", c.user(c.serveJobs))
	h("POST /console/jobs", c.form(c.user(c.submitJob)))
	h("GET /console/jobs/{id}", c.user(c.serveJob))
	h("POST /console/jobs/{id}/cancel", c.form(c.user(c.cancelJob)))
	h("GET /console/rotations", c.user(c.serveRotations))
	h("GET /console/rotations/new", c.user(c.serveNewRotation))
	h("POST /console/rotations", c.form(c.user(c.saveRotation)))
	h("GET /console/rotations/{id}", c.user(c.serveRotation))
	h("POST /console/rotations/{id}", c.form(c.user(c.saveRotation)))
	h("POST /console/rotations/{id}/delete", c.form(c.user(c.deleteRotation)))
	h("GET /console/events", c.user(c.serveEvents))
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}

// securityHeaders keeps the pages from being framed or from loading
// anything but their own assets.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// ---- sessions ----

// session is a signed-in user.
type session struct {
	user    store.User
	expires time.Time
}

type ctxKey int

const sessionKey ctxKey = 1

func sessionOf(r *http.Request) session {
	s, _ := r.Context().Value(sessionKey).(session)
	return s
}

// mac signs text with key, base64url without padding.
func mac(key []byte, text string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(text))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sessionValue is the cookie of a session of userID until expires:
// "v1.<user id>.<expiry, unix seconds>.<nonce>.<signature>".
func (c *Console) sessionValue(userID string, expires time.Time) (string, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	body := fmt.Sprintf("v1.%s.%d.%s", userID, expires.Unix(), base64.RawURLEncoding.EncodeToString(nonce))
	return body + "." + mac(c.sessionKey, body), nil
}

// errNoSession is a missing, forged, malformed or expired session.
var errNoSession = errors.New("no valid session")

// readSession checks the session cookie: its signature, its expiry and
// that its user still exists.
func (c *Console) readSession(r *http.Request) (session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, errNoSession
	}
	i := strings.LastIndexByte(ck.Value, '.')
	if i < 0 || !hmac.Equal([]byte(ck.Value[i+1:]), []byte(mac(c.sessionKey, ck.Value[:i]))) {
		return session{}, errNoSession
	}
	parts := strings.Split(ck.Value[:i], ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return session{}, errNoSession
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || !c.clock.Now().Before(time.Unix(exp, 0)) {
		return session{}, errNoSession
	}
	u, err := c.store.UserByID(r.Context(), parts[1])
	if errors.Is(err, store.ErrNotFound) {
		return session{}, errNoSession
	}
	if err != nil {
		return session{}, fmt.Errorf("read user: %w", err)
	}
	return session{user: u, expires: time.Unix(exp, 0)}, nil
}

// user runs next for a signed-in user; anyone else gets the sign-in page,
// which returns to this page (with its query) once signed in.
func (c *Console) user(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.readSession(r)
		if err != nil && !errors.Is(err, errNoSession) {
			c.internal(w, r, err)
			return
		}
		if err != nil {
			if r.Method == http.MethodGet && r.URL.Path != "/console/events" {
				to := "/console/signin?next=" + urlQueryEscape(r.URL.RequestURI())
				if _, err := r.Cookie(sessionCookie); err == nil {
					to += "&notice=" + urlQueryEscape("Your session has ended. Sign in again.")
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			}
			c.refusal(w, r, http.StatusUnauthorized, "Your session has ended or is not valid. Sign in again.")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey, s)))
	}
}

// ---- CSRF ----

// csrfToken returns the form token of the request's CSRF cookie, setting
// a new cookie when there is none.
func (c *Console) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 22 {
		return mac(c.csrfKey, ck.Value)
	}
	return c.newCSRF(w, r)
}

// newCSRF sets a fresh CSRF cookie and returns its form token.
func (c *Console) newCSRF(w http.ResponseWriter, r *http.Request) string {
	nonce := make([]byte, 18)
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail
	}
	v := base64.RawURLEncoding.EncodeToString(nonce)
	http.SetCookie(w, c.cookie(r, csrfCookie, v, time.Time{}))
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v})
	return mac(c.csrfKey, v)
}

// maxFormBytes bounds a form: a config document or rotation script and
// the other fields.
const maxFormBytes = sentinel.MaxConfigBytes + 64<<10

// form checks a POST's CSRF token against its cookie before next runs,
// with the body bounded.
func (c *Console) form(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		var err error
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			err = r.ParseMultipartForm(maxFormBytes)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				c.refusal(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than %d bytes.", maxFormBytes))
				return
			}
			c.refusal(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
			return
		}
		ck, err := r.Cookie(csrfCookie)
		if err != nil || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(mac(c.csrfKey, ck.Value))) {
			c.refusal(w, r, http.StatusForbidden, "This form has no valid security token (it may come from another site, or from an old page). Reload the page and try again.")
			return
		}
		next(w, r)
	}
}

// cookie is one of the console's cookies: HttpOnly, SameSite=Strict,
// Secure over TLS; a session cookie when expires is zero.
func (c *Console) cookie(r *http.Request, name, value string, expires time.Time) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil}
	if !expires.IsZero() {
		ck.Expires = expires
	}
	return ck
}
