package update_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"wowlab/internal/release"
	"wowlab/internal/version"
	"wowlab/node/update"
)

// fixture is a release directory served over HTTP with a throwaway key.
type fixture struct {
	dir    string
	srv    *httptest.Server
	key    minisign.PrivateKey
	pub    minisign.PublicKey
	here   update.Platform
	epoch  time.Time
	mangle func(name string, raw []byte) []byte // changes a file as served
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the test binaries are shell scripts")
	}
	here, err := update.PlatformFor(runtime.GOOS, runtime.GOARCH)
	if err != nil {
		t.Skip(err)
	}
	pub, key := testKey(t)
	f := &fixture{dir: t.TempDir(), key: key, pub: pub, here: here, epoch: time.Unix(1_700_000_000, 0)}
	if err := os.WriteFile(filepath.Join(f.dir, update.IndexFile), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func testKey(t *testing.T) (minisign.PublicKey, minisign.PrivateKey) {
	t.Helper()
	pub, key, err := minisign.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pub, key
}

func (f *fixture) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	raw, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(name)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if f.mangle != nil {
		raw = f.mangle(name, raw)
	}
	w.Write(raw)
}

// script is a stand-in binary whose version command prints line.
func script(line string) []byte {
	return []byte("#!/bin/sh\nif [ \"$1\" = version ]; then echo '" + line + "'; exit 0; fi\nexit 9\n")
}

// asset is one archive of a test release.
type asset struct {
	binary   string
	platform update.Platform
	exe      []byte
}

