package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"wowlab/internal/browsertest"
	"wowlab/node/control"
)

var dashboardLine = regexp.MustCompile(`dashboard: (http://\S+)/`)

// node-gui against the real sentinel on PostgreSQL, driven in headless
// Chromium the way a volunteer uses it: the claim code appears; claiming
// it through the sentinel turns the page to the dashboard without a
// reload; a job's chunks show progress and the completed count rises;
// Pause in the page pauses the node and the sentinel gives it nothing
// more; cores changed in the settings resize the pool; a log line shows in
// the logs view; stopping the sentinel shows the Unavailable view and its
// return (with Retry now) clears it.
func TestNodeGUI(t *testing.T) {
	c := newCluster(t, clusterOptions{})
	conn, err := pgx.Connect(ctx(t), c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx(t))
	cfg := filepath.Join(c.dir, "gui")
	gui := startProc(t, "gui", bin.gui, "run", "--config-dir", cfg, "--log-dir", filepath.Join(cfg, "logs"),
		"--sentinel-url", c.url, "--cores", "2", "--priority", "normal",
		"--no-browser", "--no-tray", "--listen", "127.0.0.1:0")
	dashboard := gui.waitOutput(t, dashboardLine, 30*time.Second)
	client, err := control.Dial(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if client.URL() != dashboard {
		t.Fatalf("control.url %s, printed dashboard %s", client.URL(), dashboard)
	}
	link, err := client.LoginLink(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t, 1280, 800)
	b.Do("open the dashboard", chromedp.Navigate(link))

	// The claim view, with the sentinel's claim page for the code.
	b.WaitText("#badge", "Waiting for claim")
	st, err := client.Status(ctx(t))
	if err != nil || len(st.ClaimCode) != 6 {
		t.Fatalf("status %+v %v", st, err)
	}
	code := st.ClaimCode
	b.WaitText("#claim-code", code[:3]+" "+code[3:])
	if href := browsertest.Eval[string](b, `document.getElementById("claim-link").href`); href != c.url+"/claim?code="+code {
		t.Fatalf("claim page link %q, want %s/claim?code=%s", href, c.url, code)
	}
	b.Shot("gui-claim-1280x800")
	browsertest.Eval[bool](b, "window.stillHere = true")

	c.admin("nodes", "claim", strings.ToLower(code[:3])+"-"+code[3:], "--user", c.userID, "--name", "gui", "--max-parallel", "2")
	b.WaitText("#badge", "Online")
	if !browsertest.Eval[bool](b, "window.stillHere === true") {
		t.Fatal("the page reloaded to leave the claim view")
	}
	st, _ = client.Status(ctx(t))
	nodeID := st.NodeID
	b.WaitText("#node-name", "gui")

	// A job: chunks in progress, then completed ones.
	job := c.submit(writeConfig(t, c.dir, 3600, nil), 40_000)
	b.WaitJS("a chunk in progress", `document.querySelectorAll("#chunks li.chunk").length > 0`, 2*time.Minute)
	b.WaitJS("completed chunks", `Number(document.getElementById("stat-completed").textContent.replace(/\D/g, "")) > 0`, 3*time.Minute)
	b.Shot("gui-dashboard-1280x800")

	// Pause in the page: the node pauses and the sentinel stops assigning.
	b.Do("pause", chromedp.Click(`#dash-controls button[data-action="pause"]`))
	b.WaitText("#badge", "Paused")
	waitFor(t, "the sentinel to see the node paused", 10*time.Second, func() bool { return c.nodeCapacity(conn, nodeID) == 0 })
	held := c.runningOn(conn, nodeID)
	waitFor(t, "the paused node to finish what it held", 3*time.Minute, func() bool {
		running := c.runningOn(conn, nodeID)
		for _, id := range running {
			if !slices.Contains(held, id) {
				t.Fatalf("chunk %s was assigned to the paused node", id)
			}
		}
		return len(running) == 0
	})
	c.requireUnfinished(job)
	b.Shot("gui-paused-1280x800")
	b.Do("resume", chromedp.Click(`#dash-controls button[data-action="resume"]`))
	b.WaitText("#badge", "Online")

	// Settings: one core resizes the pool and the sentinel's capacity.
	b.Do("settings", chromedp.Click(`button[data-view="settings"]`))
	b.WaitText("#settings-form", "Cores")
	b.Shot("gui-settings-1280x800")
	b.Do("one core", chromedp.SetValue(`#set-cores`, "1"), chromedp.Click(`#settings-form button[type="submit"]`))
	b.WaitText("#settings-ok", "Saved and applied")
	waitFor(t, "one worker", 30*time.Second, func() bool {
		s, err := client.Status(ctx(t))
		return err == nil && s.Stats.MaxWorkers == 1
	})
	waitFor(t, "capacity 1 at the sentinel", 30*time.Second, func() bool { return c.nodeCapacity(conn, nodeID) == 1 })

	// Logs: the pause made from the page is there.
	b.Do("logs", chromedp.Click(`button[data-view="logs"]`))
	b.WaitText("#log", "control: pause")
	b.Shot("gui-logs-1280x800")
	c.waitJob(job, 5*time.Minute)

	// The sentinel goes away: Unavailable; it comes back: Retry now
	// clears it.
	b.Do("dashboard", chromedp.Click(`button[data-view="dashboard"]`))
	c.sentinel.stop(t, syscall.SIGTERM, 30*time.Second)
	b.WaitJS("the Unavailable view", `document.getElementById("badge").textContent === "Unavailable"`, 2*time.Minute)
	if msg := browsertest.Eval[string](b, `document.getElementById("unavailable-error").textContent`); msg == "" {
		t.Fatal("the Unavailable view says nothing of what failed")
	}
	b.Shot("gui-unavailable-1280x800")
	c.startSentinel()
	// The node may already have tried again by itself.
	browsertest.Eval[bool](b, `(() => { const r = document.getElementById("retry-now"); if (r.offsetParent !== null) r.click(); return true; })()`)
	b.WaitJS("the node back online", fmt.Sprintf(`document.getElementById("badge").textContent === %q`, "Online"), 2*time.Minute)
}
