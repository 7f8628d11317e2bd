package nodecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"wowlab/internal/cli"
	"wowlab/internal/clock"
	"wowlab/internal/logging"
	"wowlab/node"
	"wowlab/node/control"
	"wowlab/node/policy"
	"wowlab/node/update"
	"wowlab/node/update/updatetest"
)

// ctlNode stands for node.Core behind the control API.
type ctlNode struct {
	gov   *policy.Governor
	mu    sync.Mutex
	state node.State
	calls []string
}

func (n *ctlNode) record(c string) { n.mu.Lock(); n.calls = append(n.calls, c); n.mu.Unlock() }
func (n *ctlNode) Calls() string   { n.mu.Lock(); defer n.mu.Unlock(); return strings.Join(n.calls, ",") }

func (n *ctlNode) State() node.State           { n.mu.Lock(); defer n.mu.Unlock(); return n.state }
func (n *ctlNode) Connection() node.Connection { return node.Connected }
func (n *ctlNode) Host() node.Host {
	return node.Host{Hostname: "desk.local", TotalCores: 8, EnabledCores: 4, Platform: "linux-x86_64"}
}
func (n *ctlNode) Stats() node.Stats {
	return node.Stats{ActiveChunks: 2, CompletedChunks: 1204, FailedChunks: 3, Iterations: 1_205_500, IterationsPerSecond: 12345.6,
		BusyWorkers: 1, MaxWorkers: 4, TotalCores: 8, CPUPercent: 98.6}
}
func (n *ctlNode) Chunks() []node.ChunkProgress {
	return []node.ChunkProgress{
		{Chunk: node.Chunk{ID: "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", Iterations: 1000}, Running: true, Done: 620, Started: time.Now()},
		{Chunk: node.Chunk{ID: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", Iterations: 1000}},
	}
}
func (n *ctlNode) Policy() policy.Status { return n.gov.Status() }
func (n *ctlNode) Pause(now bool) error {
	n.record(map[bool]string{true: "pause now", false: "pause"}[now])
	n.gov.Pause()
	return nil
}
func (n *ctlNode) Resume() error { n.record("resume"); n.gov.Resume(); return nil }
func (n *ctlNode) RetryNow()     { n.record("retry") }

func (n *ctlNode) Finish() error { n.record("finish"); return nil }
func (n *ctlNode) Unlink() error { n.record("unlink"); return nil }
func (n *ctlNode) UpdateSettings(o policy.Overrides) error {
	n.record("settings")
	return n.gov.Update(o, nil)
}
func (n *ctlNode) Subscribe(buf int) (<-chan node.Event, func()) {
	ch := make(chan node.Event, buf)
	return ch, func() {}
}

type ctlEnv struct {
	dir  string
	node *ctlNode
	ring *logging.Ring
	srv  *control.Server
}

// startNodeAPI serves a fake node's control API from a config directory,
// the way a running node-headless does.
func startNodeAPI(t *testing.T) *ctlEnv { t.Helper(); return startNodeAPIWith(t, nil) }

// startNodeAPIWith is startNodeAPI with its control options changed by set.
func startNodeAPIWith(t *testing.T, set func(*control.Options)) *ctlEnv {
	t.Helper()
	gov, err := policy.NewGovernor(policy.Settings{PauseOnBattery: true, IdleMinutes: 3, CoresInUse: 2}, policy.Overrides{"cores": "4"},
		policy.GovernorOptions{Machine: policy.Machine{TotalCores: 8, DefaultCores: 4}, Clock: clock.NewFake(time.Date(2026, 1, 7, 12, 0, 0, 0, time.Local))})
	if err != nil {
		t.Fatal(err)
	}
	e := &ctlEnv{dir: t.TempDir(), ring: logging.NewRing(50),
		node: &ctlNode{gov: gov, state: node.State{Phase: node.Running, NodeID: "7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001", Name: "desk"}}}
	base := time.Date(2026, 1, 7, 12, 0, 0, 0, time.Local)
	e.ring.Add(logging.Entry{Time: base, Level: slog.LevelInfo, Message: "node state", Attrs: []logging.Attr{{Key: "state", Value: "running"}}})
	e.ring.Add(logging.Entry{Time: base.Add(time.Second), Level: slog.LevelWarn, Message: "chunk result refused", Attrs: []logging.Attr{{Key: "err", Value: "sentinel said no"}}})
	opts := control.Options{ConfigDir: e.dir, Version: "1.2.3", Logs: e.ring}
	if set != nil {
		set(&opts)
	}
	e.srv, err = control.Listen(e.node, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return e
}

// ctl runs node-headless ctl ARGS with the environment's config directory.
func (e *ctlEnv) ctl(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	return runCtl(t, context.Background(), e.dir, args...)
}

func runCtl(t *testing.T, ctx context.Context, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot(&out, env(map[string]string{"WOWLAB_NODE_CONFIG_DIR": dir}))
	root.SetErr(&errOut)
	root.SetContext(ctx)
	code := cli.Run(root, append([]string{"ctl"}, args...), &errOut)
	return code, out.String(), errOut.String()
}

func TestCtlStatus(t *testing.T) {
	e := startNodeAPI(t)
	code, out, errOut := e.ctl(t, "status")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	t.Logf("ctl status:\n%s", out)
	for _, want := range []string{
		"Node     desk  7d8a6f7e-0f57-4a43-8f0c-55c7f6f2a001",
		"State    running, realtime connected",
		"Version  1.2.3 on linux-x86_64 (desk.local)",
		"Cores    4 of 8 allowed (cores setting); 1 of 4 workers busy",
		"Chunks   1204 completed, 3 failed, 2 held",
		"3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f  [############........]  62%  620 of 1000 iterations",
		"9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a  queued, 1000 iterations",
		"Speed    12346 iterations/s over the last minute, CPU 99%",
		"Policies",
		"cores setting",
		"<- decides",
		"computer in use",
		"input idleness not measured yet",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q", want)
		}
	}
	code, out, _ = e.ctl(t, "status", "--json")
	var s control.Status
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.Name != "desk" || len(s.Chunks) != 2 {
		t.Fatalf("--json: %d %s", code, out)
	}
	e.node.mu.Lock()
	e.node.state = node.State{Phase: node.Claiming, NodeID: "x", ClaimCode: "ABCDEF"}
	e.node.mu.Unlock()
	if _, out, _ = e.ctl(t, "status"); !strings.Contains(out, "waiting to be claimed with code ABC DEF") || !strings.Contains(out, "(not claimed yet)") {
		t.Fatalf("claiming:\n%s", out)
	}
	e.node.mu.Lock()
	e.node.state = node.State{Phase: node.Unavailable, RetryIn: 20 * time.Second, Err: "dial tcp: connection refused"}
	e.node.mu.Unlock()
	if _, out, _ = e.ctl(t, "status"); !strings.Contains(out, "sentinel unavailable, retrying in 20 s: dial tcp: connection refused") {
		t.Fatalf("unavailable:\n%s", out)
	}
}

func TestCtlPauseResumeFinish(t *testing.T) {
	e := startNodeAPI(t)
	code, out, errOut := e.ctl(t, "pause")
	if code != 0 || !strings.Contains(out, "Running chunks finish first") || !strings.Contains(out, "The node is paused by you.") {
		t.Fatalf("pause: %d %q %q", code, out, errOut)
	}
	_, out, _ = e.ctl(t, "status")
	if !strings.Contains(out, "State    paused by you") || !strings.Contains(out, "none allowed while paused") {
		t.Fatalf("status after pause:\n%s", out)
	}
	if code, out, _ = e.ctl(t, "pause", "--now"); code != 0 || !strings.Contains(out, "handed back its chunks") {
		t.Fatalf("pause --now: %d %q", code, out)
	}
	if code, out, _ = e.ctl(t, "resume"); code != 0 || !strings.Contains(out, "Resumed.\nThe node may use 4 cores now (cores setting).") {
		t.Fatalf("resume: %d %q", code, out)
	}
	if code, out, _ = e.ctl(t, "finish"); code != 0 || !strings.Contains(out, "finishes the 2 chunks it holds, then stops") {
		t.Fatalf("finish: %d %q", code, out)
	}
	if code, _, errOut := e.ctl(t, "unlink"); code != 2 || !strings.Contains(errOut, "confirm with --yes") {
		t.Fatalf("unlink without --yes: %d %q", code, errOut)
	}
	if code, out, _ = e.ctl(t, "unlink", "--yes"); code != 0 || !strings.Contains(out, "then forgets its identity and stops") {
		t.Fatalf("unlink: %d %q", code, out)
	}
	if got := e.node.Calls(); got != "pause,pause now,resume,finish,unlink" {
		t.Fatalf("calls %s (an unconfirmed unlink must not reach the node)", got)
	}
	e.node.mu.Lock()
	e.node.state = node.State{Phase: node.Finished, Unlinked: true}
	e.node.mu.Unlock()
	if _, out, _ = e.ctl(t, "status"); !strings.Contains(out, "finished and unlinked: the next start registers a new node") {
		t.Fatalf("status of an unlinked node:\n%s", out)
	}
}

func TestCtlSettings(t *testing.T) {
	e := startNodeAPI(t)
	code, out, _ := e.ctl(t, "settings")
	t.Logf("ctl settings:\n%s", out)
	for _, want := range []string{"cores            = 4 (this run, from --cores or WOWLAB_NODE_CORES; config.ini has 0)", "schedule         = always",
		"pause_on_battery = true", "ctl set NAME VALUE"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("settings lack %q", want)
		}
	}
	code, out, errOut := e.ctl(t, "set", "cores", "2", "schedule", "mon-fri 18:00-08:00, sat-sun all day", "cores-in-use", "0")
	if code != 0 {
		t.Fatalf("set: %d %s", code, errOut)
	}
	t.Logf("ctl set:\n%s", out)
	want := "cores = 2\nschedule = mon-fri 18:00-08:00, sat-sun all day\ncores_in_use = 0\nSaved to config.ini and applied. The node is paused (schedule: outside the schedule until 18:00).\n"
	if out != want {
		t.Fatalf("set printed\n%s\nwant\n%s", out, want)
	}
	if code, out, _ = e.ctl(t, "set", "schedule", "always"); code != 0 || !strings.Contains(out, "schedule = always") {
		t.Fatalf("set schedule always: %d %q", code, out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"set", "cores"}, "give pairs of NAME VALUE"},
		{[]string{"set"}, "give pairs"},
		{[]string{"set", "turbo", "1"}, `unknown setting "turbo"; the settings are: cores, idle_minutes`},
		{[]string{"set", "cores", "-4"}, "cores: -4 is not between 0 and 4096"},
		{[]string{"set", "schedule", "mon-fry all day"}, `"fry" is not a day`},
	} {
		code, _, errOut := e.ctl(t, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("ctl %v: %d %q, want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
	var help bytes.Buffer
	root := newRoot(&help, env(nil))
	root.SetOut(&help)
	if code := cli.Run(root, []string{"ctl", "set", "--help"}, &help); code != 0 || !strings.Contains(help.String(), "max_temperature") || !strings.Contains(help.String(), "ctl set schedule") {
		t.Fatalf("set --help: %s", help.String())
	}
	// ctl's help shows of the inherited flags only --config-dir.
	if h := help.String(); !strings.Contains(h, "--config-dir string   directory of the key and config.ini") || strings.Contains(h, "--anon-key") || strings.Contains(h, "--busy-cores") {
		t.Fatalf("set --help shows the run flags:\n%s", h)
	}
}

func TestCtlLogs(t *testing.T) {
	e := startNodeAPI(t)
	code, out, _ := e.ctl(t, "logs")
	if code != 0 || !strings.Contains(out, "2026-01-07 12:00:00 INFO  node state state=running\n") ||
		!strings.Contains(out, `2026-01-07 12:00:01 WARN  chunk result refused err="sentinel said no"`) {
		t.Fatalf("logs: %d\n%s", code, out)
	}
	if _, out, _ = e.ctl(t, "logs", "--level", "warn", "-n", "5"); strings.Contains(out, "node state") {
		t.Fatalf("level filter:\n%s", out)
	}
	if code, _, _ = e.ctl(t, "logs", "--level", "loud"); code != 2 {
		t.Fatalf("bad level: %d", code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var out2 syncBuffer
	done := make(chan int, 1)
	go func() {
		root := newRoot(&out2, env(map[string]string{"WOWLAB_NODE_CONFIG_DIR": e.dir}))
		root.SetContext(ctx)
		done <- cli.Run(root, []string{"ctl", "logs", "-f", "-n", "1"}, &out2)
	}()
	waitOutput(t, &out2, "chunk result refused")
	e.ring.Add(logging.Entry{Time: time.Now(), Level: slog.LevelInfo, Message: "chunk completed"})
	waitOutput(t, &out2, "chunk completed")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("logs -f ended with %d: %s", code, out2.String())
	}
	if strings.Contains(out2.String(), "node state") {
		t.Fatalf("-n 1 printed more:\n%s", out2.String())
	}
}

func waitOutput(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", want, b.String())
		}
		time.Sleep(time.Millisecond) // polling output
	}
}

func TestCtlWithoutNode(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCtl(t, context.Background(), dir, "status")
	if code != exitNotRunning || !strings.Contains(errOut, "no node is running with config directory "+dir) || !strings.Contains(errOut, "Start one with") {
		t.Fatalf("no node: %d %q", code, errOut)
	}
	// A node that died left its address.
	e := startNodeAPI(t)
	url := e.srv.URL()
	stopped := t.TempDir()
	if err := os.WriteFile(filepath.Join(stopped, control.URLFile), []byte(url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(e.dir, control.KeyFile))
	if err := os.WriteFile(filepath.Join(stopped, control.KeyFile), []byte(strings.Repeat("ab", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCtl(t, context.Background(), stopped, "pause")
	if code != exitUnauthorized || !strings.Contains(errOut, "refused the API key") || !strings.Contains(errOut, control.KeyFile) {
		t.Fatalf("wrong key: %d %q", code, errOut)
	}
	if e.node.Calls() != "" {
		t.Fatal("a refused ctl reached the node")
	}
	if err := os.WriteFile(filepath.Join(stopped, control.KeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ = runCtl(t, context.Background(), stopped, "status"); code != 0 {
		t.Fatalf("right key: %d", code)
	}
	if err := os.WriteFile(filepath.Join(stopped, control.URLFile), []byte("http://127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut = runCtl(t, context.Background(), stopped, "status"); code != exitNotRunning {
		t.Fatalf("stale address: %d %q", code, errOut)
	}
}

func TestPolicyFlagsAndEnvironment(t *testing.T) {
	got := policy.Overrides{}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	addPolicyFlags(fs, got)
	if err := fs.Parse([]string{"--cores-in-use", "2", "--idle-minutes=5", "--pause-on-battery=false", "--schedule", "sat-sun all day"}); err != nil {
		t.Fatal(err)
	}
	if err := cli.ApplyEnv(fs, env(map[string]string{"WOWLAB_NODE_MAX_TEMPERATURE": "85", "WOWLAB_NODE_IDLE_MINUTES": "9"})); err != nil {
		t.Fatal(err)
	}
	want := policy.Overrides{"cores_in_use": "2", "idle_minutes": "5", "pause_on_battery": "false", "schedule": "sat-sun all day", "max_temperature": "85"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	fs = pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	bare := policy.Overrides{}
	addPolicyFlags(fs, bare)
	if err := fs.Parse([]string{"--pause-on-battery"}); err != nil || bare["pause_on_battery"] != "true" {
		t.Fatalf("a bare bool flag: %v %v", bare, err)
	}
	for _, args := range [][]string{{"--schedule", "mon-fry all day"}, {"--busy-percent", "100"}, {"--cores", "x"}} {
		if err := fs.Parse(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	var out, errOut bytes.Buffer
	for _, tt := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--schedule", "someday"}, nil},
		{nil, map[string]string{"WOWLAB_NODE_BUSY_CORES": "-1"}},
		{[]string{"--max-temperature", "20"}, nil},
	} {
		if code := cli.Run(newRoot(&out, env(tt.env)), tt.args, &errOut); code != 2 {
			t.Errorf("%v %v: code %d (%s)", tt.args, tt.env, code, errOut.String())
		}
	}
}

// A policy in config.ini the node cannot follow stops it at once, saying
// where.
func TestRunRefusesABadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cfg")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, node.ConfigFile), []byte("[policy]\nschedule = weekdayz all day\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := cli.Run(newRoot(&out, env(map[string]string{"WOWLAB_NODE_CONFIG_DIR": cfg, "WOWLAB_NODE_LOG_DIR": filepath.Join(dir, "logs")})), []string{"run"}, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "[policy] schedule") || !strings.Contains(errOut.String(), `"weekdayz" is not a day`) {
		t.Fatalf("code %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "logs")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the node started its logs before refusing: %v", err)
	}
}

// ctl auto-update switches the node's real update checker, which saves the
// choice; a node whose flag forces updates off refuses it (exit 1).
func TestCtlAutoUpdate(t *testing.T) {
	var mu sync.Mutex
	var saved []bool
	save := func(on bool) error { mu.Lock(); defer mu.Unlock(); saved = append(saved, on); return nil }
	checker := updatetest.Checker(t, "node-headless", "v1.2.3", "", save)
	e := startNodeAPIWith(t, func(o *control.Options) { o.Updates = checker })
	code, out, errOut := e.ctl(t, "auto-update", "off")
	if code != 0 || !strings.Contains(out, "automatic updates off: "+update.OffByConfig) {
		t.Fatalf("auto-update off: %d %q %q", code, out, errOut)
	}
	if s := checker.Status(); s.Automatic {
		t.Fatalf("checker after off: %+v", s)
	}
	if code, out, errOut := e.ctl(t, "auto-update", "on"); code != 0 || strings.Contains(out, "off") {
		t.Fatalf("auto-update on: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := e.ctl(t, "auto-update", "maybe"); code != 2 || !strings.Contains(errOut, "maybe") {
		t.Fatalf("auto-update maybe: %d %q", code, errOut)
	}
	forced := startNodeAPIWith(t, func(o *control.Options) {
		o.Updates = updatetest.Checker(t, "node-headless", "v1.2.3", "--no-update (or WOWLAB_NO_UPDATE) is set", save)
	})
	if code, _, errOut := forced.ctl(t, "auto-update", "on"); code != 1 || !strings.Contains(errOut, "--no-update") {
		t.Fatalf("forced off: %d %q", code, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(saved, []bool{false, true}) {
		t.Fatalf("saved %v, want the two accepted switches only", saved)
	}
}