// publish writes a release of version with assets, its SHA256SUMS signed
// by key, and adds it to releases.json.
func (f *fixture) publish(t *testing.T, tag string, prerelease bool, key minisign.PrivateKey, assets ...asset) {
	t.Helper()
	v, ok := update.TagVersion(tag)
	if !ok {
		t.Fatalf("tag %q", tag)
	}
	sub := filepath.Join(f.dir, tag)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, a := range assets {
		var buf bytes.Buffer
		if err := release.WriteArchive(&buf, a.platform, a.binary, a.exe, f.epoch); err != nil {
			t.Fatal(err)
		}
		files[a.platform.ArchiveName(a.binary, v)] = buf.Bytes()
	}
	sums := release.Sums(files)
	files[update.SumsFile] = sums
	files[update.SignatureFile] = release.Sign(key, sums, v, f.epoch.Unix())
	for n, raw := range files {
		if err := os.WriteFile(filepath.Join(sub, n), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	index, err := release.Index(v, "notes of "+v, files)
	if err != nil {
		t.Fatal(err)
	}
	// Asset URLs are relative to the release's own directory.
	index = bytes.ReplaceAll(index, []byte(`"browser_download_url": "`), []byte(`"browser_download_url": "`+tag+"/"))
	index = bytes.Replace(index, []byte(`"tag_name": "`+v+`"`), []byte(`"tag_name": "`+tag+`"`), 1)
	if prerelease {
		index = bytes.Replace(index, []byte(`"prerelease": false`), []byte(`"prerelease": true`), 1)
	}
	f.addToIndex(t, index)
}

func (f *fixture) addToIndex(t *testing.T, one []byte) {
	t.Helper()
	path := filepath.Join(f.dir, update.IndexFile)
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	one = bytes.TrimSpace(one)
	inner := one[1 : len(one)-1]
	var merged []byte
	if o := bytes.TrimSpace(old); string(o) == "[]" {
		merged = []byte("[" + string(inner) + "]")
	} else {
		merged = []byte("[" + string(inner) + "," + string(o[1:]))
	}
	if err := os.WriteFile(path, merged, 0o644); err != nil {
		t.Fatal(err)
	}
}

// installed writes the running binary (a script answering version) and
// returns its path.
func installed(t *testing.T, v string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node-headless")
	if err := os.WriteFile(path, script(version.Line("node-headless", v)), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// noContainer is a System with no container signs.
type noContainer struct{}

func (noContainer) ReadFile(string) ([]byte, error) { return nil, os.ErrNotExist }
func (noContainer) Getenv(string) string            { return "" }

func (f *fixture) updater(t *testing.T, path, version string, mod func(*update.Options)) *update.Updater {
	t.Helper()
	feed, err := update.ParseFeed(f.srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	o := update.Options{
		Binary: "node-headless", Version: version, Feed: feed, Keys: []minisign.PublicKey{f.pub},
		Path: path, System: noContainer{}, HoldFile: filepath.Join(filepath.Dir(path), "hold"),
	}
	if mod != nil {
		mod(&o)
	}
	u, err := update.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) good(v string) asset {
	return asset{"node-headless", f.here, script(version.Line("node-headless", v))}
}

func TestApplyInstallsAndKeepsThePrevious(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
	path := installed(t, "v1.0.0")
	before, _ := os.ReadFile(path)
	u := f.updater(t, path, "v1.0.0", nil)

	rel, err := u.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rel.Version != "v1.1.0" || rel.Notes != "notes of v1.1.0" {
		t.Fatalf("Check = %+v", rel)
	}
	got, err := u.Apply(context.Background(), rel)
	if err != nil {
		t.Fatal(err)
	}
	if got.From != "v1.0.0" || got.To != "v1.1.0" || got.Previous != path+".old" {
		t.Fatalf("Apply = %+v", got)
	}
	now, _ := os.ReadFile(path)
	if !bytes.Equal(now, f.good("v1.1.0").exe) {
		t.Fatalf("binary after update:\n%s", now)
	}
	prev, _ := os.ReadFile(path + ".old")
	if !bytes.Equal(prev, before) {
		t.Fatalf("previous binary not kept:\n%s", prev)
	}
	assertOnly(t, filepath.Dir(path), "node-headless", "node-headless.old")

	// Rollback as the new version: 1.0.0 is back, 1.1.0 kept and held.
	u2 := f.updater(t, path, "v1.1.0", nil)
	back, err := u2.Rollback(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if back.To != "v1.0.0" {
		t.Fatalf("Rollback = %+v", back)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatalf("binary after rollback:\n%s", now)
	}
	if held := u.Held(); held != "v1.1.0" {
		t.Fatalf("Held = %q, want v1.1.0", held)
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
}

func TestRollbackWithoutPrevious(t *testing.T) {
	f := newFixture(t)
	path := installed(t, "v1.0.0")
	_, err := f.updater(t, path, "v1.0.0", nil).Rollback(context.Background())
	if err == nil || !strings.Contains(err.Error(), "nothing to roll back to") {
		t.Fatalf("Rollback = %v", err)
	}
}

// TestRefusals publishes a bad v1.1.0 in each way and checks that the
// update is refused with a clear error and the binary stays as it was.
func TestRefusals(t *testing.T) {
	other := update.Platform{GOOS: "windows", GOARCH: "amd64", Triple: "x86_64-pc-windows-msvc"}
	cases := []struct {
		name    string
		setup   func(t *testing.T, f *fixture)
		checkOK bool   // Check still offers v1.1.0 (the refusal comes at Stage)
		want    string // in the error
	}{
		{"one byte changed", func(t *testing.T, f *fixture) {
			f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
			f.mangle = func(name string, raw []byte) []byte {
				if strings.HasSuffix(name, f.here.ArchiveExt()) {
					raw = bytes.Clone(raw)
					raw[len(raw)/2] ^= 1
				}
				return raw
			}
		}, true, "SHA-256"},
		{"signed with another key", func(t *testing.T, f *fixture) {
			_, other := testKey(t)
			f.publish(t, "v1.1.0", false, other, f.good("v1.1.0"))
		}, true, "not signed by a trusted release key"},
		{"signature missing", func(t *testing.T, f *fixture) {
			f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
			os.Remove(filepath.Join(f.dir, "v1.1.0", update.SignatureFile))
		}, true, "404"},
		{"SHA256SUMS changed after signing", func(t *testing.T, f *fixture) {
			f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
			f.mangle = func(name string, raw []byte) []byte {
				if strings.HasSuffix(name, update.SumsFile) {
					raw = bytes.Clone(raw)
					raw[0] = map[bool]byte{true: '1', false: '0'}[raw[0] == '0'] // another digit of the first hash
				}
				return raw
			}
		}, true, "not signed by a trusted release key"},
		{"another platform only", func(t *testing.T, f *fixture) {
			if f.here == other {
				t.Skip("this is the other platform")
			}
			f.publish(t, "v1.1.0", false, f.key, asset{"node-headless", other, []byte("MZ")})
		}, false, "no newer release"},
		{"another binary only", func(t *testing.T, f *fixture) {
			f.publish(t, "sentinel-v1.1.0", false, f.key, asset{"sentinel", f.here, script("sentinel v1.1.0")})
		}, false, "no newer release"},
		{"lower version", func(t *testing.T, f *fixture) {
			f.publish(t, "v0.9.0", false, f.key, f.good("v0.9.0"))
		}, false, "no newer release"},
		{"same version", func(t *testing.T, f *fixture) {
			f.publish(t, "node-v1.0.0", false, f.key, f.good("v1.0.0"))
		}, false, "no newer release"},
		{"prerelease", func(t *testing.T, f *fixture) {
			f.publish(t, "v1.1.0-rc.1", false, f.key, f.good("v1.1.0-rc.1"))
			f.publish(t, "v1.2.0", true, f.key, f.good("v1.2.0"))
		}, false, "no newer release"},
		{"truncated download", func(t *testing.T, f *fixture) {
			f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
			f.mangle = func(name string, raw []byte) []byte {
				if strings.HasSuffix(name, f.here.ArchiveExt()) {
					return raw[:len(raw)-10]
				}
				return raw
			}
		}, true, "truncated"},
		{"binary says another version", func(t *testing.T, f *fixture) {
			f.publish(t, "v1.1.0", false, f.key, asset{"node-headless", f.here, script("node-headless v1.0.0")})
		}, true, "says it is v1.0.0"},
		{"binary does not run here", func(t *testing.T, f *fixture) {
			f.publish(t, "v1.1.0", false, f.key, asset{"node-headless", f.here, []byte("\x7fELF not really")})
		}, true, "does not run here"},
		{"binary of another program", func(t *testing.T, f *fixture) {
			f.publish(t, "v1.1.0", false, f.key, asset{"node-headless", f.here, script("sentinel v1.1.0")})
		}, true, "printed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.setup(t, f)
			path := installed(t, "v1.0.0")
			before, _ := os.ReadFile(path)
			u := f.updater(t, path, "v1.0.0", nil)
			rel, err := u.Check(context.Background())
			if tc.checkOK {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				_, err = u.Apply(context.Background(), rel)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
				t.Fatal("the binary changed")
			}
			assertOnly(t, filepath.Dir(path), "node-headless")
		})
	}
}

func TestPrereleaseWhenAsked(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
	f.publish(t, "v1.2.0-rc.1", false, f.key, f.good("v1.2.0-rc.1"))
	path := installed(t, "v1.0.0")
	for _, tc := range []struct {
		pre  bool
		want string
	}{{false, "v1.1.0"}, {true, "v1.2.0-rc.1"}} {
		rel, err := f.updater(t, path, "v1.0.0", func(o *update.Options) { o.Prerelease = tc.pre }).Check(context.Background())
		if err != nil || rel.Version != tc.want {
			t.Fatalf("Prerelease=%v: Check = %v, %v; want %s", tc.pre, rel.Version, err, tc.want)
		}
	}
}

func TestNewestAcrossTagPrefixes(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "node-v1.1.0", false, f.key, f.good("v1.1.0"))
	f.publish(t, "v1.3.0", false, f.key, asset{"sentinel", f.here, script("sentinel v1.3.0")})
	f.publish(t, "node-headless/v1.2.0", false, f.key, f.good("v1.2.0"))
	path := installed(t, "v1.0.0")
	u := f.updater(t, path, "v1.0.0", nil)
	rel, err := u.Check(context.Background())
	if err != nil || rel.Tag != "node-headless/v1.2.0" {
		t.Fatalf("Check = %+v, %v", rel, err)
	}
	if _, err := u.Apply(context.Background(), rel); err != nil {
		t.Fatal(err)
	}
}

func TestSizeLimit(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "v1.1.0", false, f.key, f.good("v1.1.0"))
	path := installed(t, "v1.0.0")
	u := f.updater(t, path, "v1.0.0", func(o *update.Options) { o.MaxArchiveSize = 16 })
	rel, err := u.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Apply(context.Background(), rel); err == nil || !strings.Contains(err.Error(), "above the limit") {
		t.Fatalf("Apply = %v", err)
	}
}

func TestSlowFeedTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	feed, _ := update.ParseFeed(srv.URL, "")
	u, err := update.New(update.Options{Binary: "node-headless", Version: "v1.0.0", Feed: feed, Path: installed(t, "v1.0.0"), Timeout: 50 * time.Millisecond, System: noContainer{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Check(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Check = %v, want a deadline error", err)
	}
}

func TestGitHubFeed(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "node-v1.1.0", false, f.key, f.good("v1.1.0"))
	index, _ := os.ReadFile(filepath.Join(f.dir, update.IndexFile))
	// The API answers with absolute download URLs and includes drafts.
	draft := `{"tag_name":"v9.0.0","draft":true,"assets":[{"name":"x","browser_download_url":"http://127.0.0.1/x","size":1}]},`
	body := bytes.Replace(index, []byte("["), []byte("["+draft), 1)
	body = bytes.ReplaceAll(body, []byte(`"browser_download_url": "`), []byte(`"browser_download_url": "`+f.srv.URL+"/"))
	var gotPath, gotAccept string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAccept = r.URL.RequestURI(), r.Header.Get("Accept")
		w.Write(body)
	}))
	defer api.Close()
	feed, err := update.ParseFeed("github:example/wowlab", api.URL)
	if err != nil {
		t.Fatal(err)
	}
	path := installed(t, "v1.0.0")
	u := f.updater(t, path, "v1.0.0", func(o *update.Options) { o.Feed = feed })
	rel, err := u.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/repos/example/wowlab/releases?per_page=30" || gotAccept != "application/vnd.github+json" {
		t.Fatalf("asked %s with Accept %q", gotPath, gotAccept)
	}
	if _, err := u.Apply(context.Background(), rel); err != nil {
		t.Fatal(err)
	}
}

func TestParseFeed(t *testing.T) {
	for _, tc := range []struct {
		spec, want string
	}{
		{"github:legacy3/wowlab", "github:legacy3/wowlab"},
		{"https://updates.example/wowlab", "https://updates.example/wowlab/"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/"},
		{"github:legacy3", ""},
		{"github:a/b/c", ""},
		{"github:../x", ""},
		{"ftp://x/", ""},
		{"https://user:pw@x/", ""},
		{"https://x/?q=1", ""},
		{"", ""},
	} {
		feed, err := update.ParseFeed(tc.spec, "")
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseFeed(%q) = %v, want an error", tc.spec, feed)
		case tc.want != "" && (err != nil || feed.String() != tc.want):
			t.Errorf("ParseFeed(%q) = %v, %v; want %s", tc.spec, feed, err, tc.want)
		}
	}
}

func TestTagVersion(t *testing.T) {
	for tag, want := range map[string]string{
		"v1.2.3": "v1.2.3", "1.2.3": "v1.2.3", "node-v1.2.3": "v1.2.3", "node-headless/v1.2.3": "v1.2.3",
		"v1.2.3-rc.1": "v1.2.3-rc.1", "node-v1.2.3-rc.1": "v1.2.3-rc.1", "release_2.0.0": "v2.0.0",
		"v1.2": "", "v1.2.3+build": "", "nodev1.2.3": "", "latest": "", "": "", "v01.2.3": "",
	} {
		got, ok := update.TagVersion(tag)
		if got != want || ok != (want != "") {
			t.Errorf("TagVersion(%q) = %q, %v; want %q", tag, got, ok, want)
		}
	}
}

func TestParseSums(t *testing.T) {
	h := strings.Repeat("ab", 32)
	good := h + "  a.tar.gz\n" + h + " *b.zip\n"
	sums, err := update.ParseSums([]byte(good))
	if err != nil || len(sums) != 2 {
		t.Fatalf("ParseSums = %v, %v", sums, err)
	}
	for _, bad := range []string{
		"", h + "  a\n" + h + "  a\n", h[:60] + "  a\n", "zz" + h[2:] + "  a\n", h + "  ../a\n", h + "  a/b\n",
		h + "  a\x00b\n", "not a line\n",
	} {
		if _, err := update.ParseSums([]byte(bad)); err == nil {
			t.Errorf("ParseSums(%q) took it", bad)
		}
	}
}

func TestBlocked(t *testing.T) {
	f := newFixture(t)
	path := installed(t, "v1.0.0")
	marked := installed(t, "v1.0.0")
	os.WriteFile(marked+update.PackagedMarkerSuffix, nil, 0o644)
	cases := []struct {
		name string
		mod  func(*update.Options)
		want string
	}{
		{"release build in a writable place", nil, ""},
		{"development build", func(o *update.Options) { o.Version = "dev" }, "development build"},
		{"package manager's directory", func(o *update.Options) { o.Path = "/usr/bin/node-headless" }, "package manager"},
		{"package marker", func(o *update.Options) { o.Path = marked }, "package manager"},
		{"docker", func(o *update.Options) {
			o.GOOS = "linux"
			o.System = fakeSystem{files: map[string]string{"/.dockerenv": ""}}
		}, "container"},
		{"podman", func(o *update.Options) {
			o.GOOS = "linux"
			o.System = fakeSystem{env: map[string]string{"container": "podman"}}
		}, "container"},
		{"kubernetes", func(o *update.Options) {
			o.GOOS = "linux"
			o.System = fakeSystem{files: map[string]string{"/proc/1/cgroup": "0::/kubepods/besteffort/pod1"}}
		}, "container"},
		{"container allowed", func(o *update.Options) {
			o.GOOS, o.InContainer = "linux", true
			o.System = fakeSystem{files: map[string]string{"/.dockerenv": ""}}
		}, ""},
		{"directory not writable", func(o *update.Options) { o.Path = "/proc/node-headless" }, "cannot be replaced"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "directory not writable" && runtime.GOOS != "linux" {
				t.Skip("needs /proc")
			}
			err := f.updater(t, path, "v1.0.0", tc.mod).Blocked()
			var b *update.BlockedError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Blocked = %v", err)
			case tc.want != "" && (!errors.As(err, &b) || !strings.Contains(b.Reason, tc.want)):
				t.Fatalf("Blocked = %v, want a reason with %q", err, tc.want)
			}
		})
	}
}

type fakeSystem struct{ files, env map[string]string }

func (s fakeSystem) ReadFile(p string) ([]byte, error) {
	if v, ok := s.files[p]; ok {
		return []byte(v), nil
	}
	return nil, fmt.Errorf("open %s: %w", p, os.ErrNotExist)
}
func (s fakeSystem) Getenv(k string) string { return s.env[k] }
