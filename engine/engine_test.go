package engine

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden result files")

func compileExample(t testing.TB, name string) *Sim {
	t.Helper()
	s, err := Compile(loadExample(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t testing.TB, s *Sim, offset, n int, opts RunOptions) *Result {
	t.Helper()
	r, err := s.Run(context.Background(), offset, n, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSameSeedSameResult(t *testing.T) {
	for _, ex := range []string{"bm_hunter.json", "bm_dark_ranger.json", "mm_hunter.json", "mm_sentinel.json"} {
		a := run(t, compileExample(t, ex), 0, 200, RunOptions{KeepDps: true})
		b := run(t, compileExample(t, ex), 0, 200, RunOptions{KeepDps: true})
		for i := range a.Dps {
			if a.Dps[i] != b.Dps[i] {
				t.Fatalf("%s iteration %d: %v then %v", ex, i, a.Dps[i], b.Dps[i])
			}
		}
		if a.Dps[0] == a.Dps[1] {
			t.Fatalf("%s: different seeds gave the same DPS %v", ex, a.Dps[0])
		}
	}
}

func TestSplittingInvariance(t *testing.T) {
	for _, ex := range []string{"bm_hunter.json", "mm_hunter.json"} {
		s := compileExample(t, ex)
		whole := run(t, s, 0, 2000, RunOptions{Threads: 1, KeepDps: true})
		first := run(t, s, 0, 700, RunOptions{Threads: 1, KeepDps: true})
		second := run(t, s, 700, 1300, RunOptions{Threads: 1, KeepDps: true})
		two := run(t, s, 0, 2000, RunOptions{Threads: 2, KeepDps: true})
		split := append(append([]float64{}, first.Dps...), second.Dps...)
		for i := range whole.Dps {
			if whole.Dps[i] != split[i] || whole.Dps[i] != two.Dps[i] {
				t.Fatalf("%s iteration %d: whole %v, split %v, two threads %v", ex, i, whole.Dps[i], split[i], two.Dps[i])
			}
		}
		if whole.Chunk() != two.Chunk() || whole.Events != two.Events {
			t.Fatalf("%s: summaries differ: %+v and %+v", ex, whole.Chunk(), two.Chunk())
		}
	}
}

// countingGate lets limit goroutines in at once and records the most it
// ever held.
type countingGate struct {
	slots     chan struct{}
	mu        sync.Mutex
	held, top int
	acquired  int
}

func newCountingGate(limit int) *countingGate {
	return &countingGate{slots: make(chan struct{}, limit)}
}

func (g *countingGate) Acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	g.held++
	g.acquired++
	g.top = max(g.top, g.held)
	g.mu.Unlock()
	return nil
}

func (g *countingGate) Release() {
	g.mu.Lock()
	g.held--
	g.mu.Unlock()
	<-g.slots
}

// Goroutines simulate only while they hold a slot of the gate, and the
// result is the same as without one.
func TestGateBoundsTheSimulatingGoroutines(t *testing.T) {
	s := compileExample(t, "bm_hunter.json")
	free := run(t, s, 0, 600, RunOptions{Threads: 1, KeepDps: true})
	g := newCountingGate(2)
	gated := run(t, s, 0, 600, RunOptions{Threads: 6, Gate: g, KeepDps: true})
	if g.top < 1 || g.top > 2 || g.held != 0 || g.acquired < 600/16 {
		t.Fatalf("gate: at most %d held (limit 2), %d still held, %d acquired", g.top, g.held, g.acquired)
	}
	if free.Chunk() != gated.Chunk() || free.Events != gated.Events {
		t.Fatalf("summaries differ: %+v and %+v", free.Chunk(), gated.Chunk())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Run(ctx, 0, 600, RunOptions{Threads: 3, Gate: newCountingGate(1)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a run whose context ended: %v", err)
	}
}

// golden is the part of a result that must never change by accident.
type golden struct {
	Iterations int            `json:"iterations"`
	MeanDps    float64        `json:"meanDps"`
	StdDps     float64        `json:"stdDps"`
	MinDps     float64        `json:"minDps"`
	MaxDps     float64        `json:"maxDps"`
	Events     int64          `json:"events"`
	Abilities  []AbilityStats `json:"abilities"`
}

// TestGolden compares the bundled profiles with the checked-in results. A
// change in the numbers is accepted on purpose: run `go test ./engine -run
// TestGolden -update` and give the reason in the commit message.
func TestGolden(t *testing.T) {
	for _, ex := range []string{"bm_hunter.json", "bm_dark_ranger.json", "mm_hunter.json", "mm_sentinel.json"} {
		r := run(t, compileExample(t, ex), 0, 500, RunOptions{Threads: 2, Breakdown: true})
		got, err := json.MarshalIndent(golden{r.Iterations, r.MeanDps, r.StdDps, r.MinDps, r.MaxDps, r.Events, r.Abilities}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", "golden", ex)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from %s:\n%s", ex, path, got)
		}
	}
}

func TestBMExerciseRealFight(t *testing.T) {
	r := run(t, compileExample(t, "bm_hunter.json"), 0, 100, RunOptions{Breakdown: true})
	var actions float64
	seen := map[string]bool{}
	for _, a := range r.Abilities {
		actions += a.CastsPerIteration
		seen[a.Name] = a.CastsPerIteration > 0 || a.HitsPerIteration > 0
	}
	if actions < 250 {
		t.Errorf("only %.1f player and pet actions per 300 s fight", actions)
	}
	// The Pack Leader build's spells, pets and beasts all take part.
	for _, name := range []string{"kill_command", "barbed_shot", "cobra_shot", "bestial_wrath", "bloodshed", "kill_shot",
		"pet_melee", "pet_claw", "companion_melee", "stomp", "auto_shot", "dire_beast_melee", "dire_beast_kill_command",
		"hati_melee", "fenryr_melee", "laceration", "boar_charge", "bear_melee", "rend_flesh", "stampede", "poisoned_barbs"} {
		if !seen[name] {
			t.Errorf("%s never used", name)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	base := string(loadExample(t, "bm_hunter.json"))
	agility := regexp.MustCompile(`"agility": [0-9.]+`).FindString(base)
	talents := exampleConfig(t, "bm_hunter.json").Player.Talents
	ki := fmt.Sprintf("player.talents[%d]", slices.Index(talents, "killer_instinct"))
	// The first Pack Leader talent after Killer Instinct meets Dark Ranger's.
	pl := fmt.Sprintf("player.talents[%d]", slices.Index(talents, "howl_of_the_pack_leader"))
	cases := []struct {
		name, doc, path, msg string
	}{
		{"not json", "{", "", "invalid JSON"},
		{"missing player", `{"duration":300,"target":{}}`, "player", "missing"},
		{"missing duration", `{"player":{"spec":"bm","stats":{}},"target":{}}`, "duration", "missing"},
		{"missing spec", `{"player":{"stats":{}},"duration":300,"target":{}}`, "player.spec", "missing"},
		{"missing stats", `{"player":{"spec":"bm"},"duration":300,"target":{}}`, "player.stats", "missing"},
		{"zero duration", strings.Replace(base, `"duration": 300`, `"duration": 0`, 1), "duration", "more than 0"},
		{"huge duration", strings.Replace(base, `"duration": 300`, `"duration": 3601`, 1), "duration", "at most 3600"},
		{"overflow", strings.Replace(base, `"duration": 300`, `"duration": 1e999`, 1), "duration", "expected float64"},
		{"string number", strings.Replace(base, `"duration": 300`, `"duration": "300"`, 1), "duration", "expected float64"},
		{"negative agility", strings.Replace(base, agility, `"agility": -1`, 1), "player.stats.agility", "between"},
		{"survival", strings.Replace(base, `"beast_mastery"`, `"survival"`, 1), "player.spec", "survival"},
		{"unknown spec", strings.Replace(base, `"beast_mastery"`, `"beast_mastry"`, 1), "player.spec", `did you mean "beast_mastery"`},
		{"unknown talent", strings.Replace(base, `"killer_instinct"`, `"killer_instinkt"`, 1), ki, `did you mean "killer_instinct"`},
		{"other spec talent", strings.Replace(base, `"killer_instinct"`, `"trick_shots"`, 1), ki, "not a beast_mastery talent"},
		{"bad rank", strings.Replace(base, `"killer_instinct"`, `"killer_instinct:3"`, 1), ki, "ranks 0 to 2"},
		{"two hero trees", strings.Replace(base, `"killer_instinct"`, `"black_arrow"`, 1), pl, "choose one hero tree"},
		{"three set pieces", strings.Replace(base, `"tier_set": 4`, `"tier_set": 3`, 1), "player.tier_set", "0, 2 or 4"},
		{"negative armor", strings.Replace(base, `"level_diff": 3`, `"level_diff": 3, "armor": -5`, 1), "target.armor", "between"},
		{"bloodlust after the fight", strings.Replace(base, `"duration": 300,`, `"duration": 300, "raid": {"bloodlust_at": 4000},`, 1), "raid.bloodlust_at", "between"},
		{"bad rotation", strings.Replace(base, `kill_command\"}`, `kil_command\"}`, 1), "rotation.lists.cleave[6].cast", `did you mean "kill_command"`},
		{"rotation id without script", `{"player":{"spec":"bm","stats":{}},"duration":300,"target":{},"rotationId":"abc"}`, "rotation", "rotationId"},
		{"zero targets", strings.Replace(base, `"count": 1`, `"count": 0`, 1), "target.count", "between 1 and 20"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile([]byte(c.doc))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a ConfigError", err)
			}
			if ce.Path != c.path || !strings.Contains(ce.Msg, c.msg) {
				t.Fatalf("got %q at %q, want %q at %q", ce.Msg, ce.Path, c.msg, c.path)
			}
		})
	}
}

func TestDefaultRotationWhenNoneGiven(t *testing.T) {
	doc := `{"player":{"spec":"MM-Hunter","stats":{"agility":5000}},"duration":60,"target":{"count":3}}`
	s, err := Compile([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, s, 0, 10, RunOptions{})
	if r.MeanDps <= 0 || math.IsNaN(r.StdDps) {
		t.Fatalf("result %+v", r)
	}
}

func TestRunArguments(t *testing.T) {
	s := compileExample(t, "mm_hunter.json")
	if _, err := s.Run(context.Background(), 0, 0, RunOptions{}); err == nil {
		t.Error("zero iterations accepted")
	}
	if _, err := s.Run(context.Background(), -1, 5, RunOptions{}); err == nil {
		t.Error("negative offset accepted")
	}
	// Counts the engine cannot hold are refused before anything is
	// allocated, whether or not every DPS is kept.
	for _, opts := range []RunOptions{{}, {KeepDps: true}, {Threads: 4, KeepDps: true}} {
		for _, n := range []int{MaxIterations + 1, 1_000_000_000_000, math.MaxInt} {
			var ce *ConfigError
			if _, err := s.Run(context.Background(), 0, n, opts); !errors.As(err, &ce) || ce.Path != "iterations" {
				t.Errorf("%d iterations (%+v): %v", n, opts, err)
			}
		}
	}
	var ce *ConfigError
	if _, err := s.Run(context.Background(), math.MaxInt-2, 5, RunOptions{}); !errors.As(err, &ce) || ce.Path != "offset" {
		t.Errorf("an offset whose iterations overflow: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Run(ctx, 0, 1000, RunOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run returned %v", err)
	}
}

func TestValidateRotation(t *testing.T) {
	if ps, _ := ValidateRotation(Specs()[0].DefaultRotation(), "bm"); ps != nil {
		t.Fatalf("default BM rotation: %v", ps)
	}
	if ps, _ := ValidateRotation(Specs()[1].DefaultRotation(), "mm"); ps != nil {
		t.Fatalf("default MM rotation: %v", ps)
	}
	bad := `{"actions":[{"cast":"aimed_shot"},{"cast":"kill_command","if":{"and":["talent.alpha_predator","buff.frenzzy.active"]}}]}`
	ps, _ := ValidateRotation([]byte(bad), "bm")
	if len(ps) != 2 {
		t.Fatalf("got %v", ps)
	}
	if ps[0].Path != "actions[0].cast" || ps[0].Msg != "aimed_shot is not a beast_mastery spell" {
		t.Errorf("first problem %v", ps[0])
	}
	if ps[1].Path != "actions[1].if.and[1]" || ps[1].Msg != `unknown aura "frenzzy" in "buff.frenzzy.active"; did you mean "frenzy"?` {
		t.Errorf("second problem %v", ps[1])
	}
}

// TestValidateKnowsTheNewContent checks that the names of the hero talents,
// their spells and auras validate, and that near misses get suggestions.
func TestValidateKnowsTheNewContent(t *testing.T) {
	good := `{"actions":[{"cast":"black_arrow","if":{"and":["talent.the_bell_tolls","buff.withering_fire.active"]}},
		{"cast":"kill_command","if":{"and":["talent.howl_of_the_pack_leader",{">":["buff.wyverns_cry.stacks",1]},"buff.lead_from_the_front.active"]}},
		{"cast":"cobra_shot","if":{">":["buff.hogstrider.stacks",3]}}]}`
	if ps, _ := ValidateRotation([]byte(good), "bm"); ps != nil {
		t.Fatalf("new names refused: %v", ps)
	}
	if ps, _ := ValidateRotation([]byte(`{"actions":[{"cast":"aimed_shot","if":"buff.lunar_storm_ready.active"},{"cast":"rapid_fire","if":"talent.lunar_storm"}]}`), "mm"); ps != nil {
		t.Fatalf("sentinel names refused: %v", ps)
	}
	cases := []struct{ script, spec, want string }{
		{`{"actions":[{"cast":"black_arow"}]}`, "bm", `did you mean "black_arrow"?`},
		{`{"actions":[{"cast":"kill_command","if":"buff.wyverns_cri.active"}]}`, "bm", `did you mean "wyverns_cry"?`},
		{`{"actions":[{"cast":"kill_command","if":"talent.howl_of_the_pack_leadr"}]}`, "bm", `did you mean "howl_of_the_pack_leader"?`},
		{`{"actions":[{"cast":"aimed_shot","if":"talent.symphonic_arsenel"}]}`, "mm", `did you mean "symphonic_arsenal"?`},
	}
	for _, c := range cases {
		ps, _ := ValidateRotation([]byte(c.script), c.spec)
		if len(ps) != 1 || !strings.Contains(ps[0].Msg, c.want) {
			t.Errorf("%s: %v, want %q", c.script, ps, c.want)
		}
	}
}
