package release_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestDockerfilesBuildLikeReleases runs the binary build step of each
// Dockerfile as written (this machine has no container engine to run the
// whole build) and checks the binary it makes, and that the image runs as a
// user without rights with its state in a volume.
func TestDockerfilesBuildLikeReleases(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the build step is a Linux shell command")
	}
	for _, tc := range []struct {
		binary string
		want   []string // lines the Dockerfile must hold
	}{
		{"node-headless", []string{"USER 65532:65532", `VOLUME ["/data"]`, "    WOWLAB_NO_UPDATE=true", `HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 CMD ["/node-headless", "ctl", "status"]`}},
		{"sentinel", []string{"USER 65532:65532", `VOLUME ["/data"]`, "    SENTINEL_DATA_DIR=/data \\"}},
	} {
		t.Run(tc.binary, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(root, "cmd", tc.binary, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			lines := map[string]bool{}
			var step string
			sc := bufio.NewScanner(strings.NewReader(string(raw)))
			for sc.Scan() {
				lines[sc.Text()] = true
				if s, ok := strings.CutPrefix(sc.Text(), "RUN go run ./internal/cmd/release binary "); ok {
					step = "go run ./internal/cmd/release binary " + s
				}
			}
			for _, w := range tc.want {
				if !lines[w] {
					t.Errorf("Dockerfile lacks the line %q", w)
				}
			}
			if step == "" {
				t.Fatal("no build step through the release builder")
			}
			out := filepath.Join(t.TempDir(), tc.binary)
			step = strings.ReplaceAll(step, "/out/"+tc.binary, out)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", step)
			cmd.Dir = root
			// The build arguments as a docker build for linux/amd64 passes them.
			cmd.Env = append(os.Environ(), "VERSION=1.2.3", "TARGETOS=linux", "TARGETARCH="+runtime.GOARCH)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", step, err, msg)
			}
			got, err := exec.Command(out, "version").Output()
			if err != nil || strings.TrimSpace(string(got)) != tc.binary+" v1.2.3" {
				t.Fatalf("built binary says %q, %v", got, err)
			}
		})
	}
}
