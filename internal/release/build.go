// Package release builds the project's releases: every binary for every
// platform of update.Platforms, each in its archive, SHA256SUMS with its
// minisign signature, the release notes and releases.json, the index a
// base URL feed serves. The same commit and version give the same bytes:
// builds are -trimpath with an empty build id and no VCS stamp, archives
// carry the commit time and no owners, and the signature is deterministic.
package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"aead.dev/minisign"

	"wowlab/node/update"
)

// binaries are the programs a release holds, in the order they are built;
// one without its cmd/ directory is left out.
var binaries = [...]string{"node-headless", "node-gui", "sentinel", "engine"}

// Binaries returns the binaries a release of the repository at root holds.
func Binaries(root string) []string {
	var out []string
	for _, b := range binaries {
		if fi, err := os.Stat(filepath.Join(root, "cmd", b)); err == nil && fi.IsDir() {
			out = append(out, b)
		}
	}
	return out
}

// Options say what to build.
type Options struct {
	Root    string // repository root; default "."
	Version string // "1.2.3" or "v1.2.3"
	OutDir  string // created if missing; must be empty
	Key     minisign.PrivateKey

	Binaries  []string          // default Binaries(Root)
	Platforms []update.Platform // default update.Platforms()
	Notes     string            // release notes; default the git log since the previous tag
	// Epoch is the time stamped into archives and the signature; default
	// $SOURCE_DATE_EPOCH, else the commit time of HEAD.
	Epoch time.Time
	Log   io.Writer // progress lines; default discarded
	Env   []string  // extra environment of the go command (GOCACHE=...)
}

