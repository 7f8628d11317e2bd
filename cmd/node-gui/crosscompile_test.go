package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// node-gui, and with it everything node-headless links (the OS probes,
// the service manager), builds for every platform a node is released for
// without cgo; on macOS node-gui then has no tray icon (fyne.io/systray
// needs cgo there), everywhere else it has one.
func TestCrossCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds for five platforms")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, target := range []struct{ goos, goarch string }{
		{"windows", "amd64"}, {"darwin", "arm64"}, {"darwin", "amd64"}, {"linux", "amd64"}, {"linux", "arm64"},
	} {
		t.Run(target.goos+"-"+target.goarch, func(t *testing.T) {
			// node-gui links everything node-headless does (the probes, the
			// service manager) and its tray.
			cmd := exec.Command(goBin, "build", "-o", os.DevNull, "./cmd/node-gui")
			cmd.Dir = filepath.Join("..", "..")
			cmd.Env = append(os.Environ(), "GOOS="+target.goos, "GOARCH="+target.goarch, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
		})
	}
}
