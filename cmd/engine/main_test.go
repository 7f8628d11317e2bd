package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"wowlab/examples"
)

// result is one in-process run of the command.
type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// errorLines returns the lines of stderr that report an error (the rest is
// the hint to run --help).
func errorLines(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "engine: ") {
			lines = append(lines, l)
		}
	}
	return lines
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func simJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	r := runCmd(t, append([]string{"sim", "--output", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Count(strings.TrimSpace(r.stdout), "\n") != 0 {
		t.Fatalf("json output is not one line: %q", r.stdout)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("json output does not parse: %v\n%s", err, r.stdout)
	}
	return m
}

func TestSimJSONHasFieldsAndIsIndependentOfThreads(t *testing.T) {
	one := simJSON(t, "--spec", "bm-hunter", "--iterations", "200", "--threads", "1")
	two := simJSON(t, "--spec", "bm-hunter", "--iterations", "200", "--threads", "2")

	for _, k := range []string{"iterations", "meanDps", "stdDps", "minDps", "maxDps", "abilities",
		"eventsPerIteration", "iterationsPerSecond", "wallSeconds", "spec", "seed", "threads"} {
		if _, ok := one[k]; !ok {
			t.Errorf("json output lacks %q", k)
		}
	}
	if one["iterations"] != 200.0 || one["spec"] != "beast_mastery" || one["threads"] != 1.0 || two["threads"] != 2.0 {
		t.Errorf("iterations/spec/threads = %v/%v/%v, %v", one["iterations"], one["spec"], one["threads"], two["threads"])
	}
	mean, _ := one["meanDps"].(float64)
	lo, _ := one["minDps"].(float64)
	hi, _ := one["maxDps"].(float64)
	if !(mean > 0 && lo <= mean && mean <= hi) {
		t.Errorf("dps mean %v min %v max %v out of order", mean, lo, hi)
	}
	abilities, _ := one["abilities"].([]any)
	if len(abilities) == 0 {
		t.Fatal("no abilities in json output")
	}
	var share, prev float64 = 0, -1
	for i, a := range abilities {
		m := a.(map[string]any)
		for _, k := range []string{"name", "actor", "damagePerIteration", "castsPerIteration", "damageShare"} {
			if _, ok := m[k]; !ok {
				t.Errorf("abilities[%d] lacks %q", i, k)
			}
		}
		d := m["damage"].(float64)
		if prev >= 0 && d > prev {
			t.Errorf("abilities not sorted by damage at %d", i)
		}
		prev = d
		share += m["damageShare"].(float64)
	}
	if share < 0.999 || share > 1.001 {
		t.Errorf("damage shares add up to %v", share)
	}

	for _, k := range []string{"wallSeconds", "iterationsPerSecond", "threads"} {
		delete(one, k)
		delete(two, k)
	}
	if !reflect.DeepEqual(one, two) {
		t.Errorf("results differ between --threads 1 and 2:\n%v\n%v", one, two)
	}
}

func TestSimSpecOverrides(t *testing.T) {
	m := simJSON(t, "--spec", "mm-hunter", "--duration", "60", "--seed", "42", "--iterations", "200")
	if m["spec"] != "marksmanship" || m["duration"] != 60.0 || m["seed"] != 42.0 {
		t.Errorf("spec/duration/seed = %v/%v/%v, want marksmanship/60/42", m["spec"], m["duration"], m["seed"])
	}
	full := simJSON(t, "--spec", "MM", "--iterations", "200")
	if full["duration"] != 300.0 {
		t.Errorf("bundled example duration = %v, want 300", full["duration"])
	}
	if m["meanDps"] == full["meanDps"] {
		t.Error("--duration 60 gave the same mean DPS as the 300 s example")
	}
	other := simJSON(t, "--spec", "mm-hunter", "--duration", "60", "--seed", "43", "--iterations", "200")
	if other["meanDps"] == m["meanDps"] {
		t.Error("--seed 43 gave the same mean DPS as --seed 42")
	}
}

func TestSimConfigFileMatchesSpec(t *testing.T) {
	b, err := os.ReadFile("../../examples/bm_hunter.json")
	if err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, "bm.json", string(b))
	fromFile := simJSON(t, "--config", p, "--iterations", "200")
	fromSpec := simJSON(t, "--spec", "bm", "--iterations", "200")
	for _, k := range []string{"meanDps", "stdDps", "minDps", "maxDps"} {
		if fromFile[k] != fromSpec[k] {
			t.Errorf("%s: --config %v, --spec %v", k, fromFile[k], fromSpec[k])
		}
	}
}

// TestSimProfiles runs each bundled profile by name and checks that it is
// the file's config.
func TestSimProfiles(t *testing.T) {
	for _, p := range examples.Profiles() {
		b, err := examples.FS.ReadFile(p.File)
		if err != nil {
			t.Fatal(err)
		}
		fromFile := simJSON(t, "--config", writeFile(t, p.File, string(b)), "--iterations", "50")
		fromName := simJSON(t, "--spec", strings.ToUpper(p.Name), "--iterations", "50")
		if fromFile["meanDps"] != fromName["meanDps"] || fromName["spec"] != p.Spec || fromName["patch"] != "11.2.0" {
			t.Errorf("%s: --config %v, --spec %v (%v, patch %v)", p.Name, fromFile["meanDps"], fromName["meanDps"], fromName["spec"], fromName["patch"])
		}
	}
}

func TestSimCSV(t *testing.T) {
	r := runCmd(t, "sim", "--spec", "bm", "--iterations", "200", "--output", "csv")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v", err)
	}
	want := []string{"ability", "actor", "dps", "damage_per_iteration", "casts_per_iteration", "damage_share",
		"std_dps", "min_dps", "max_dps", "iterations"}
	if !reflect.DeepEqual(rows[0], want) {
		t.Errorf("header = %v, want %v", rows[0], want)
	}
	if len(rows) < 3 {
		t.Fatalf("want header, abilities and a total row, got %d rows", len(rows))
	}
	last := rows[len(rows)-1]
	if last[0] != "total" || last[9] != "200" || last[2] == "" {
		t.Errorf("summary row = %v", last)
	}
}

