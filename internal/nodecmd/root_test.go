package nodecmd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wowlab/internal/cli"
	"wowlab/node"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestVersionAndHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := cli.Run(newRoot(&out, env(nil)), []string{"version"}, &errOut); code != 0 || !strings.HasPrefix(out.String(), "node-headless ") {
		t.Fatalf("version: code %d out %q err %q", code, out.String(), errOut.String())
	}
	out.Reset()
	root := newRoot(&out, env(nil))
	root.SetOut(&out)
	if code := cli.Run(root, []string{"--help"}, &errOut); code != 0 {
		t.Fatalf("help: code %d", code)
	}
	for _, want := range []string{"--config-dir", "WOWLAB_NODE_CONFIG_DIR", "WOWLAB_NODE_LOG_DIR", "WOWLAB_API_URL",
		"WOWLAB_SENTINEL_URL", "WOWLAB_ANON_KEY", "WOWLAB_NODE_CORES", "--log-format", "--grace", "--priority", "WOWLAB_NODE_PRIORITY", "run", "version"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--bogus"}, nil},
		{[]string{"run", "extra"}, nil},
		{[]string{"--log-format", "xml"}, nil},
		{[]string{"--cores", "-1"}, nil},
		{nil, map[string]string{"WOWLAB_NODE_CORES": "many"}},
		{[]string{"--priority", "high"}, nil},
		{nil, map[string]string{"WOWLAB_NODE_PRIORITY": "realtime"}},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := cli.Run(newRoot(&out, env(tt.env)), tt.args, &errOut); code != 2 {
			t.Errorf("%v %v: code %d, want 2 (%s)", tt.args, tt.env, code, errOut.String())
		}
	}
}

// TestRunWithoutAnonKeyFails runs the real command with directories from the
// environment and checks it stops with a clear error, writing only there:
// the project's sentinel publishes no bootstrap to learn the key from.
func TestRunWithoutAnonKeyFails(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := cli.Run(newRoot(&out, env(map[string]string{
		"WOWLAB_NODE_CONFIG_DIR": filepath.Join(dir, "cfg"), "WOWLAB_NODE_LOG_DIR": filepath.Join(dir, "logs"),
		"WOWLAB_NODE_PRIORITY": "normal",
	})), []string{"run"}, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "anon key") {
		t.Fatalf("code %d err %q", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "cfg", node.KeyFile)); err != nil {
		t.Fatalf("key not created in the configured dir: %v", err)
	}
	saved, err := node.LoadConfig(filepath.Join(dir, "cfg"), nil)
	if err != nil || saved.SentinelURL != node.DefaultSentinelURL {
		t.Fatalf("override written to config: %+v %v", saved, err)
	}
}

// TestRunStopsOnCancel starts the node against an unreachable backend and
// checks that cancelling (what SIGINT does) stops it cleanly.
func TestRunStopsOnCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, flags{app: Headless(), configDir: filepath.Join(dir, "cfg"), logDir: filepath.Join(dir, "logs"),
			sentinelURL: "http://127.0.0.1:1", apiURL: "http://127.0.0.1:1", anonKey: "k", logFormat: "json", grace: time.Second, priority: "normal"}, &out)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "unavailable") {
		if time.Now().After(deadline) {
			t.Fatalf("no unavailable state printed: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond) // polling output
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "node stopped") || !strings.Contains(out.String(), "normal priority") {
		t.Fatalf("output %q", out.String())
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "node-*.log"))
	if len(logs) != 1 {
		t.Fatalf("log files %v", logs)
	}
}

// The claim message names where to enter the code.
func TestClaimHint(t *testing.T) {
	for _, tc := range []struct {
		st       node.State
		sentinel string
		want     string
	}{
		{node.State{ClaimCode: "ABCDEF", ClaimURL: "https://s.example/claim"}, "https://s.example", "Open https://s.example/claim?code=ABCDEF to link"},
		{node.State{ClaimCode: "ABCDEF"}, node.DefaultSentinelURL, "Open the WoWLab portal"},
		{node.State{ClaimCode: "ABCDEF"}, node.DefaultSentinelURL + "/", "Open the WoWLab portal"},
		{node.State{ClaimCode: "ABCDEF"}, "http://10.0.0.5:8080", "sentinel nodes claim ABCDEF --user"},
	} {
		if got := claimHint(tc.st, tc.sentinel); !strings.Contains(got, tc.want) {
			t.Errorf("claimHint(%+v, %s) = %q, want it to hold %q", tc.st, tc.sentinel, got, tc.want)
		}
	}
}

// A control API address beyond loopback is refused without
// --control-allow-remote, before the node starts.
func TestRunRefusesRemoteControlAddress(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := cli.Run(newRoot(&out, env(map[string]string{
		"WOWLAB_NODE_CONFIG_DIR": filepath.Join(dir, "cfg"), "WOWLAB_NODE_LOG_DIR": filepath.Join(dir, "logs"),
		"WOWLAB_NODE_PRIORITY": "normal", "WOWLAB_ANON_KEY": "key",
	})), []string{"run", "--control-listen", "0.0.0.0:0"}, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "not a loopback address") {
		t.Fatalf("code %d err %q", code, errOut.String())
	}
}
