package release_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"wowlab/internal/release"
	"wowlab/node/update"
)

const root = "../.."

func testKey(t *testing.T) (minisign.PublicKey, minisign.PrivateKey) {
	t.Helper()
	pub, key, err := minisign.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pub, key
}

var linux, windows = update.Platforms()[0], update.Platforms()[4]

func TestArchivesAreFixed(t *testing.T) {
	exe := []byte("\x7fELF pretend binary")
	mtime := time.Unix(1_700_000_000, 0)
	for _, p := range []update.Platform{linux, windows} {
		var a, b bytes.Buffer
		if err := release.WriteArchive(&a, p, "engine", exe, mtime); err != nil {
			t.Fatal(err)
		}
		if err := release.WriteArchive(&b, p, "engine", exe, mtime.Add(0)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("%s: two archives of the same input differ", p)
		}
		if p.GOOS == "windows" {
			zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
			if err != nil || len(zr.File) != 1 {
				t.Fatalf("zip: %v, %d entries", err, len(zr.File))
			}
			f := zr.File[0]
			if f.Name != "engine.exe" || !f.Modified.Equal(mtime) || f.Mode().Perm() != 0o755 {
				t.Fatalf("zip entry %s %v %v", f.Name, f.Modified, f.Mode())
			}
			continue
		}
		gz, err := gzip.NewReader(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if gz.Name != "" || !gz.ModTime.IsZero() {
			t.Fatalf("gzip header records name %q time %v", gz.Name, gz.ModTime)
		}
		h, err := tar.NewReader(gz).Next()
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "engine" || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(mtime) || h.Mode != 0o755 {
			t.Fatalf("tar header %+v", h)
		}
	}
}

// TestBuildIsReproducible builds the engine for linux/amd64 twice, the
// second time from a copy of the sources in another directory with an
// empty build cache, and wants every file of the two releases identical.
// One small binary keeps it to about 20 s on two cores; the whole matrix
// is checked the same way by scripts/release-check.
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds twice")
	}
	_, key := testKey(t)
	copyDir := t.TempDir()
	copyTracked(t, root, copyDir)
	opts := func(src, out string, env ...string) release.Options {
		return release.Options{Root: src, Version: "1.2.3", OutDir: out, Key: key,
			Binaries: []string{"engine"}, Platforms: []update.Platform{linux},
			Notes: "notes\n", Epoch: time.Unix(1_700_000_000, 0), Env: env}
	}
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if _, err := release.Build(context.Background(), opts(root, a)); err != nil {
		t.Fatal(err)
	}
	if _, err := release.Build(context.Background(), opts(copyDir, b, "GOCACHE="+t.TempDir(), "TZ=Pacific/Kiritimati")); err != nil {
		t.Fatal(err)
	}
	names := compareDirs(t, a, b)
	want := []string{"RELEASE_NOTES.md", "SHA256SUMS", "SHA256SUMS.minisig", "engine-v1.2.3-x86_64-unknown-linux-gnu.tar.gz", "releases.json"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("release holds %v, want %v", names, want)
	}
}

