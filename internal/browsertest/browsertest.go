// Package browsertest runs headless Chromium for browser tests through
// chromedp. Tests call New for a browser tab; Shot saves a screenshot.
//
// Chromium is found on PATH (Debian's chromium package, which
// scripts/test installs). Without it a test is skipped with a message,
// unless WOWLAB_REQUIRE_BROWSER=1 (set by scripts/test) makes it fail.
// Screenshots go to the test's temporary directory, or to the directory
// WOWLAB_SCREENSHOTS names, which keeps them for a person to look at.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium with one tab.
type Browser struct {
	t   testing.TB
	Ctx context.Context // the tab: pass it to chromedp.Run
}

// find returns Chromium's path.
func find() (string, bool) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// New starts Chromium with a window of width x height and returns its tab.
// The browser stops and its profile is removed when the test ends.
func New(t testing.TB, width, height int) *Browser {
	t.Helper()
	path, ok := find()
	if !ok {
		if os.Getenv("WOWLAB_REQUIRE_BROWSER") == "1" {
			t.Fatal("Chromium is not installed (Debian: apt-get install chromium)")
		}
		t.Skip("Chromium is not installed (Debian: apt-get install chromium); skipping the browser test")
	}
	// Chromium keeps its singleton socket in TMPDIR and leaves it there
	// when it is killed: give it the test's own directory.
	tmp := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Env("TMPDIR=" + tmp),
		chromedp.UserDataDir(filepath.Join(tmp, "profile")),
		chromedp.WindowSize(width, height),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTime := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &Browser{t: t, Ctx: ctx}
}

// Do runs actions in the tab, failing the test on an error.
func (b *Browser) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression in the page and returns its
// value; a promise is awaited.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Shot saves a screenshot of the whole page as name.png and returns its path.
func (b *Browser) Shot(name string) string {
	b.t.Helper()
	dir := os.Getenv("WOWLAB_SCREENSHOTS")
	if dir == "" {
		dir = b.t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	png, err := b.capture()
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// shotAttempt bounds one capture: a capture begun while the page
// reloads itself (the console does on a state change) may never answer.
const shotAttempt = 15 * time.Second

// capture takes a full-page screenshot, starting again in the reloaded
// page when an attempt does not answer, for up to a minute.
func (b *Browser) capture() ([]byte, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(b.Ctx, shotAttempt)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err == nil || b.Ctx.Err() != nil || time.Now().After(deadline) {
			return png, err
		}
	}
}

// WaitText waits until the element matching sel holds text containing want.
func (b *Browser) WaitText(sel, want string) {
	b.t.Helper()
	js := `(() => { const e = document.querySelector(` + quote(sel) + `); return !!e && e.offsetParent !== null && e.textContent.includes(` + quote(want) + `); })()`
	b.WaitJS(sel+" to show "+want, js, time.Minute)
}

// WaitJS waits until the expression is true. A page may reload itself
// while it is waited on (the console does on a state change): a poll that
// the navigation ended is started again in the new page, until the timeout.
func (b *Browser) WaitJS(what, expr string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			b.t.Fatalf("wait for %s: %v", what, chromedp.ErrPollingTimeout)
		}
		err := chromedp.Do(b.Ctx, chromedp.WaitReady(chromedp.CSS("body")))
		if err == nil {
			_, err = chromedp.Run(b.Ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(left)))
		}
		if err == nil {
			return
		}
		if !navigated(err) || b.Ctx.Err() != nil {
			b.t.Fatalf("wait for %s: %v", what, err)
		}
	}
}

// navigated tells whether err is Chromium's answer to an evaluation whose
// page went away under it (a reload or a navigation).
func navigated(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Inspected target navigated or closed") ||
		strings.Contains(msg, "Execution context was destroyed") ||
		strings.Contains(msg, "Cannot find context with specified id")
}

func quote(s string) string {
	out := []byte{'"'}
	for _, r := range s {
		switch r {
		case '"', '\\':
			out = append(out, '\\', byte(r))
		case '\n':
			out = append(out, '\\', 'n')
		default:
			out = append(out, string(r)...)
		}
	}
	return string(append(out, '"'))
}
