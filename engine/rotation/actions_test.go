package rotation_test

import (
	"regexp"
	"strings"
	"testing"

	"wowlab/engine/rotation"
)

func TestPrecombatFiresEachActionOnce(t *testing.T) {
	env := newFakeEnv()
	env.allow("cobra_shot", "kill_command")
	p := mustCompile(t, `{
		"precombat": [{"cast": "cobra_shot"}, {"wait": 0.5}, {"set": "opened", "value": true}],
		"actions": [{"cast": "kill_command", "if": "opened"}, {"cast": "cobra_shot"}]}`, env)
	want := []rotation.Decision{
		{Kind: rotation.Cast, Spell: env.id("cobra_shot")},
		{Kind: rotation.Wait, Seconds: 0.5},
		{Kind: rotation.Cast, Spell: env.id("kill_command")},
		{Kind: rotation.Cast, Spell: env.id("kill_command")},
	}
	for iteration := 0; iteration < 2; iteration++ {
		p.Reset()
		for i, w := range want {
			if d := p.Decide(); d != w {
				t.Fatalf("iteration %d, decision %d = %+v, want %+v", iteration, i, d, w)
			}
		}
	}
}

func TestVariablesAssignedWithoutALiteral(t *testing.T) {
	env := newFakeEnv()
	env.allow("kill_command", "cobra_shot")
	// "low" is computed from focus at the start of every walk, then
	// changed by the walk; "count" is not declared and starts at 0 each
	// iteration.
	p := mustCompile(t, `{
		"variables": {"low": {"<": ["resource.focus", 40]}},
		"actions": [
			{"modify": "count", "op": "add", "value": 1},
			{"set": "low", "value": true, "if": {">=": ["count", 3]}},
			{"cast": "kill_command", "if": "low"},
			{"cast": "cobra_shot"}]}`, env)
	env.focus = 100
	got := ""
	for i := 0; i < 4; i++ {
		got += env.spells[p.Decide().Spell] + " "
	}
	if want := "cobra_shot cobra_shot kill_command kill_command "; got != want {
		t.Errorf("decisions %q, want %q", got, want)
	}
	p.Reset()
	if d := p.Decide(); env.spells[d.Spell] != "cobra_shot" {
		t.Errorf("after Reset the counter did not start again at 0: %s", env.spells[d.Spell])
	}
	env.focus = 10
	if d := p.Decide(); env.spells[d.Spell] != "kill_command" {
		t.Errorf("the computed variable did not follow focus: %s", env.spells[d.Spell])
	}
}

func TestUseItemAndTrinket(t *testing.T) {
	env := newFakeEnv()
	env.allow("cobra_shot")
	env.items = map[string]int{"signet": 0, "idol": 1}
	env.trinkets = map[int]int{1: 0, 2: 1}
	env.usable = map[int]bool{0: true}
	p := mustCompile(t, `{"actions":[{"use_trinket":2},{"use_item":"signet","if":{">":["resource.focus",20]}},{"cast":"cobra_shot"}]}`, env)
	if d := p.Decide(); d.Kind != rotation.Use || d.Item != 0 {
		t.Fatalf("decision %+v, want the use of item 0 (slot 2's item is on cooldown)", d)
	}
	env.usable[0] = false
	if d := p.Decide(); d.Kind != rotation.Cast {
		t.Errorf("decision %+v, want the cast once the item is on cooldown", d)
	}
}

