package console

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wowlab/sentinel/store"
	"wowlab/sentinel/store/sqlite"
)

func TestSafeNext(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/claim?code=ABCDEF", "/claim?code=ABCDEF"},
		{"/console/nodes", "/console/nodes"},
		{"", "/console/jobs"},
		{"https://evil.example/", "/console/jobs"},
		{"//evil.example/", "/console/jobs"},
		{"/\\evil.example", "/console/jobs"},
		{"/x\r\nSet-Cookie: a=b", "/console/jobs"},
	} {
		if got := safeNext(c.in); got != c.want {
			t.Errorf("safeNext(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1\u2009000"}, {1234567, "1\u2009234\u2009567"}, {-45000, "-45\u2009000"}} {
		if got := thousands(c.in); got != c.want {
			t.Errorf("thousands(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBinMeans(t *testing.T) {
	if binMeans([]float64{1, 2, 3}) != nil {
		t.Error("a histogram of three chunks")
	}
	h := binMeans([]float64{10, 10, 10, 10, 10, 10, 10, 20})
	if h == nil || h.Min != 10 || h.Max != 20 || h.Chunks != 8 || len(h.Bars) != 8 {
		t.Fatalf("histogram %+v", h)
	}
	total := 0
	for _, b := range h.Bars {
		total += b.Count
		if b.H < 0 || b.Y < 0 || b.Y+b.H > 160.0001 {
			t.Errorf("bar outside the view box: %+v", b)
		}
	}
	if total != 8 || h.Bars[0].Count != 7 || h.Bars[7].Count != 1 {
		t.Errorf("counts %+v", h.Bars)
	}
	if same := binMeans([]float64{5, 5, 5, 5, 5, 5, 5, 5}); same == nil || same.Bars[len(same.Bars)-1].Count != 8 {
		t.Errorf("equal means: %+v", same)
	}
}

// fixedClock is a clock a test sets.
type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }

// A session cookie is the console's only if its signature holds, it has
// not expired and its user exists; a CSRF token is bound to its cookie.
func TestSessionAndCSRFTokens(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sentinel.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	user := store.User{ID: "8d2f0a1e-1111-4111-8111-111111111111", Name: "alice", TokenHash: strings.Repeat("a", 64), CreatedAt: time.Unix(1_700_000_000, 0)}
	if err := st.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	clk := &fixedClock{now: time.Unix(1_800_000_000, 0)}
	secret := []byte(strings.Repeat("s", 32))
	c := &Console{store: st, sessionKey: derive(secret, "session"), csrfKey: derive(secret, "csrf"), clock: clk}
	other := &Console{sessionKey: derive([]byte(strings.Repeat("o", 32)), "session")}
	valid, err := c.sessionValue(user.ID, clk.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := other.sessionValue(user.ID, clk.now.Add(time.Hour))
	ghost, _ := c.sessionValue("9d2f0a1e-1111-4111-8111-111111111111", clk.now.Add(time.Hour))
	past, _ := c.sessionValue(user.ID, clk.now.Add(-time.Second))
	read := func(value string) error {
		r := httptest.NewRequest("GET", "/console/jobs", nil)
		if value != "" {
			r.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
		}
		s, err := c.readSession(r)
		if err == nil && s.user.ID != user.ID {
			t.Fatalf("session of %q", s.user.ID)
		}
		return err
	}
	if err := read(valid); err != nil {
		t.Fatalf("own session refused: %v", err)
	}
	for name, v := range map[string]string{
		"none":                  "",
		"another user, re-used": strings.Replace(valid, user.ID, "9d2f0a1e-1111-4111-8111-111111111111", 1),
		"another secret":        foreign,
		"a user that is gone":   ghost,
		"expired":               past,
		"malformed":             "v1.x",
		"no signature":          strings.TrimRight(valid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"),
	} {
		if err := read(v); !errors.Is(err, errNoSession) {
			t.Errorf("%s: %v, want errNoSession", name, err)
		}
	}
	clk.now = clk.now.Add(2 * time.Hour)
	if err := read(valid); !errors.Is(err, errNoSession) {
		t.Errorf("a session past its expiry: %v", err)
	}

	// CSRF: the form token is the cookie's MAC, so one cookie's token does
	// not pass with another cookie.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/console/jobs", nil)
	tok := c.newCSRF(w, r)
	if tok != c.csrfToken(httptest.NewRecorder(), r) {
		t.Fatal("the CSRF token changed within one request")
	}
	if tok == c.newCSRF(httptest.NewRecorder(), httptest.NewRequest("GET", "/console/jobs", nil)) {
		t.Fatal("two cookies share a CSRF token")
	}
	set := w.Result().Cookies()
	if len(set) != 1 || !set[0].HttpOnly || set[0].SameSite != http.SameSiteStrictMode || set[0].Path != "/" {
		t.Fatalf("CSRF cookie %+v", set)
	}
}

// A form without its CSRF token, or with another cookie's, is refused
// before its handler runs.
func TestFormNeedsItsCSRFToken(t *testing.T) {
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte(strings.Repeat("s", 32))
	c := &Console{csrfKey: derive(secret, "csrf"), pages: pages, clock: &fixedClock{now: time.Unix(1_800_000_000, 0)}, log: slog.New(slog.DiscardHandler)}
	ran := false
	h := c.form(func(w http.ResponseWriter, r *http.Request) { ran = true })
	post := func(cookie, token string) int {
		ran = false
		r := httptest.NewRequest("POST", "/console/jobs/x/cancel", strings.NewReader("csrf="+token))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: csrfCookie, Value: cookie})
		}
		w := httptest.NewRecorder()
		h(w, r)
		return w.Code
	}
	cookie := "Zm9yIHRoZSB0ZXN0LCBhIG5vbmNl"
	good := mac(c.csrfKey, cookie)
	if st := post(cookie, good); !ran || st != http.StatusOK {
		t.Fatalf("a form with its token: %d, ran %v", st, ran)
	}
	for name, args := range map[string][2]string{
		"no token":            {cookie, ""},
		"no cookie":           {"", good},
		"another cookie's":    {"YW5vdGhlciBub25jZSBhbHRvZ2V0aGVy", good},
		"the cookie as token": {cookie, cookie},
	} {
		if st := post(args[0], args[1]); ran || st != http.StatusForbidden {
			t.Errorf("%s: %d, ran %v", name, st, ran)
		}
	}
	// A body over the limit is refused from the form's size.
	r := httptest.NewRequest("POST", "/console/jobs", strings.NewReader("config="+strings.Repeat("x", maxFormBytes+1)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	ran = false
	h(w, r)
	if ran || w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a huge form: %d, ran %v", w.Code, ran)
	}
}
