package e2e

// Every command block of the README, run the way a person runs it from a
// clone, or named here with the reason it is not (acceptance: "every
// command block runs as written"). Blocks are told apart by their first
// line; a new or changed block fails the test until it is added below.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlock is a ```sh block of the README.
type readmeBlock struct {
	line  int // of its first command
	lines []string
}

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	for i, l := range strings.Split(string(raw), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```sh":
			cur = &readmeBlock{line: i + 2}
		case cur != nil && strings.TrimSpace(l) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	return blocks
}

// How each block is checked, by the start of its first line.
const (
	runEngine     = "engine"     // each line with the engine built from ./cmd/engine
	runDev        = "dev"        // the dev cluster, with a shorter demo job
	runQuickStart = "quickstart" // with the blocks after it, as one shell session
	notRun        = "not run"
)

var readmeChecks = []struct {
	first, how, why string
}{
	{"go run ./cmd/sentinel dev --demo", runDev, "the built sentinel runs `dev --demo --iterations 3000`: the same cluster and demo, a shorter job"},
	{"./scripts/test", notRun, "it is the suite that runs this test"},
	{"go run ./cmd/engine sim --spec bm_pack_leader", runEngine, ""},
	{"go build -o bin/node-headless ./cmd/node-headless\nbin/node-headless --sentinel-url https://sentinel.example", notRun, "it needs a deployed sentinel at sentinel.example; the quick start below runs a node against a local one"},
	{"go build -o bin/node-gui ./cmd/node-gui\nbin/node-gui --sentinel-url https://sentinel.example", notRun, "it needs a desktop and a deployed sentinel at sentinel.example; the e2e TestNodeGUI runs node-gui against a local one, in Chromium"},
	{"bin/node-headless ctl status", notRun, "it drives a node running on this machine; internal/nodecmd's ctl tests run the commands against one"},
	{"go run ./internal/cmd/release keygen", notRun, "it builds the signed archives of five targets (minutes); scripts/release-check, outside the test command, runs the builder"},
	{"sha256sum -c --ignore-missing SHA256SUMS", notRun, "it checks the files of a downloaded release, which there is none of here"},
	{"go run ./cmd/node-headless update --check", notRun, "it asks the default release feed on the network"},
	{"go run ./cmd/node-headless service install --dry-run", notRun, "internal/nodecmd's service tests run its dry run"},
	{"docker build -f cmd/node-headless/Dockerfile", notRun, "this machine has no container engine; the tests run each Dockerfile's build step"},
	{"go build -o bin/sentinel ./cmd/sentinel", runQuickStart, "with the port 8080 replaced by a free one"},
	{"export WOWLAB_SERVER=http://localhost:8080", runQuickStart, ""},
	{"go build -o bin/node-headless ./cmd/node-headless\nbin/node-headless --config-dir ./node-1", runQuickStart, ""},
}

func checkOf(b readmeBlock) (how, why string, ok bool) {
	text := strings.Join(b.lines, "\n")
	for _, c := range readmeChecks {
		if strings.HasPrefix(text, c.first) {
			return c.how, c.why, true
		}
	}
	return "", "", false
}

func TestREADMECommandBlocks(t *testing.T) {
	var quick []readmeBlock
	for _, b := range readmeBlocks(t) {
		how, why, ok := checkOf(b)
		switch {
		case !ok:
			t.Errorf("README line %d: a command block this test does not know (%q): run it here, or say why it is not run", b.line, b.lines[0])
		case how == notRun:
			t.Logf("README line %d (%s): not run: %s", b.line, b.lines[0], why)
		case how == runEngine:
			t.Run(fmt.Sprintf("line %d engine", b.line), func(t *testing.T) { runEngineBlock(t, b) })
		case how == runDev:
			t.Run(fmt.Sprintf("line %d dev", b.line), func(t *testing.T) {
				out := run(t, bin.sentinel, "dev", "--demo", "--iterations", "3000", "--nodes", "1", "--node-cores", "1")
				if !strings.Contains(out, "mean") {
					t.Fatalf("dev --demo printed %q", out)
				}
			})
		case how == runQuickStart:
			quick = append(quick, b)
		}
	}
	if len(quick) != 3 {
		t.Fatalf("the sentinel quick start has %d blocks, want 3", len(quick))
	}
	t.Run("sentinel quick start", func(t *testing.T) { runQuickStartBlocks(t, quick) })
}

// runEngineBlock runs each line of the engine block from the repository
// root, `go run ./cmd/engine` being the engine built from that package.
func runEngineBlock(t *testing.T, b readmeBlock) {
	for _, l := range b.lines {
		cmdline, _, _ := strings.Cut(l, "#")
		args := strings.Fields(strings.TrimPrefix(strings.TrimSpace(cmdline), "go run ./cmd/engine"))
		cmd := exec.Command(bin.engine, args...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", l, err, out)
		}
	}
}

// runQuickStartBlocks runs the sentinel's quick start as one bash session
// in a directory standing for a clone: examples/ and engine/ are the
// repository's, bin/ holds the binaries TestMain built with the README's
// very commands, HOME is the test's (the SQLite store goes there), and the
// port is a free one instead of 8080. The background sentinel and node
// are stopped with the session's process group.
func runQuickStartBlocks(t *testing.T, blocks []readmeBlock) {
	dir := t.TempDir()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"examples", "engine"} {
		if err := os.Symlink(filepath.Join(repo, d), filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	built := map[string]string{"sentinel": bin.sentinel, "node-headless": bin.node}
	buildLine := regexp.MustCompile(`^go build -o bin/(\S+) \./cmd/(\S+)$`)
	port := freePort(t)
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, b := range blocks {
		for _, l := range b.lines {
			if m := buildLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil && m[1] == m[2] && built[m[1]] != "" {
				if err := os.Symlink(built[m[1]], filepath.Join(dir, "bin", m[1])); err != nil && !os.IsExist(err) {
					t.Fatal(err)
				}
				continue
			}
			script.WriteString(strings.ReplaceAll(l, "8080", fmt.Sprint(port)) + "\n")
		}
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME=", "XDG_CONFIG_HOME=", fmt.Sprintf("SENTINEL_LISTEN=127.0.0.1:%d", port), "NO_COLOR=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the quick start did not finish:\n%s", out.String())
	}
	logs := func() string {
		var b strings.Builder
		for _, f := range []string{"sentinel.log", "node-1.log"} {
			raw, _ := os.ReadFile(filepath.Join(dir, f))
			fmt.Fprintf(&b, "--- %s:\n%s\n", f, raw)
		}
		return b.String()
	}
	if err != nil {
		t.Fatalf("the quick start failed: %v\n%s\n%s", err, out.String(), logs())
	}
	for _, want := range []string{
		"waiting: none of your nodes is online",
		"is not done after 5s",
		`"slug": "bm-default"`,
		"claimed node",
		`"meanDps"`,
		`"totalIterations": 2000`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the quick start's output lacks %q:\n%s\n%s", want, out.String(), logs())
		}
	}
}

// The README and docs/ link only to files of the repository (or to web
// pages); a link to a file outside it, such as the original project's
// shared/ documents, is a dead link in a clone.
func TestDocumentationLinks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "README.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(raw), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", f, m[1])
			}
		}
		if strings.Contains(string(raw), "shared/PROTOCOL.md") || strings.Contains(string(raw), "shared/ENGINE.md") {
			t.Errorf("%s names a document outside the repository (shared/)", f)
		}
	}
}
