// Package update keeps a node's binary current: it finds the newest release
// of its own binary for its platform in a feed (GitHub releases or a plain
// base URL), downloads it with a size limit and a timeout, checks the
// archive against SHA256SUMS and that file's minisign signature against the
// release key compiled in, runs the new binary's version command, and only
// then replaces the running binary atomically, keeping the previous one for
// Rollback.
//
// It never decides when to install: Checker says what is available, and
// the node's core applies it between chunks (Stage while working, then
// drain, Commit and Restart). Anything it refuses is an error for the
// caller to log; the running binary is left as it was.
package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"aead.dev/minisign"
	"github.com/minio/selfupdate"

	"wowlab/internal/version"
)

// Limits and timeouts an Options left zero takes.
const (
	DefaultMaxArchiveSize = 256 << 20 // the node's archive is ~10 MiB
	DefaultTimeout        = 10 * time.Minute
	DefaultVersionTimeout = 15 * time.Second
	maxSumsSize           = 1 << 20
	maxSignatureSize      = 8 << 10
)

// ErrNoUpdate is returned by Check when no release is above the running
// version.
var ErrNoUpdate = errors.New("no newer release")

// Options configure an Updater. Binary, Version and Feed are required.
type Options struct {
	Binary  string // the binary's release name, such as "node-headless"
	Version string // the running version, "v1.2.3"
	Feed    Feed

	// Keys are trusted besides the release key compiled in (a
	// self-hosted fleet's own key); the compiled-in key is always trusted.
	Keys []minisign.PublicKey
	// Prerelease lets Check pick prereleases too.
	Prerelease bool

	Path   string       // the binary to replace; default os.Executable
	Client *http.Client // default: a client with Timeout

	MaxArchiveSize int64         // default DefaultMaxArchiveSize
	Timeout        time.Duration // one listing or download; default DefaultTimeout
	VersionTimeout time.Duration // the new binary's version run; default DefaultVersionTimeout

	GOOS, GOARCH string // default runtime.GOOS and runtime.GOARCH

	// HoldFile, when set, is where Rollback records the version it rolled
	// back from, so that automatic updates do not install it again.
	HoldFile string

	// InContainer allows updating inside a container, for one whose
	// binary lives on a volume that outlasts the container (a development
	// container); elsewhere the image is the unit of update.
	InContainer bool
	// System is what Blocked inspects to tell containers and package
	// installs; default the real file system and environment.
	System System

	Logger *slog.Logger
}

// Updater finds, checks and installs releases of one binary. Its methods
// are safe for concurrent use, but only one Apply or Rollback should run at
// a time (the file system is the shared state).
type Updater struct {
	o        Options
	platform Platform
	keys     []minisign.PublicKey
}

