package update

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/minio/selfupdate"
)

// BlockedError says why this binary must not replace itself at all.
type BlockedError struct{ Reason string }

func (e *BlockedError) Error() string { return "updates are off: " + e.Reason }

// System is what Blocked looks at besides the binary's own file: the root
// file system (for container markers and cgroups) and the environment.
type System interface {
	// ReadFile reads a file by absolute path; a missing file is an error.
	ReadFile(path string) ([]byte, error)
	// Getenv returns an environment variable.
	Getenv(key string) string
}

type hostSystem struct{}

func (hostSystem) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }
func (hostSystem) Getenv(key string) string             { return os.Getenv(key) }

// PackagedMarkerSuffix names the file a package places beside the binary
// (for example /opt/wowlab/node-headless.no-self-update) to say that the
// package manager, not the node, installs new versions.
const PackagedMarkerSuffix = ".no-self-update"

// packageDirs hold binaries a package manager installed; replacing them
// behind its back would break its bookkeeping.
var packageDirs = [...]string{"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/lib/", "/usr/libexec/", "/nix/store/", "/snap/", "/opt/homebrew/", "/usr/local/Cellar/"}

// Blocked returns a *BlockedError when this binary must not replace
// itself: a development build, a package manager's install, a container
// (its image is the unit of update), or a binary or directory this
// process cannot write.
func (u *Updater) Blocked() error {
	if err := u.devBuild(); err != nil {
		return err
	}
	slashed := filepath.ToSlash(u.o.Path)
	for _, d := range packageDirs {
		if strings.HasPrefix(slashed, d) {
			return &BlockedError{Reason: fmt.Sprintf("%s was installed by a package manager (it is under %s); update it with that", u.o.Path, d)}
		}
	}
	if _, err := os.Stat(u.o.Path + PackagedMarkerSuffix); err == nil {
		return &BlockedError{Reason: fmt.Sprintf("%s was installed by a package manager (%s exists); update it with that", u.o.Path, u.o.Path+PackagedMarkerSuffix)}
	}
	if u.o.GOOS == "linux" && !u.o.InContainer {
		if why := containerized(u.o.System); why != "" {
			return &BlockedError{Reason: "running in a container (" + why + "); pull a new image instead"}
		}
	}
	check := selfupdate.Options{TargetPath: u.o.Path}
	if err := check.CheckPermissions(); err != nil {
		return &BlockedError{Reason: fmt.Sprintf("%s cannot be replaced by this user: %v", filepath.Dir(u.o.Path), unwrapPath(err))}
	}
	return nil
}

// devBuild refuses a running version that is no release: there is
// nothing to compare releases with.
func (u *Updater) devBuild() error {
	if IsRelease(u.o.Version) {
		return nil
	}
	return &BlockedError{Reason: fmt.Sprintf("this is a development build (version %s); only release builds update", u.o.Version)}
}

func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// containerized names the sign of a container it finds: the marker files
// Docker and Podman create, the container variable systemd-nspawn, Podman
// and LXC set, or a container runtime in PID 1's cgroup.
func containerized(s System) string {
	for _, f := range []string{"/.dockerenv", "/run/.containerenv"} {
		if _, err := s.ReadFile(f); err == nil {
			return f + " exists"
		}
	}
	if c := s.Getenv("container"); c != "" {
		return "container=" + c
	}
	if cg, err := s.ReadFile("/proc/1/cgroup"); err == nil {
		for _, sign := range []string{"docker", "kubepods", "containerd", "libpod", "lxc"} {
			if bytes.Contains(cg, []byte(sign)) {
				return "PID 1's cgroup names " + sign
			}
		}
	}
	return ""
}
