package console_test

// The console in a real browser: headless Chromium (internal/browsertest)
// against a whole sentinel on SQLite and a real node from the node
// library. Screenshots of a 1280x800 window go to a temporary directory,
// or to $WOWLAB_SCREENSHOTS when set, to be looked at.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"wowlab/internal/browsertest"
	"wowlab/node"
	"wowlab/node/policy"
	"wowlab/sentinel"
	"wowlab/sentinel/server"
	"wowlab/sentinel/store/sqlite"
)

// offsetClock is the system clock moved forward by an offset the test
// sets, to let sessions expire.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// testLog writes log lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// cluster is a sentinel on SQLite with one user.
type cluster struct {
	srv   *server.Server
	svc   *sentinel.Service
	clock *offsetClock
	url   string
	anon  string
	user  string
	token string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sentinel.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	secret := []byte(strings.Repeat("k", 32))
	clk := &offsetClock{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.Start(server.Config{Store: st, JWTSecret: secret, Clock: clk, Logger: log}, ln)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Error(err)
		}
	})
	anon, err := sentinel.AnonKey(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, tok, err := srv.Service().AddUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{srv: srv, svc: srv.Service(), clock: clk, url: srv.URL(), anon: anon, user: u.ID, token: tok}
}

// startNode runs a node of the node library against the cluster and
// returns its claim code once it waits to be claimed.
func (c *cluster) startNode(t *testing.T) string {
	t.Helper()
	core, err := node.New(node.Options{
		ConfigDir: t.TempDir(),
		Overrides: node.Overrides{APIURL: c.url, SentinelURL: c.url, AnonKey: c.anon},
		Policy:    policy.Overrides{"cores": "1"},
		Version:   "browser-test",
		Logger:    slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		// Chunks of 1000, as an original node takes: the job's page draws
		// the histogram of its chunks' means, which needs several.
		FixedChunks: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	events, unsubscribe := core.Subscribe(64)
	defer unsubscribe()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = core.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == node.StateChanged && e.State.Phase == node.Claiming && e.State.ClaimCode != "" {
				return e.State.ClaimCode
			}
		case <-deadline:
			t.Fatal("the node did not register")
		}
	}
}

// browser is the console's tab: browsertest's, with numbered screenshots.
type browser struct {
	*browsertest.Browser
	t    *testing.T
	shot int
}

func newBrowser(t *testing.T) *browser {
	return &browser{Browser: browsertest.New(t, 1280, 800), t: t}
}

// stepTimeout bounds one step, so that a stuck one fails with its name.
const stepTimeout = 90 * time.Second

func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(step, " ", "-"))
		b.t.Fatalf("%s: %v", step, err)
	}
}

// get runs one action returning a value.
func get[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	return v
}

// screenshot saves the page as console-NN-name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.shot++
	b.Shot(fmt.Sprintf("console-%02d-%s", b.shot, name))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (b *browser) location() string {
	b.t.Helper()
	return get(b, "location", chromedp.Location())
}