// New returns an Updater, or an error for missing options, a platform
// releases are not built for or a bad compiled-in key.
func New(o Options) (*Updater, error) {
	if o.Binary == "" || o.Feed == nil {
		return nil, errors.New("update: Binary and Feed are required")
	}
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.GOARCH == "" {
		o.GOARCH = runtime.GOARCH
	}
	p, err := PlatformFor(o.GOOS, o.GOARCH)
	if err != nil {
		return nil, err
	}
	if o.Path == "" {
		if o.Path, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("update: find own binary: %w", err)
		}
	}
	if resolved, err := filepath.EvalSymlinks(o.Path); err == nil {
		o.Path = resolved
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.VersionTimeout <= 0 {
		o.VersionTimeout = DefaultVersionTimeout
	}
	if o.MaxArchiveSize <= 0 {
		o.MaxArchiveSize = DefaultMaxArchiveSize
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.System == nil {
		o.System = hostSystem{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	builtin, err := ParsePublicKey(releaseKey)
	if err != nil {
		return nil, fmt.Errorf("update: compiled-in %w", err)
	}
	return &Updater{o: o, platform: p, keys: append([]minisign.PublicKey{builtin}, o.Keys...)}, nil
}

// Path returns the binary the Updater replaces.
func (u *Updater) Path() string { return u.o.Path }

// Version returns the running version.
func (u *Updater) Version() string { return u.o.Version }

// Feed returns the feed the Updater reads.
func (u *Updater) Feed() Feed { return u.o.Feed }

// PreviousPath is where the binary replaced by the last update is kept.
func (u *Updater) PreviousPath() string { return u.o.Path + ".old" }

// Check returns the newest release above the running version that holds
// an archive of this binary for this platform (prereleases only when
// Options.Prerelease is set), or ErrNoUpdate.
func (u *Updater) Check(ctx context.Context) (Release, error) {
	if err := u.devBuild(); err != nil {
		return Release{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, u.o.Timeout)
	defer cancel()
	list, err := u.o.Feed.Releases(ctx, u.o.Client)
	if err != nil {
		return Release{}, fmt.Errorf("%s: %w", u.o.Feed, err)
	}
	return u.pick(list)
}

// pick chooses the newest usable release of list.
func (u *Updater) pick(list []Release) (Release, error) {
	var best Release
	for _, r := range list {
		if r.Prerelease && !u.o.Prerelease {
			continue
		}
		if !Newer(r.Version, u.o.Version) || (best.Version != "" && !Newer(r.Version, best.Version)) {
			continue
		}
		if _, ok := r.asset(u.platform.ArchiveName(u.o.Binary, r.Version)); !ok {
			continue // another binary's release, or none for this platform
		}
		best = r
	}
	if best.Version == "" {
		return Release{}, fmt.Errorf("%w of %s for %s above %s in %s", ErrNoUpdate, u.o.Binary, u.platform, u.o.Version, u.o.Feed)
	}
	return best, nil
}

// Staged is a release downloaded, verified and test-run, written beside the
// running binary and ready to be switched in by Commit.
type Staged struct {
	u       *Updater
	Release Release
	newPath string
	mode    fs.FileMode
}

// Installed says what Commit or Rollback did.
type Installed struct {
	From, To string // versions
	Path     string // the binary now in place
	Previous string // where the one it replaced is kept
}

// Apply stages rel and commits it.
func (u *Updater) Apply(ctx context.Context, rel Release) (Installed, error) {
	s, err := u.Stage(ctx, rel)
	if err != nil {
		return Installed{}, err
	}
	return s.Commit()
}

// Stage downloads rel's archive for this platform, checks it against the
// signed SHA256SUMS, extracts the binary beside the running one and runs
// its version command. It changes nothing the running node uses: on any
// error the extracted file is removed.
func (u *Updater) Stage(ctx context.Context, rel Release) (*Staged, error) {
	if err := u.Blocked(); err != nil {
		return nil, err
	}
	if !IsRelease(rel.Version) {
		return nil, fmt.Errorf("release %q names no version", rel.Tag)
	}
	if !Newer(rel.Version, u.o.Version) {
		return nil, fmt.Errorf("release %s is not above the running %s", rel.Version, u.o.Version)
	}
	name := u.platform.ArchiveName(u.o.Binary, rel.Version)
	archiveAsset, ok := rel.asset(name)
	if !ok {
		return nil, fmt.Errorf("release %s has no %s for %s", rel.Tag, u.o.Binary, u.platform)
	}
	sumsAsset, ok1 := rel.asset(SumsFile)
	sigAsset, ok2 := rel.asset(SignatureFile)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("release %s has no %s and %s: unsigned releases are never installed", rel.Tag, SumsFile, SignatureFile)
	}
	sums, err := u.download(ctx, sumsAsset, maxSumsSize)
	if err != nil {
		return nil, err
	}
	sig, err := u.download(ctx, sigAsset, maxSignatureSize)
	if err != nil {
		return nil, err
	}
	if err := verifySums(u.keys, sums, sig); err != nil {
		return nil, fmt.Errorf("release %s: %w", rel.Tag, err)
	}
	list, err := ParseSums(sums)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", rel.Tag, err)
	}
	want, ok := list[name]
	if !ok {
		return nil, fmt.Errorf("release %s: %s does not list %s", rel.Tag, SumsFile, name)
	}
	archive, err := u.download(ctx, archiveAsset, u.o.MaxArchiveSize)
	if err != nil {
		return nil, err
	}
	if got := sha256.Sum256(archive); got != want {
		return nil, fmt.Errorf("%s: SHA-256 is %x, %s says %x: the download is corrupt or was altered", name, got, SumsFile, want)
	}
	bin, err := Extract(u.platform, u.o.Binary, archive)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	mode := fs.FileMode(0o755)
	if fi, err := os.Stat(u.o.Path); err == nil {
		mode = fi.Mode().Perm() | 0o100
	}
	opts := selfupdate.Options{TargetPath: u.o.Path, TargetMode: mode}
	if err := selfupdate.PrepareAndCheckBinary(bytes.NewReader(bin), opts); err != nil {
		return nil, fmt.Errorf("write the new binary beside %s: %w", u.o.Path, err)
	}
	s := &Staged{u: u, Release: rel, newPath: stagedPath(u.o.Path), mode: mode}
	if err := u.checkRuns(ctx, s.newPath, rel.Version); err != nil {
		s.Discard()
		return nil, err
	}
	return s, nil
}

// stagedPath is where selfupdate writes the new binary before switching.
func stagedPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".new")
}

// Discard removes the staged binary.
func (s *Staged) Discard() { _ = os.Remove(s.newPath) }