func TestWarnings(t *testing.T) {
	env := newFakeEnv()
	tests := []struct{ name, src, path, msg string }{
		{"unused variable", `{"variables":{"x":1},"actions":[{"cast":"kill_command"}]}`, "variables.x", `variable "x" is never read`},
		{"unused list", `{"lists":{"aoe":[{"cast":"multi_shot"}]},"actions":[{"cast":"kill_command"}]}`, "lists.aoe", `list "aoe" is never called`},
		{"after a wait", `{"actions":[{"wait":1},{"cast":"kill_command"}]}`, "actions[1]", "unreachable: the wait at actions[0]"},
		{"after a run", `{"lists":{"st":[{"cast":"cobra_shot"}]},"actions":[{"run":"st","if":true},{"cast":"kill_command"}]}`, "actions[1]", `unreachable: the run of "st"`},
		{"item not worn", `{"actions":[{"use_item":"potion"},{"cast":"kill_command"}]}`, "actions[0].use_item", `no equipped item is called "potion"`},
		{"empty trinket slot", `{"actions":[{"use_trinket":2},{"cast":"kill_command"}]}`, "actions[0].use_trinket", "no trinket is worn in slot 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.src, env)
			for _, w := range p.Warnings {
				if w.Path == tt.path && strings.Contains(w.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("warnings %v; want one at %s containing %q", p.Warnings, tt.path, tt.msg)
		})
	}
	// A talent that makes a run unconditional does not make the rest
	// unreachable: that is how one rotation serves several builds.
	p := mustCompile(t, `{"lists":{"st":[{"cast":"cobra_shot"}]},"actions":[{"run":"st","if":"talent.alpha_predator"},{"cast":"kill_command"}]}`, env)
	if len(p.Warnings) != 0 {
		t.Errorf("warnings %v for a talent-ruled run", p.Warnings)
	}
}

func TestActionProblems(t *testing.T) {
	tests := []struct{ name, src, path, msg string }{
		{"empty list", `{"lists":{"aoe":[]},"actions":[{"cast":"kill_command"}]}`, "lists.aoe", `list "aoe" is empty`},
		{"trinket slot 3", `{"actions":[{"use_trinket":3}]}`, "actions[0].use_trinket", "a trinket slot is 1 or 2"},
		{"item without a name", `{"actions":[{"use_item":7}]}`, "actions[0].use_item", "must be a name"},
		{"set of a path", `{"actions":[{"set":"resource.focus","value":1}]}`, "actions[0].set", "invalid variable name"},
		{"precombat calls a list", `{"lists":{"a":[{"cast":"kill_command"}]},"precombat":[{"call":"a"}],"actions":[{"call":"a"}]}`, "precombat[0].call", "the precombat list cannot call"},
		{"precombat pools", `{"precombat":[{"pool":true}],"actions":[{"cast":"kill_command"}]}`, "precombat[0]", "no wait_until or pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := rotation.Parse([]byte(tt.src))
			if err == nil {
				_, err = rotation.Compile(r, newFakeEnv())
			}
			ps, _ := err.(rotation.Problems)
			for _, p := range ps {
				if p.Path == tt.path && strings.Contains(p.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("problems %v; want one at %s containing %q", err, tt.path, tt.msg)
		})
	}
}

// TestOriginalEvalSemantics re-expresses the original's eval.rs tests
// (legacy3/wowlab crates/engine/src/rotation/eval.rs at 23b36d69: safe_div,
// float_eq, float_ne, true_mod) as expressions.
func TestOriginalEvalSemantics(t *testing.T) {
	tests := []struct {
		cond string
		want bool
	}{
		{`{"==":[{"/":[10,2]},5]}`, true},
		{`{"==":[{"/":[7,2]},3.5]}`, true},
		{`{"==":[{"/":[-10,2]},-5]}`, true},
		{`{"==":[{"/":[10,-2]},-5]}`, true},
		{`{"==":[{"/":[-10,0]},0]}`, true},
		{`{"==":[{"/":[0,0]},0]}`, true},
		{`{"==":[1,1.0000001]}`, true},
		{`{"==":[1,0.9999999]}`, true},
		{`{"==":[1,1.00001]}`, false},
		{`{"!=":[1,1.00001]}`, true},
		{`{"!=":[1,1.0000001]}`, false},
		{`{"==":[{"%":[7,3]},1]}`, true},
		{`{"==":[{"%":[10,5]},0]}`, true},
		{`{"==":[{"%":[5.5,2]},1.5]}`, true},
		{`{"==":[{"%":[-10,3]},2]}`, true},
		{`{"==":[{"%":[-1,3]},2]}`, true},
		{`{"==":[{"%":[7,-3]},-2]}`, true},
		{`{"==":[{"%":[10,-3]},-2]}`, true},
		{`{"==":[{"%":[-7,-3]},-1]}`, true},
		{`{"==":[{"%":[-5,0]},0]}`, true},
		{`{"==":[{"%":[0,0]},0]}`, true},
	}
	env := newFakeEnv()
	env.allow("kill_command", "cobra_shot")
	for _, tt := range tests {
		// Once folded at compile time, once evaluated at run time.
		for _, src := range []string{
			`{"actions":[{"cast":"kill_command","if":` + tt.cond + `},{"cast":"cobra_shot"}]}`,
			`{"variables":{"z":0},"actions":[{"cast":"kill_command","if":` + atRunTime(tt.cond) + `},{"cast":"cobra_shot"}]}`,
		} {
			d := mustCompile(t, src, env).Decide()
			if got := d.Spell == env.id("kill_command"); got != tt.want {
				t.Errorf("%s is %v, want %v", tt.cond, got, tt.want)
			}
		}
	}
	p := mustCompile(t, `{"variables":{"n":10},"actions":[{"modify":"n","op":"div","value":0},{"cast":"kill_command","if":{"==":["n",0]}}]}`, env)
	if d := p.Decide(); d.Spell != env.id("kill_command") {
		t.Errorf("modify div by 0 did not give 0")
	}
}

var numberLiteral = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?`)

// atRunTime adds the variable z (0) to every number of cond, so that
// nothing in it folds at compile time.
func atRunTime(cond string) string {
	return numberLiteral.ReplaceAllString(cond, `{"+":["z",$0]}`)
}