func TestConsoleInABrowser(t *testing.T) {
	c := startCluster(t)
	code := c.startNode(t)
	b := newBrowser(t)

	// The claim page, opened from the node's message, asks to sign in first.
	b.run("open the claim page", chromedp.Navigate(c.url+"/claim?code="+code), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	if loc := b.location(); !strings.Contains(loc, "/console/signin?next=%2Fclaim%3Fcode%3D"+code) {
		t.Fatalf("claim page without a session went to %s", loc)
	}
	b.screenshot("signin")
	b.run("a bad token", chromedp.SendKeys(chromedp.CSS(`#token`), "wlu_not-a-token"), chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`.error`)))
	if msg := b.text(".error"); !strings.Contains(msg, "not a user token") {
		t.Fatalf("bad token answered %q", msg)
	}
	b.screenshot("bad-token")
	b.run("sign in", chromedp.SetValue(chromedp.CSS(`#token`), c.token), chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`#claim-node`)))
	codeField := get(b, "the code is filled in", chromedp.Value(chromedp.CSS(`#code`)))
	if codeField != code {
		t.Fatalf("claim code field %q, want %q", codeField, code)
	}
	b.screenshot("claim")

	// Claim it; the nodes page follows it coming online.
	b.run("claim", chromedp.SendKeys(chromedp.CSS(`#name`), "desk"), chromedp.Click(chromedp.CSS(`#claim`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-node] .status-online`)))
	nodes, err := c.svc.UserNodes(context.Background(), c.user)
	if err != nil || len(nodes) != 1 || nodes[0].Name != "desk" {
		t.Fatalf("alice's nodes after the claim: %+v %v", nodes, err)
	}
	b.screenshot("nodes-online")

	// A config the engine refuses is refused at submit, with its message.
	b.run("submit an invalid config", chromedp.Navigate(c.url+"/console/jobs"), chromedp.WaitVisible(chromedp.CSS(`#config`)),
		chromedp.SendKeys(chromedp.CSS(`#config`), `{}`), chromedp.Submit(chromedp.CSS(`#config`)),
		chromedp.WaitVisible(chromedp.CSS(`.error`)))
	if msg := b.text(".error"); !strings.Contains(msg, "player: missing") {
		t.Fatalf("invalid config answered %q", msg)
	}
	b.screenshot("invalid-config")

	// A job of the bundled quick example: its bar goes to 100% and its
	// result shows.
	b.run("submit a job", chromedp.Navigate(c.url+"/console/jobs"), chromedp.WaitVisible(chromedp.CSS(`#iterations`)),
		chromedp.SetValue(chromedp.CSS(`#example`), "quick"), chromedp.SetValue(chromedp.CSS(`#iterations`), "30000"),
		chromedp.Submit(chromedp.CSS(`#iterations`)), chromedp.WaitVisible(chromedp.CSS(`[data-job]`)))
	// The bar moves with the job's events; the screenshot catches it on the
	// way when the job is not already done.
	b.WaitJS("the job's bar to move", `(() => { const c = document.querySelector('[data-job]'); const bar = c && c.querySelector('[data-field="bar"]');
		if (!bar) return false; const p = Number(bar.dataset.percent);
		return (p > 0 && p < 100) || c.dataset.status === 'completed'; })()`, time.Minute)
	b.screenshot("job-running")
	b.run("the job completes", chromedp.WaitVisible(chromedp.CSS(`[data-job] .result`)))
	width := get(b, "the bar is full", chromedp.AttributeValue(chromedp.CSS(`[data-job] [data-field="bar"]`), "data-percent")).Value
	if width != "100" {
		t.Fatalf("the bar of the completed job is at %s%%", width)
	}
	result := b.text("[data-job] .result")
	for _, want := range []string{"Mean DPS", "Std", "Min", "Max", "Iterations", "30 000", "Chunks", "Wall time"} {
		if !strings.Contains(strings.ToLower(strings.ReplaceAll(result, "\u2009", " ")), strings.ToLower(want)) {
			t.Errorf("result %q lacks %q", result, want)
		}
	}
	b.screenshot("job-completed")
	b.run("the job's page", chromedp.Click(chromedp.CSS(`[data-job] header a`)), chromedp.WaitVisible(chromedp.CSS(`svg.histogram`)))
	b.screenshot("job-page")

	// A rotation with a misspelled spell: the engine's message with its path.
	b.run("validate a rotation", chromedp.Navigate(c.url+"/console/rotations/new"), chromedp.WaitVisible(chromedp.CSS(`#script`)),
		chromedp.SetValue(chromedp.CSS(`#name`), "Single target"),
		chromedp.SetValue(chromedp.CSS(`#script`), `{"actions":[{"cast":"kill_comand"},{"cast":"cobra_shot"}]}`),
		chromedp.Click(chromedp.CSS(`#validate`)), chromedp.WaitVisible(chromedp.CSS(`#problems`)))
	if p := b.text("#problems"); !strings.Contains(p, "actions[0].cast") || !strings.Contains(p, `did you mean "kill_command"`) {
		t.Fatalf("problems %q", p)
	}
	b.screenshot("rotation-problems")
	b.run("save a fixed rotation", chromedp.SetValue(chromedp.CSS(`#script`), `{"actions":[{"cast":"kill_command"},{"cast":"cobra_shot"}]}`),
		chromedp.Click(chromedp.CSS(`#save`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	b.screenshot("rotation-saved")

	// A form posted from another site is refused, and changes nothing.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<form id="f" method="post" action="%s/console/nodes/%s/remove"><input name="csrf" value="guess"></form>
<script>document.getElementById("f").submit()</script>`, c.url, nodes[0].ID)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	b.run("a cross-site form post", chromedp.Navigate(evilURL), chromedp.WaitVisible(chromedp.CSS(`.error`)))
	if msg := b.text(".error"); !strings.Contains(msg, "another site") && !strings.Contains(msg, "security token") {
		t.Fatalf("cross-site post answered %q", msg)
	}
	b.screenshot("cross-site-refused")
	if nodes, err := c.svc.UserNodes(context.Background(), c.user); err != nil || len(nodes) != 1 {
		t.Fatalf("the cross-site post removed the node: %+v %v", nodes, err)
	}

	// Signing out ends the session; a session past its lifetime is refused.
	b.run("sign out", chromedp.Navigate(c.url+"/console/jobs"), chromedp.WaitVisible(chromedp.CSS(`.signout button`)),
		chromedp.Click(chromedp.CSS(`.signout button`)), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	b.run("sign in again", chromedp.SetValue(chromedp.CSS(`#token`), c.token), chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`#submit-job`)))
	c.clock.offset.Store(int64(13 * time.Hour))
	b.run("an expired session", chromedp.Navigate(c.url+"/console/nodes"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	if loc := b.location(); !strings.Contains(loc, "/console/signin") {
		t.Fatalf("an expired session reached %s", loc)
	}
	if msg := b.text(".notice"); !strings.Contains(msg, "Your session has ended") {
		t.Fatalf("an expired session was told %q", msg)
	}
	cookies, err := chromedp.Call(b.Ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range cookies.Cookies {
		if !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteStrict {
			t.Errorf("cookie %s: HttpOnly %v, SameSite %s", ck.Name, ck.HTTPOnly, ck.SameSite)
		}
	}
	b.screenshot("session-expired")
}
