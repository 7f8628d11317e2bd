package update_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"wowlab/internal/release"
	"wowlab/node/update"
)

// FuzzParseReleases feeds arbitrary release lists: never a panic, and every
// release kept names a version and has only plain file names and http(s)
// URLs.
func FuzzParseReleases(f *testing.F) {
	f.Add([]byte(`[{"tag_name":"node-v1.2.3","body":"x","assets":[{"name":"SHA256SUMS","browser_download_url":"SHA256SUMS","size":3}]}]`))
	f.Add([]byte(`[{"tag_name":"v1","draft":true},{"tag_name":"v2.0.0-rc.1","prerelease":false,"assets":[{"name":"../x","browser_download_url":"file:///etc/passwd"}]}]`))
	f.Add([]byte(`{}`))
	base, _ := url.Parse("https://releases.example/wowlab/")
	f.Fuzz(func(t *testing.T, raw []byte) {
		list, err := update.ParseReleases(raw, base)
		if err != nil {
			return
		}
		for _, r := range list {
			if !update.IsRelease(r.Version) {
				t.Fatalf("kept %q with version %q", r.Tag, r.Version)
			}
			for _, a := range r.Assets {
				if a.Name == "" || strings.ContainsAny(a.Name, "/\\\x00") || a.Size < 0 {
					t.Fatalf("kept asset %+v", a)
				}
				if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
					t.Fatalf("kept URL %q", a.URL)
				}
			}
		}
	})
}

// FuzzParseSums feeds arbitrary SHA256SUMS files: never a panic, and every
// name taken is a plain file name.
func FuzzParseSums(f *testing.F) {
	f.Add([]byte(strings.Repeat("ab", 32) + "  node-headless-v1.2.3-x86_64-unknown-linux-gnu.tar.gz\n"))
	f.Add([]byte(strings.Repeat("0", 64) + " *a.zip\n\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		sums, err := update.ParseSums(raw)
		if err != nil {
			return
		}
		for name := range sums {
			if name == "" || name == ".." || strings.ContainsAny(name, "/\\ \x00\n") {
				t.Fatalf("took name %q", name)
			}
		}
	})
}

// FuzzTagVersion: a version found is always canonical and a release.
func FuzzTagVersion(f *testing.F) {
	for _, s := range []string{"v1.2.3", "node-v1.2.3-rc.1", "x/1.0.0", "v1.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		if v, ok := update.TagVersion(tag); ok && !update.IsRelease(v) {
			t.Fatalf("TagVersion(%q) = %q", tag, v)
		}
	})
}

// FuzzExtract feeds arbitrary archives to Extract for both archive kinds:
// never a panic, and never more than the bound it promises.
func FuzzExtract(f *testing.F) {
	linux, windows := update.Platforms()[0], update.Platforms()[4]
	for _, p := range []update.Platform{linux, windows} {
		var b bytes.Buffer
		if err := release.WriteArchive(&b, p, "node-headless", []byte("binary"), time.Unix(1_700_000_000, 0)); err != nil {
			f.Fatal(err)
		}
		f.Add(p.GOOS == "windows", b.Bytes())
	}
	f.Fuzz(func(t *testing.T, zip bool, raw []byte) {
		p := linux
		if zip {
			p = windows
		}
		exe, err := update.Extract(p, "node-headless", raw)
		if err == nil && len(exe) > 64*len(raw) {
			t.Fatalf("extracted %d bytes from %d", len(exe), len(raw))
		}
	})
}
