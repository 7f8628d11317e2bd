package probe

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// The probes differ by operating system; every target a node is released
// for must build without cgo.
func TestCrossCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds for five platforms")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, target := range []struct{ goos, goarch string }{
		{"windows", "amd64"}, {"darwin", "arm64"}, {"darwin", "amd64"}, {"linux", "amd64"}, {"linux", "arm64"},
	} {
		t.Run(target.goos+"-"+target.goarch, func(t *testing.T) {
			cmd := exec.Command(goBin, "build", "./node/probe", "./node/policy")
			cmd.Dir = filepath.Join("..", "..")
			cmd.Env = append(os.Environ(), "GOOS="+target.goos, "GOARCH="+target.goarch, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
		})
	}
}
