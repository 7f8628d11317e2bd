package nodecmd

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"aead.dev/minisign"

	"wowlab/internal/release"
	"wowlab/node/update"
)

// releases are node-headless 1.0.0 and 1.1.0 for this platform, built by
// the release builder with a throwaway key, shared by the tests below.
type releases struct {
	v100, v110 string // release directories
	bin100     []byte // the 1.0.0 binary
	pub        minisign.PublicKey
	key        minisign.PrivateKey
	here       update.Platform
}

var (
	builtOnce sync.Once
	built     *releases
	buildErr  error
)

func buildReleases(t *testing.T) *releases {
	t.Helper()
	if testing.Short() {
		t.Skip("builds node-headless twice")
	}
	here, err := update.PlatformFor(runtime.GOOS, runtime.GOARCH)
	if err != nil || runtime.GOOS == "windows" {
		t.Skip("needs a Unix release platform")
	}
	builtOnce.Do(func() {
		dir, err := os.MkdirTemp("", "node-headless-releases-")
		if err != nil {
			buildErr = err
			return
		}
		pub, key, err := minisign.GenerateKey(nil)
		if err != nil {
			buildErr = err
			return
		}
		r := &releases{v100: filepath.Join(dir, "1.0.0"), v110: filepath.Join(dir, "1.1.0"), pub: pub, key: key, here: here}
		for v, out := range map[string]string{"1.0.0": r.v100, "1.1.0": r.v110} {
			if _, buildErr = release.Build(context.Background(), release.Options{
				Root: "../..", Version: v, OutDir: out, Key: key, Binaries: []string{headlessName},
				Platforms: []update.Platform{here}, Notes: "Node " + v + " notes.\n", Epoch: time.Unix(1_700_000_000, 0),
			}); buildErr != nil {
				return
			}
		}
		archive, err := os.ReadFile(filepath.Join(r.v100, here.ArchiveName(headlessName, "v1.0.0")))
		if err != nil {
			buildErr = err
			return
		}
		r.bin100, buildErr = update.Extract(here, headlessName, archive)
		built = r
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

// variant copies a release directory, renaming its archives with rename
// and signing the new SHA256SUMS with key.
func variant(t *testing.T, src string, key minisign.PrivateKey, rename func(string) string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	archives := map[string][]byte{}
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".zip") {
			raw, _ := os.ReadFile(filepath.Join(src, n))
			archives[rename(n)] = raw
		}
	}
	files := map[string][]byte{}
	for n, raw := range archives {
		files[n] = raw
	}
	sums := release.Sums(archives)
	files[update.SumsFile] = sums
	files[update.SignatureFile] = release.Sign(key, sums, "v1.1.0", 1_700_000_000)
	index, err := release.Index("v1.1.0", "notes", files)
	if err != nil {
		t.Fatal(err)
	}
	files[update.IndexFile] = index
	for n, raw := range files {
		if err := os.WriteFile(filepath.Join(dst, n), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// serveDir serves dir, passing each file through mangle when it is set.
func serveDir(t *testing.T, dir string, mangle func(name string, raw []byte) []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if mangle != nil {
			raw = mangle(name, raw)
		}
		w.Write(raw)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// node is an installed node-headless binary with its own config directory.
type installedNode struct {
	path, configDir string
	pub             minisign.PublicKey
}

func install(t *testing.T, bin []byte, pub minisign.PublicKey) installedNode {
	t.Helper()
	dir := t.TempDir()
	n := installedNode{path: filepath.Join(dir, "bin", headlessName), configDir: filepath.Join(dir, "config"), pub: pub}
	if err := os.MkdirAll(filepath.Dir(n.path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return n
}

// run runs the installed binary with the update settings of a test feed.
func (n installedNode) run(t *testing.T, feed string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.path, args...)
	cmd.Env = append(os.Environ(),
		"WOWLAB_NODE_CONFIG_DIR="+n.configDir, "WOWLAB_UPDATE_FEED="+feed,
		// This machine may itself be a container; the binary lives in a
		// temporary directory the test owns.
		"WOWLAB_UPDATE_IN_CONTAINER=true")
	if feed != "" {
		cmd.Args = append(cmd.Args, "--update-key", n.pub.String())
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", n.path, args, err)
	}
	return string(out), code
}

func (n installedNode) version(t *testing.T) string {
	t.Helper()
	out, code := n.run(t, "", "version")
	if code != 0 {
		t.Fatalf("version: %d %s", code, out)
	}
	return strings.TrimSpace(out)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built != nil {
		os.RemoveAll(filepath.Dir(built.v100))
	}
	os.Exit(code)
}

// TestUpdateAndRollbackRealBinary updates a release-built 1.0.0 to 1.1.0
// from a local feed the release builder wrote, then rolls back.
func TestUpdateAndRollbackRealBinary(t *testing.T) {
	r := buildReleases(t)
	feed := serveDir(t, r.v110, nil)
	n := install(t, r.bin100, r.pub)

	out, code := n.run(t, feed, "update", "--check")
	if code != 0 || !strings.Contains(out, "available: v1.1.0") || !strings.Contains(out, "Node 1.1.0 notes.") || !strings.Contains(out, "automatic updates: on") {
		t.Fatalf("update --check: %d\n%s", code, out)
	}
	if v := n.version(t); v != "node-headless v1.0.0" {
		t.Fatalf("--check changed the binary: %s", v)
	}
	out, code = n.run(t, feed, "update")
	if code != 0 || !strings.Contains(out, "from v1.0.0 to v1.1.0") {
		t.Fatalf("update: %d\n%s", code, out)
	}
	if v := n.version(t); v != "node-headless v1.1.0" {
		t.Fatalf("after update: %s", v)
	}
	out, code = n.run(t, feed, "update")
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second update: %d\n%s", code, out)
	}
	out, code = n.run(t, feed, "update", "--rollback")
	if code != 0 || !strings.Contains(out, "rolled back from v1.1.0 to v1.0.0") {
		t.Fatalf("rollback: %d\n%s", code, out)
	}
	if v := n.version(t); v != "node-headless v1.0.0" {
		t.Fatalf("after rollback: %s", v)
	}
	if held, _ := os.ReadFile(filepath.Join(n.configDir, holdFile)); strings.TrimSpace(string(held)) != "v1.1.0" {
		t.Fatalf("hold file holds %q", held)
	}
	out, code = n.run(t, feed, "update", "--check", "--no-update")
	if code != 0 || !strings.Contains(out, "automatic updates: off (--no-update") {
		t.Fatalf("--check --no-update: %d\n%s", code, out)
	}
}

// TestUpdateRefusalsRealBinary serves a bad 1.1.0 in each way to a 1.0.0
// binary: each is refused with a clear line and the binary is unchanged.
func TestUpdateRefusalsRealBinary(t *testing.T) {
	r := buildReleases(t)
	_, otherKey, _ := minisign.GenerateKey(nil)
	other := update.Platforms()[3] // darwin/arm64
	if other == r.here {
		other = update.Platforms()[0]
	}
	archive := r.here.ArchiveName(headlessName, "v1.1.0")
	cases := []struct {
		name string
		feed func(t *testing.T) string
		bin  []byte
		want string
		code int
	}{
		{"one byte changed", func(t *testing.T) string {
			return serveDir(t, r.v110, func(name string, raw []byte) []byte {
				if name == archive {
					raw = bytes.Clone(raw)
					raw[len(raw)/2] ^= 0x20
				}
				return raw
			})
		}, r.bin100, "SHA-256", 1},
		{"signed with another key", func(t *testing.T) string {
			return serveDir(t, variant(t, r.v110, otherKey, func(n string) string { return n }), nil)
		}, r.bin100, "not signed by a trusted release key", 1},
		{"another platform", func(t *testing.T) string {
			return serveDir(t, variant(t, r.v110, r.key, func(n string) string { return other.ArchiveName(headlessName, "v1.1.0") }), nil)
		}, r.bin100, "up to date", 0},
		{"another binary", func(t *testing.T) string {
			return serveDir(t, variant(t, r.v110, r.key, func(n string) string { return strings.Replace(n, headlessName, "engine", 1) }), nil)
		}, r.bin100, "up to date", 0},
		{"a platform's archive holding another", func(t *testing.T) string {
			// The right name, but the archive is built for 1.0.0 and says so.
			return serveDir(t, variant(t, r.v100, r.key, func(n string) string { return strings.Replace(n, "v1.0.0", "v1.1.0", 1) }), nil)
		}, r.bin100, "says it is v1.0.0", 1},
		{"truncated download", func(t *testing.T) string {
			return serveDir(t, r.v110, func(name string, raw []byte) []byte {
				if name == archive {
					return raw[:len(raw)/3]
				}
				return raw
			})
		}, r.bin100, "truncated", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := install(t, tc.bin, r.pub)
			out, code := n.run(t, tc.feed(t), "update")
			t.Logf("%s", out)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("update: exit %d, want %d with %q:\n%s", code, tc.code, tc.want, out)
			}
			if v := n.version(t); v != "node-headless v1.0.0" {
				t.Fatalf("binary is now %s", v)
			}
			if entries, _ := os.ReadDir(filepath.Dir(n.path)); len(entries) != 1 {
				t.Fatalf("left files beside the binary: %v", entries)
			}
		})
	}
	t.Run("lower version", func(t *testing.T) {
		n := install(t, r.bin100, r.pub)
		if out, code := n.run(t, serveDir(t, r.v110, nil), "update"); code != 0 {
			t.Fatalf("update to 1.1.0: %d %s", code, out)
		}
		out, code := n.run(t, serveDir(t, r.v100, nil), "update")
		if code != 0 || !strings.Contains(out, "up to date: no newer release of node-headless for "+r.here.String()+" above v1.1.0") {
			t.Fatalf("update against a feed of 1.0.0: %d\n%s", code, out)
		}
		if v := n.version(t); v != "node-headless v1.1.0" {
			t.Fatalf("binary is now %s", v)
		}
	})
}
