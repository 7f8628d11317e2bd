package browsertest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// reloadingPage reloads itself once while a test waits on it, as the
// console does when the state changes, and is done in its second life.
const reloadingPage = `<!doctype html><title>reload</title><body><script>
if (!sessionStorage.getItem('loaded')) {
  sessionStorage.setItem('loaded', '1');
  requestAnimationFrame(function () { setTimeout(function () { location.reload(); }, 100); });
} else {
  window.done = true;
}
</script></body>`

// openReloadingPage serves reloadingPage for the test and starts a browser.
func openReloadingPage(t *testing.T) (*Browser, string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(reloadingPage))
	}))
	t.Cleanup(srv.Close)
	return New(t, 400, 300), srv.URL
}

func TestWaitJSSurvivesAReload(t *testing.T) {
	b, url := openReloadingPage(t)
	b.Do("open the page", chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
	b.WaitJS("the page's second life", `window.done === true`, time.Minute)
	if loaded := Eval[string](b, `sessionStorage.getItem('loaded')`); loaded != "1" {
		t.Fatalf("the page did not go through its reload: loaded=%q", loaded)
	}
}

// A screenshot of a page that reloads itself comes back as a picture.
func TestShotOfAReloadingPage(t *testing.T) {
	b, url := openReloadingPage(t)
	b.Do("open the page", chromedp.Navigate(url))
	png, err := os.ReadFile(b.Shot("reloading"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("the screenshot is not a PNG: % x", png[:min(8, len(png))])
	}
}
