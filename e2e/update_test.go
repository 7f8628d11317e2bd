package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"aead.dev/minisign"

	"wowlab/internal/release"
	"wowlab/node"
	"wowlab/node/update"
)

// feedServer serves the release directory it currently points at, counts
// the listings, and can change archives on the way out.
type feedServer struct {
	mu       sync.Mutex
	dir      string
	mangle   func(name string, raw []byte) []byte
	listings atomic.Int64
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	dir, mangle := f.dir, f.mangle
	f.mu.Unlock()
	name := filepath.Base(r.URL.Path)
	if name == update.IndexFile {
		defer f.listings.Add(1)
	}
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if mangle != nil {
		raw = mangle(name, raw)
	}
	w.Write(raw)
}

// publish points the feed at dir and waits until the node listed it twice,
// so it has certainly seen it.
func (f *feedServer) publish(t *testing.T, dir string, mangle func(string, []byte) []byte) {
	t.Helper()
	f.mu.Lock()
	f.dir, f.mangle = dir, mangle
	f.mu.Unlock()
	start := f.listings.Load()
	waitFor(t, "the node to list the releases twice", time.Minute, func() bool { return f.listings.Load() >= start+2 })
}

func buildRelease(t *testing.T, version string, key minisign.PrivateKey, p update.Platform) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), version)
	if _, err := release.Build(context.Background(), release.Options{
		Root: "..", Version: version, OutDir: out, Key: key, Binaries: []string{"node-headless"},
		Platforms: []update.Platform{p}, Notes: "Node " + version + ".\n", Epoch: time.Unix(1_700_000_000, 0),
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSelfUpdateMidJob is issue 13's acceptance: a release-built node
// 1.0.0 working on a job finds 1.1.0 in a local feed, drains as ctl finish
// does (its running and queued chunks are completed first), installs it,
// restarts in place as 1.1.0 with the same identity, and the job completes
// with the local engine's result.
// Then a bad 1.2.0 in each way is refused (or not offered) while the node
// keeps running 1.1.0, and update --rollback brings 1.0.0 back.
func TestSelfUpdateMidJob(t *testing.T) {
	here, err := update.PlatformFor(runtime.GOOS, runtime.GOARCH)
	if err != nil || runtime.GOOS == "windows" {
		t.Skip("needs a Unix release platform")
	}
	pub, key, _ := minisign.GenerateKey(nil)
	_, otherKey, _ := minisign.GenerateKey(nil)
	v100 := buildRelease(t, "1.0.0", key, here)
	v110 := buildRelease(t, "1.1.0", key, here)
	v120 := buildRelease(t, "1.2.0", key, here)
	v120other := buildRelease(t, "1.2.0", otherKey, here)
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, update.IndexFile), []byte("[]"), 0o644)

	feed := &feedServer{dir: empty}
	srv := httptest.NewServer(feed)
	defer srv.Close()

	c := newCluster(t, clusterOptions{})
	archive, err := os.ReadFile(filepath.Join(v100, here.ArchiveName("node-headless", "v1.0.0")))
	if err != nil {
		t.Fatal(err)
	}
	exe, err := update.Extract(here, "node-headless", archive)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.dir, "bin", "node-headless")
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	n := c.startNodeBinary(path, "updating", c.url,
		"--feed", srv.URL, "--update-key", pub.String(), "--update-interval", "1s",
		// This machine may be a container itself; the binary is the test's.
		"--update-in-container")
	cfgDir := filepath.Join(c.dir, "updating")
	before, err := node.LoadConfig(cfgDir, nil)
	if err != nil || before.NodeID == "" {
		t.Fatalf("config before: %+v %v", before, err)
	}

	// Hour-long fights make the job last many times longer than the update
	// takes, so the update lands while the node holds chunks.
	cfg := writeConfig(t, c.dir, 3600, nil)
	const iterations = 100_000
	id := c.submit(cfg, iterations)
	n.waitOutput(t, regexp.MustCompile(`chunk \S+: completed`), time.Minute)
	c.requireUnfinished(id)
	feed.mu.Lock()
	feed.dir = v110
	feed.mu.Unlock()
	n.waitOutput(t, regexp.MustCompile(`updated from v1\.0\.0 to v1\.1\.0; restarting`), 2*time.Minute)
	if before, _, _ := strings.Cut(n.out.String(), "restarting"); !strings.Contains(before, "finished: every chunk is done") {
		t.Fatal("the node did not finish its chunks before the update")
	}
	n.waitOutput(t, regexp.MustCompile(`node-headless v1\.1\.0 on `), time.Minute)
	// 100 hour-long chunks on two workers take minutes on a busy machine.
	j := c.waitJob(id, 6*time.Minute)
	checkEqualsLocal(t, j, localResult(t, cfg, iterations))
	_, restarted, _ := strings.Cut(n.out.String(), "restarting")
	if !regexp.MustCompile(`chunk \S+: completed`).MatchString(restarted) {
		t.Fatal("the job did not go on after the restart: the update did not happen mid-job")
	}
	after, err := node.LoadConfig(cfgDir, nil)
	if err != nil || after.NodeID != before.NodeID {
		t.Fatalf("node id %q after the update, %q before (%v)", after.NodeID, before.NodeID, err)
	}
	if k := strings.Count(n.out.String(), "Claim code:"); k != 1 {
		t.Fatalf("the node showed %d claim codes: the restarted node must keep its claim", k)
	}
	if !n.running() {
		t.Fatal("the node is not running after the update")
	}

	archive120 := here.ArchiveName("node-headless", "v1.2.0")
	const refusedLine = "update refused; the node keeps running its version"
	for _, tc := range []struct {
		name    string
		dir     string
		mangle  func(string, []byte) []byte
		refusal string // in the log line; "" when the release is not offered at all
	}{
		{"one byte changed", v120, func(name string, raw []byte) []byte {
			if name == archive120 {
				raw = bytes.Clone(raw)
				raw[len(raw)/2] ^= 1
			}
			return raw
		}, "SHA-256"},
		{"signed with another key", v120other, nil, "not signed by a trusted release key"},
		{"truncated download", v120, func(name string, raw []byte) []byte {
			if name == archive120 {
				return raw[:len(raw)/2]
			}
			return raw
		}, "truncated"},
		{"lower version", v100, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Two listings after the switch: whatever the node did with the
			// previous case's release is logged before this point.
			feed.publish(t, tc.dir, tc.mangle)
			from := len(n.out.String())
			since := func() string { return n.out.String()[from:] }
			if tc.refusal != "" {
				// A refused release is tried again at every check.
				waitFor(t, "the refusal to be logged", time.Minute, func() bool {
					return strings.Contains(since(), refusedLine) && strings.Contains(since(), tc.refusal)
				})
			} else {
				start := feed.listings.Load()
				waitFor(t, "two more checks", time.Minute, func() bool { return feed.listings.Load() >= start+2 })
				if strings.Contains(since(), refusedLine) {
					t.Fatalf("a lower version was tried:\n%s", since())
				}
			}
			if !n.running() || strings.Contains(n.out.String(), "to v1.2.0") {
				t.Fatal("the node stopped or installed the bad release")
			}
			if v := strings.TrimSpace(run(t, path, "version")); v != "node-headless v1.1.0" {
				t.Fatalf("binary on disk is %s", v)
			}
		})
	}

	n.stop(t, syscall.SIGTERM, 30*time.Second)
	out := run(t, path, "update", "--rollback", "--config-dir", cfgDir, "--update-in-container")
	if !strings.Contains(out, "rolled back from v1.1.0 to v1.0.0") {
		t.Fatalf("rollback printed %q", out)
	}
	if v := strings.TrimSpace(run(t, path, "version")); v != "node-headless v1.0.0" {
		t.Fatalf("after rollback the binary is %s", v)
	}
}