// copyTracked copies the files git tracks (as they are in the work tree).
func copyTracked(t *testing.T, from, to string) {
	t.Helper()
	out, err := exec.Command("git", "-C", from, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("no git work tree to copy: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		raw, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			continue // deleted in the work tree
		}
		dst := filepath.Join(to, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func compareDirs(t *testing.T, a, b string) []string {
	t.Helper()
	ea, _ := os.ReadDir(a)
	eb, _ := os.ReadDir(b)
	if len(ea) != len(eb) {
		t.Fatalf("%d files against %d", len(ea), len(eb))
	}
	var names []string
	for i, e := range ea {
		if eb[i].Name() != e.Name() {
			t.Fatalf("%s against %s", e.Name(), eb[i].Name())
		}
		ra, _ := os.ReadFile(filepath.Join(a, e.Name()))
		rb, _ := os.ReadFile(filepath.Join(b, e.Name()))
		if !bytes.Equal(ra, rb) {
			t.Errorf("%s differs between the two builds", e.Name())
		}
		names = append(names, e.Name())
	}
	return names
}

// TestReleaseVerifies checks a built release the way a person does by
// hand: sha256sum -c and minisign -V, where the tools are installed, and
// with the updater's own parsers.
func TestReleaseVerifies(t *testing.T) {
	pub, key := testKey(t)
	files := map[string][]byte{"a-v1.0.0-x86_64-unknown-linux-gnu.tar.gz": []byte("a"), "b.zip": []byte("bb")}
	sums := release.Sums(files)
	dir := t.TempDir()
	write := func(name string, raw []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for n, raw := range files {
		write(n, raw)
	}
	write(update.SumsFile, sums)
	sig := release.Sign(key, sums, "v1.0.0", 1_700_000_000)
	write(update.SignatureFile, sig)
	if !minisign.Verify(pub, sums, sig) {
		t.Fatal("signature does not verify")
	}
	if again := release.Sign(key, sums, "v1.0.0", 1_700_000_000); !bytes.Equal(again, sig) {
		t.Fatal("signing twice gives two signatures")
	}
	if parsed, err := update.ParseSums(sums); err != nil || len(parsed) != 2 {
		t.Fatalf("ParseSums = %v, %v", parsed, err)
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		if out, err := runIn(dir, "sha256sum", "-c", update.SumsFile); err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, out)
		}
	}
	if _, err := exec.LookPath("minisign"); err != nil {
		t.Skip("minisign is not installed (scripts/test installs it): checked by the library only")
	}
	if out, err := runIn(dir, "minisign", "-Vm", update.SumsFile, "-P", pub.String()); err != nil || !strings.Contains(out, "wowlab v1.0.0") {
		t.Fatalf("minisign -V: %v\n%s", err, out)
	}
	_, other := testKey(t)
	write(update.SignatureFile, release.Sign(other, sums, "v1.0.0", 1_700_000_000))
	if out, err := runIn(dir, "minisign", "-Vm", update.SumsFile, "-P", pub.String()); err == nil {
		t.Fatalf("minisign -V took another key's signature:\n%s", out)
	}
}

func runIn(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestGitEpochAndNotes(t *testing.T) {
	if _, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err != nil {
		t.Skipf("not a git work tree: %v", err)
	}
	epoch, err := release.SourceDateEpoch(context.Background(), root, func(string) string { return "" })
	if err != nil || epoch.Before(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("commit time %v, %v", epoch, err)
	}
	fixed, err := release.SourceDateEpoch(context.Background(), root, func(string) string { return "1700000000" })
	if err != nil || fixed.Unix() != 1_700_000_000 {
		t.Fatalf("SOURCE_DATE_EPOCH: %v, %v", fixed, err)
	}
	if _, err := release.SourceDateEpoch(context.Background(), root, func(string) string { return "yesterday" }); err == nil {
		t.Fatal("took a bad SOURCE_DATE_EPOCH")
	}
	notes, err := release.GitNotes(context.Background(), root, "v1.2.3")
	if err != nil || !strings.HasPrefix(notes, "# WoWLab v1.2.3\n") || !strings.Contains(notes, "\n- ") {
		t.Fatalf("notes %q, %v", notes, err)
	}
}

func TestBuildRefusals(t *testing.T) {
	_, key := testKey(t)
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	for _, tc := range []struct {
		name string
		o    release.Options
		want string
	}{
		{"bad version", release.Options{Root: root, Version: "1.2", OutDir: t.TempDir(), Key: key}, "semantic version"},
		{"outdir not empty", release.Options{Root: root, Version: "1.2.3", OutDir: full, Key: key, Notes: "n", Epoch: time.Unix(1, 0)}, "not empty"},
		{"unknown binary", release.Options{Root: root, Version: "1.2.3", OutDir: t.TempDir(), Key: key, Notes: "n", Epoch: time.Unix(1, 0), Binaries: []string{"nope"}, Platforms: []update.Platform{linux}}, "no ./cmd/nope"},
	} {
		if _, err := release.Build(context.Background(), tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestBinariesIncludeWhatExists(t *testing.T) {
	const want = "node-headless,node-gui,sentinel,engine"
	if got := strings.Join(release.Binaries(root), ","); got != want {
		t.Fatalf("Binaries = %s, want %s", got, want)
	}
	fake := t.TempDir()
	for _, b := range []string{"engine", "node-gui"} {
		os.MkdirAll(filepath.Join(fake, "cmd", b), 0o755)
	}
	if got := strings.Join(release.Binaries(fake), ","); got != "node-gui,engine" {
		t.Fatalf("Binaries of a tree with node-gui = %s", got)
	}
}

func TestReadKeyRefusesOpenFile(t *testing.T) {
	priv, _, err := release.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "k")
	os.WriteFile(path, priv, 0o644)
	if _, err := release.ReadKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("ReadKey of a 0644 key: %v", err)
	}
	os.Chmod(path, 0o600)
	if _, err := release.ReadKey(path); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	if _, err := release.ReadKey(path); err == nil {
		t.Fatal("ReadKey took garbage")
	}
}