// Build compiles and packs a release into OutDir and returns the names of
// the files written.
func Build(ctx context.Context, o Options) ([]string, error) {
	if o.Root == "" {
		o.Root = "."
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	version, err := CanonicalVersion(o.Version)
	if err != nil {
		return nil, err
	}
	if o.Binaries == nil {
		o.Binaries = Binaries(o.Root)
	}
	if len(o.Binaries) == 0 {
		return nil, errors.New("no binaries to build")
	}
	if o.Platforms == nil {
		o.Platforms = update.Platforms()
	}
	if o.Epoch.IsZero() {
		if o.Epoch, err = SourceDateEpoch(ctx, o.Root, os.Getenv); err != nil {
			return nil, err
		}
	}
	if o.Notes == "" {
		if o.Notes, err = GitNotes(ctx, o.Root, version); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(o.OutDir); err != nil {
		return nil, err
	} else if len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty: a release directory holds one release", o.OutDir)
	}
	tmp, err := os.MkdirTemp("", "wowlab-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	archives := map[string][]byte{}
	for _, b := range o.Binaries {
		for _, p := range o.Platforms {
			start := time.Now()
			exe := filepath.Join(tmp, p.Triple, p.Exe(b))
			if err := BuildBinary(ctx, o.Root, b, p, version, exe, o.Env...); err != nil {
				return nil, err
			}
			raw, err := os.ReadFile(exe)
			if err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			if err := WriteArchive(&buf, p, b, raw, o.Epoch); err != nil {
				return nil, err
			}
			name := p.ArchiveName(b, version)
			archives[name] = buf.Bytes()
			fmt.Fprintf(o.Log, "%-60s %6.1f MiB  %s\n", name, float64(buf.Len())/(1<<20), time.Since(start).Round(100*time.Millisecond))
		}
	}
	sums := Sums(archives)
	files := map[string][]byte{
		update.SumsFile:      sums,
		update.SignatureFile: Sign(o.Key, sums, version, o.Epoch.Unix()),
		update.NotesFile:     []byte(o.Notes),
	}
	for n, raw := range archives {
		files[n] = raw
	}
	index, err := Index(version, o.Notes, files)
	if err != nil {
		return nil, err
	}
	files[update.IndexFile] = index
	var names []string
	for n, raw := range files {
		if err := os.WriteFile(filepath.Join(o.OutDir, n), raw, 0o644); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, nil
}

// CanonicalVersion returns v with its "v" prefix, or an error when v is not
// a complete semantic version.
func CanonicalVersion(v string) (string, error) {
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if !update.IsRelease(v) {
		return "", fmt.Errorf("version %q: want a semantic version such as 1.2.3 or 1.3.0-rc.1", strings.TrimPrefix(v, "v"))
	}
	return v, nil
}

// BuildBinary compiles one binary for p the way every release does, into
// out: static (CGO_ENABLED=0), -trimpath, no build id, no VCS stamp,
// stripped, the version linked in, and the package's default.pgo when it
// has one (-pgo=auto). The container images build with this too. env is
// added to the go command's environment.
func BuildBinary(ctx context.Context, root, binary string, p update.Platform, version, out string, env ...string) error {
	pkg := "./cmd/" + binary
	if fi, err := os.Stat(filepath.Join(root, "cmd", binary)); err != nil || !fi.IsDir() {
		return fmt.Errorf("no %s in %s", pkg, root)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build",
		"-trimpath", "-buildvcs=false", "-pgo=auto",
		"-ldflags", "-s -w -buildid= -X wowlab/internal/version.linked="+version,
		"-o", abs, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"CGO_ENABLED=0", "GOOS="+p.GOOS, "GOARCH="+p.GOARCH,
		"GOAMD64=v1", "GOARM64=v8.0", // the baseline, whatever this machine's go env says
		"GOFLAGS=", "GOEXPERIMENT=")
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s for %s: %w\n%s", binary, p, err, stderr.String())
	}
	return nil
}

// SourceDateEpoch returns $SOURCE_DATE_EPOCH when set, else the commit
// time of HEAD in root.
func SourceDateEpoch(ctx context.Context, root string, getenv func(string) string) (time.Time, error) {
	s := getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		out, err := git(ctx, root, "log", "-1", "--format=%ct", "HEAD")
		if err != nil {
			return time.Time{}, fmt.Errorf("commit time (or set SOURCE_DATE_EPOCH): %w", err)
		}
		s = strings.TrimSpace(out)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a Unix time", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// GitNotes returns release notes from the subjects of the commits since
// the previous tag (all commits when there is none).
func GitNotes(ctx context.Context, root, version string) (string, error) {
	rng := "HEAD"
	if prev, err := git(ctx, root, "describe", "--tags", "--abbrev=0", "HEAD^"); err == nil && strings.TrimSpace(prev) != "" {
		rng = strings.TrimSpace(prev) + "..HEAD"
	}
	log, err := git(ctx, root, "log", "--no-merges", "--max-count=500", "--format=- %s", rng)
	if err != nil {
		return "", fmt.Errorf("release notes (or give a notes file): %w", err)
	}
	since := "the first commit"
	if r, ok := strings.CutSuffix(rng, "..HEAD"); ok {
		since = r
	}
	return fmt.Sprintf("# WoWLab %s\n\nChanges since %s:\n\n%s", version, since, log), nil
}

func git(ctx context.Context, root string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// indexRelease and indexAsset are GitHub's release list shape, the fields
// update.ParseReleases reads.
type indexRelease struct {
	TagName    string       `json:"tag_name"`
	Name       string       `json:"name"`
	Draft      bool         `json:"draft"`
	Prerelease bool         `json:"prerelease"`
	Body       string       `json:"body"`
	Assets     []indexAsset `json:"assets"`
}

type indexAsset struct {
	Name string `json:"name"`
	URL  string `json:"browser_download_url"`
	Size int64  `json:"size"`
}

// Index returns releases.json for one release: a list in GitHub's shape
// whose asset URLs are the bare file names, relative to the index, so the
// release directory can be served as a base URL feed as it is.
func Index(version, notes string, files map[string][]byte) ([]byte, error) {
	r := indexRelease{TagName: version, Name: "WoWLab " + version, Prerelease: update.IsRelease(version) && strings.Contains(version, "-"), Body: notes}
	names := make([]string, 0, len(files))
	for n := range files {
		if n != update.IndexFile {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		r.Assets = append(r.Assets, indexAsset{Name: n, URL: n, Size: int64(len(files[n]))})
	}
	raw, err := json.MarshalIndent([]indexRelease{r}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(raw, '\n'), nil
}