func TestSimText(t *testing.T) {
	r := runCmd(t, "sim", "--spec", "bm", "--iterations", "200")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"spec              beast_mastery", "iterations", "dps", " ± ", "min dps", "max dps",
		"iterations/s", "ability", "actor", "damage/iteration", "casts/iteration", "share", "kill_command"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr not empty without a terminal: %q", r.stderr)
	}
}

func TestSimConfigError(t *testing.T) {
	p := writeFile(t, "c.json", `{"player":{"spec":"bm","stats":{}},"duration":300,"target":{},
		"rotation":{"actions":[{"cast":"kil_command"}]}}`)
	r := runCmd(t, "sim", "--config", p, "--iterations", "10")
	want := `engine: config: rotation.actions[0].cast: unknown spell "kil_command"; did you mean "kill_command"?` + "\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want 1, %q", r.code, r.stderr, want)
	}
}

func TestSimCPUProfile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpu.pprof")
	r := runCmd(t, "sim", "--spec", "bm", "--iterations", "300", "--cpuprofile", p)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// A pprof profile is a gzip-compressed protocol buffer.
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("profile of %d bytes does not start with the gzip magic", len(b))
	}
}

func TestUsageErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name string
		args []string
		want string // part of the one error line
	}{
		{"unknown flag", []string{"sim", "--bogus"}, "unknown flag: --bogus"},
		{"bad flag value", []string{"sim", "--spec", "bm", "--iterations", "many"}, "--iterations"},
		{"neither config nor spec", []string{"sim"}, "exactly one of --config"},
		{"both config and spec", []string{"sim", "--spec", "bm", "--config", missing}, "exactly one of --config"},
		{"unknown spec", []string{"sim", "--spec", "warlock"}, `unknown profile or spec "warlock"`},
		{"near-miss profile", []string{"sim", "--spec", "mm_sentinl"}, `did you mean "mm_sentinel"?`},
		{"missing config", []string{"sim", "--config", missing}, "no such file"},
		{"zero iterations", []string{"sim", "--spec", "bm", "--iterations", "0"}, "--iterations"},
		{"negative threads", []string{"sim", "--spec", "bm", "--threads", "-1"}, "--threads"},
		{"bad duration", []string{"sim", "--spec", "bm", "--duration", "-5"}, "--duration"},
		{"bad output", []string{"sim", "--spec", "bm", "--output", "xml"}, "--output"},
		{"unwritable profile", []string{"sim", "--spec", "bm", "--cpuprofile", filepath.Join(missing, "cpu.pprof")}, "--cpuprofile"},
		{"validate without file", []string{"validate"}, `"file" not set`},
		{"validate missing file", []string{"validate", "--file", missing}, "no such file"},
		{"validate unknown spec", []string{"validate", "--file", missing, "--spec", "xx"}, `unknown spec "xx"`},
		{"unknown command", []string{"simulate"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			lines := errorLines(r.stderr)
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q: want one error line containing %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := `{"name":"t","actions":[{"cast":"kill_command"},{"cast":"cobra_shot","if":{">=":["resource.focus",50]}}]}`
	bad := `{"name":"t","actions":[{"cast":"kil_command"},{"cast":"cobra_shot","if":{">=":["cd.kil_command.ready",1]}}]}`
	mmGood := `{"actions":[{"cast":"aimed_shot"}]}`
	badConfig := `{"player":{"spec":"bm","stats":{}},"duration":-1,"target":{}}`
	goodConfig, err := os.ReadFile("../../examples/mm_hunter.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content string
		spec    string
		code    int
		want    []string // lines of stdout, in order
	}{
		{"valid rotation", good, "", 0, []string{"ok"}},
		{"misspelled spell", bad, "", 1, []string{
			`actions[0].cast: unknown spell "kil_command"; did you mean "kill_command"?`,
			`did you mean "kill_command"?`,
		}},
		{"other spec by alias", mmGood, "mm-hunter", 0, []string{"ok"}},
		{"spell of another spec", mmGood, "bm", 1, []string{"actions[0].cast: "}},
		{"not json", "{", "", 1, []string{"invalid JSON"}},
		{"valid config", string(goodConfig), "", 0, []string{"ok"}},
		{"bad config", badConfig, "", 1, []string{"duration: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"validate", "--file", writeFile(t, "r.json", tt.content)}
			if tt.spec != "" {
				args = append(args, "--spec", tt.spec)
			}
			r := runCmd(t, args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", r.code, tt.code, r.stdout, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) < len(tt.want) {
				t.Fatalf("stdout %q: want %d lines at least", r.stdout, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
			if tt.code == 1 && r.stderr != "" {
				t.Errorf("problems went to stderr too: %q", r.stderr)
			}
		})
	}
}

func TestValidateReportsEveryProblemWithPath(t *testing.T) {
	bad := `{"actions":[{"cast":"kil_command"},{"cast":"cobra_shot","if":{">=":["cd.kil_command.ready",1]}}]}`
	r := runCmd(t, "validate", "--file", writeFile(t, "r.json", bad))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 1 || len(lines) != 2 {
		t.Fatalf("exit %d, stdout %q: want 1 and two problems", r.code, r.stdout)
	}
	if !strings.HasPrefix(lines[1], "actions[1].if") || !strings.Contains(lines[1], `did you mean "kill_command"`) {
		t.Errorf("second problem = %q", lines[1])
	}
}

func TestSpecs(t *testing.T) {
	r := runCmd(t, "specs")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"patch 11.2.0", "sources:", "99269f8eb452d7160135f594c5249b208f520289",
		"beast_mastery (also:", "bm-hunter", "marksmanship (also:", "mm-hunter",
		"profiles: bm_pack_leader (default), bm_dark_ranger", "profiles: mm_dark_ranger (default), mm_sentinel",
		"spells:", "kill_command", "34026", "aimed_shot", "19434", "damage lines:", "stampede", "201594",
		"auras:", "wyverns_cry", "talents, class tree:", "talents, hero tree pack_leader:", "talents, hero tree sentinel:",
		"animal_companion", "267116", "howl_of_the_pack_leader", "granted with the tree",
		"set bonuses", "pack_leader 4-piece", "1236373", "sentinel 2-piece", "1236374"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("specs output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	tests := map[string][]string{
		"sim":      {"--config", "--spec", "--iterations", "--seed", "--duration", "--threads", "--output", "--cpuprofile", "WOWLAB_ENGINE_THREADS"},
		"validate": {"--file", "--spec"},
		"convert":  {"--file", "--spec"},
		"specs":    {"--help"},
	}
	for cmd, flags := range tests {
		r := runCmd(t, cmd, "--help")
		if r.code != 0 {
			t.Errorf("%s --help: exit %d", cmd, r.code)
		}
		for _, f := range flags {
			if !strings.Contains(r.stdout, f) {
				t.Errorf("%s --help lacks %s:\n%s", cmd, f, r.stdout)
			}
		}
	}
}

func TestSimCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, now: time.Now, lookupEnv: func(string) (string, bool) { return "", false }}
	code := a.execute(ctx, []string{"sim", "--spec", "bm", "--iterations", "100000"})
	if code != 130 || out.Len() != 0 || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 130, nothing, interrupted", code, out.String(), errb.String())
	}
}

func TestThreadsFromEnvironment(t *testing.T) {
	var out, errb bytes.Buffer
	env := map[string]string{"WOWLAB_ENGINE_THREADS": "1", "WOWLAB_ENGINE_OUTPUT": "json"}
	a := &app{stdout: &out, stderr: &errb, now: time.Now, lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	if code := a.execute(context.Background(), []string{"sim", "--spec", "bm", "--iterations", "50"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("WOWLAB_ENGINE_OUTPUT=json not applied: %v", err)
	}
	if m["threads"] != 1.0 {
		t.Errorf("threads = %v, want 1 from WOWLAB_ENGINE_THREADS", m["threads"])
	}
}

func TestWallClockIsInjected(t *testing.T) {
	var out bytes.Buffer
	t0 := time.Unix(1000, 0)
	calls := 0
	now := func() time.Time { calls++; return t0.Add(time.Duration(calls-1) * 2 * time.Second) }
	a := &app{stdout: &out, stderr: &bytes.Buffer{}, now: now, lookupEnv: func(string) (string, bool) { return "", false }}
	if code := a.execute(context.Background(), []string{"sim", "--spec", "bm", "--iterations", "50", "-o", "json"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["wallSeconds"] != 2.0 || m["iterationsPerSecond"] != 25.0 {
		t.Errorf("wallSeconds %v iterationsPerSecond %v, want 2 and 25", m["wallSeconds"], m["iterationsPerSecond"])
	}
}

func TestOverride(t *testing.T) {
	tests := []struct {
		name, doc string
		fields    map[string]any
		want      string
	}{
		{"sets fields, keeps numbers", `{"duration":300,"x":1.50,"seed":1}`, map[string]any{"duration": 60.0, "seed": int64(9)},
			`{"duration":60,"seed":9,"x":1.50}`},
		{"nothing to set", `{"a":1}`, nil, `{"a":1}`},
		{"not an object is left to Compile", `[1]`, map[string]any{"seed": int64(1)}, `[1]`},
		{"trailing data is left to Compile", `{"a":1} {}`, map[string]any{"seed": int64(1)}, `{"a":1} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := override([]byte(tt.doc), tt.fields)
			if err != nil || string(got) != tt.want {
				t.Errorf("override = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestProgressBar(t *testing.T) {
	var buf lockedBuffer
	p := startProgress(&buf, 100, time.Millisecond)
	update := p.Func()
	done := make(chan struct{})
	for g := range 4 { // concurrent, out-of-order counts as the engine sends them
		go func() {
			defer func() { done <- struct{}{} }()
			for i := g; i < 50; i += 4 {
				update(i + 1)
			}
		}()
	}
	for range 4 {
		<-done
	}
	// The bar is drawn by its own goroutine; wait until it shows the count.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(buf.String(), "50/100") {
		select {
		case <-deadline:
			t.Fatalf("progress bar never showed 50/100: %q", buf.String())
		case <-tick.C:
		}
	}
	p.Stop()
	if strings.Contains(buf.String(), "51/100") {
		t.Errorf("progress bar went past the count it was given: %q", buf.String())
	}
	if (&progress{}).Func() != nil {
		t.Error("a progress without a bar should give the engine no callback")
	}
	if newProgress(&bytes.Buffer{}, 10).Func() != nil {
		t.Error("a bar was drawn on a writer that is not a terminal")
	}
}

func TestConvert(t *testing.T) {
	portal, err := os.ReadFile("../../engine/rotation/testdata/portal/bm_lists.portal.json")
	if err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, "convert", "--file", writeFile(t, "p.json", string(portal)), "--spec", "bm")
	if r.code != 0 {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	var out struct {
		Actions   []map[string]any `json:"actions"`
		Precombat []map[string]any `json:"precombat"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Actions) != 4 || len(out.Precombat) != 1 {
		t.Errorf("stdout is not the translation (%v):\n%s", err, r.stdout)
	}
	// The translation runs as it is.
	r = runCmd(t, "validate", "--file", writeFile(t, "t.json", r.stdout), "--spec", "bm")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "ok" {
		t.Errorf("validate of the translation: exit %d, %q", r.code, r.stdout)
	}
	// So does the portal document itself.
	r = runCmd(t, "validate", "--file", writeFile(t, "p2.json", string(portal)), "--spec", "bm")
	if r.code != 0 || !strings.HasSuffix(strings.TrimSpace(r.stdout), "ok") {
		t.Errorf("validate of the portal rotation: exit %d, %q", r.code, r.stdout)
	}
	bad := `{"defaultListId":"m","lists":[{"id":"m","name":"a","listType":"main","actions":[{"id":"x","type":"spell","spellId":34026,"enabled":false}]}]}`
	r = runCmd(t, "convert", "--file", writeFile(t, "b.json", bad))
	if r.code != 1 || !strings.HasPrefix(r.stdout, "lists[0].actions: the default list has no enabled action") {
		t.Errorf("refused conversion: exit %d, %q", r.code, r.stdout)
	}
	r = runCmd(t, "convert", "--file", writeFile(t, "o.json", `{"actions":[{"cast":"kill_command"}]}`))
	if r.code != 1 || !strings.Contains(r.stdout, "this language already") {
		t.Errorf("conversion of this language: exit %d, %q", r.code, r.stdout)
	}
}

func TestValidatePrintsWarnings(t *testing.T) {
	r := runCmd(t, "validate", "--file", writeFile(t, "w.json", `{"variables":{"x":1},"actions":[{"wait":1},{"cast":"kill_command"}]}`))
	want := []string{
		`warning: variables.x: variable "x" is never read; remove it or use it in a condition`,
		"warning: actions[1]: unreachable: the wait at actions[0] always ends the walk before this action",
		"ok",
	}
	if r.code != 0 || strings.TrimSpace(r.stdout) != strings.Join(want, "\n") {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", r.code, r.stdout, strings.Join(want, "\n"))
	}
}