// Commit switches the staged binary in atomically (a rename), keeping the
// one it replaces at PreviousPath.
func (s *Staged) Commit() (Installed, error) {
	u := s.u
	if err := selfupdate.CommitBinary(selfupdate.Options{TargetPath: u.o.Path, TargetMode: s.mode, OldSavePath: u.PreviousPath()}); err != nil {
		s.Discard()
		if rerr := selfupdate.RollbackError(err); rerr != nil {
			return Installed{}, fmt.Errorf("install %s: %w; putting the old binary back failed too: %v", s.Release.Version, err, rerr)
		}
		return Installed{}, fmt.Errorf("install %s: %w", s.Release.Version, err)
	}
	if u.o.HoldFile != "" {
		_ = os.Remove(u.o.HoldFile)
	}
	u.o.Logger.Info("update installed", "from", u.o.Version, "to", s.Release.Version, "path", u.o.Path, "previous", u.PreviousPath())
	return Installed{From: u.o.Version, To: s.Release.Version, Path: u.o.Path, Previous: u.PreviousPath()}, nil
}

// Rollback puts the binary kept by the last update back in place, after
// running its version command; the one it replaces is kept in its stead,
// so a second Rollback undoes the first.
func (u *Updater) Rollback(ctx context.Context) (Installed, error) {
	if err := u.Blocked(); err != nil {
		return Installed{}, err
	}
	prev := u.PreviousPath()
	raw, err := os.ReadFile(prev)
	if errors.Is(err, fs.ErrNotExist) {
		return Installed{}, fmt.Errorf("no previous version is kept at %s: nothing to roll back to", prev)
	}
	if err != nil {
		return Installed{}, fmt.Errorf("read the previous version: %w", err)
	}
	v, err := u.runVersion(ctx, prev)
	if err != nil {
		return Installed{}, fmt.Errorf("previous version at %s: %w", prev, err)
	}
	mode := fs.FileMode(0o755)
	if fi, err := os.Stat(u.o.Path); err == nil {
		mode = fi.Mode().Perm() | 0o100
	}
	if err := selfupdate.Apply(bytes.NewReader(raw), selfupdate.Options{TargetPath: u.o.Path, TargetMode: mode, OldSavePath: prev}); err != nil {
		return Installed{}, fmt.Errorf("roll back to %s: %w", v, err)
	}
	if u.o.HoldFile != "" && IsRelease(u.o.Version) {
		if err := os.WriteFile(u.o.HoldFile, []byte(u.o.Version+"\n"), 0o600); err != nil {
			u.o.Logger.Warn("could not record the version rolled back from; automatic updates may install it again", "err", err)
		}
	}
	u.o.Logger.Info("rolled back", "from", u.o.Version, "to", v, "path", u.o.Path)
	return Installed{From: u.o.Version, To: v, Path: u.o.Path, Previous: prev}, nil
}

// checkRuns runs path's version command and wants version back.
func (u *Updater) checkRuns(ctx context.Context, path, version string) error {
	got, err := u.runVersion(ctx, path)
	if err != nil {
		return fmt.Errorf("new binary of %s: %w", version, err)
	}
	if got != version {
		return fmt.Errorf("new binary says it is %s, the release is %s", got, version)
	}
	return nil
}

// runVersion runs "path version" with a timeout and returns the version it
// prints in binary's version line.
func (u *Updater) runVersion(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, u.o.VersionTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "version")
	cmd.Stdout = &limitedWriter{w: &out, n: 4096}
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("does not run here: 'version' did not finish within %s", u.o.VersionTimeout)
		}
		return "", fmt.Errorf("does not run here: 'version': %w: %s", err, firstLine(out.String()))
	}
	v, ok := parseVersionLine(u.o.Binary, out.Bytes())
	if !ok {
		return "", fmt.Errorf("'version' printed %q, not %q", firstLine(out.String()), version.Line(u.o.Binary, "VERSION"))
	}
	return v, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// limitedWriter keeps the first n bytes written and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	k := min(len(p), l.n)
	l.n -= k
	if _, err := l.w.Write(p[:k]); err != nil {
		return 0, err
	}
	return len(p), nil
}

// download fetches a release file, refusing more than limit bytes, fewer
// than the feed announced, and anything but 200.
func (u *Updater) download(ctx context.Context, a Asset, limit int64) ([]byte, error) {
	if a.Size > limit {
		return nil, fmt.Errorf("%s: %d bytes is above the limit of %d", a.Name, a.Size, limit)
	}
	ctx, cancel := context.WithTimeout(ctx, u.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name, err)
	}
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := u.o.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", a.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: %s", a.Name, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("download %s: %d bytes is above the limit of %d", a.Name, resp.ContentLength, limit)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w after %d bytes (truncated)", a.Name, err, len(raw))
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("download %s: more than the limit of %d bytes", a.Name, limit)
	}
	if a.Size > 0 && int64(len(raw)) != a.Size {
		return nil, fmt.Errorf("download %s: got %d bytes, the feed announced %d (truncated)", a.Name, len(raw), a.Size)
	}
	return raw, nil
}

// Held returns the version a Rollback left ("" if none): automatic
// updates skip it and anything older, and the next install clears it.
func (u *Updater) Held() string {
	if u.o.HoldFile == "" {
		return ""
	}
	raw, err := os.ReadFile(u.o.HoldFile)
	if err != nil {
		return ""
	}
	if v := strings.TrimSpace(string(raw)); IsRelease(v) {
		return v
	}
	return ""
}
