package rotation_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"wowlab/engine/rotation"
)

// compileProblems parses src (which must parse) and requires Compile to fail
// with Problems.
func compileProblems(t *testing.T, src string) rotation.Problems {
	t.Helper()
	r, err := rotation.Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	p, err := rotation.Compile(r, newFakeEnv())
	if err == nil {
		t.Fatalf("Compile succeeded, want problems")
	}
	if p != nil {
		t.Errorf("Compile returned a program along with an error")
	}
	var ps rotation.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Compile error %T is not rotation.Problems: %v", err, err)
	}
	return ps
}

func TestCompileProblems(t *testing.T) {
	const never = `; the rotation would never finish a decision`
	tests := []struct {
		name string
		src  string
		path string
		msg  string
	}{
		{"unknown spell", `{"actions":[{"cast":"kil_command"}]}`,
			"actions[0].cast", `unknown spell "kil_command"; did you mean "kill_command"?`},
		{"unknown spell without suggestion", `{"actions":[{"cast":"arcane_shot"}]}`,
			"actions[0].cast", `unknown spell "arcane_shot"`},
		{"unknown spell in a list", `{"lists":{"cds":[{"wait":1},{"cast":"bestial_rath"}]},"actions":[{"call":"cds"}]}`,
			"lists.cds[1].cast", `unknown spell "bestial_rath"; did you mean "bestial_wrath"?`},
		{"unknown path field", `{"actions":[{"cast":"kill_command","if":"cd.kill_command.redy"}]}`,
			"actions[0].if", `unknown cd field "redy" in "cd.kill_command.redy"; did you mean "ready"?`},
		{"unknown spell in path", `{"actions":[{"cast":"kill_command","if":"cd.kil_command.ready"}]}`,
			"actions[0].if", `unknown spell "kil_command" in "cd.kil_command.ready"; did you mean "kill_command"?`},
		{"unknown aura in operand", `{"actions":[{"cast":"kill_command","if":{">":["buff.frenzzy.stacks",1]}}]}`,
			"actions[0].if.>[0]", `unknown aura "frenzzy" in "buff.frenzzy.stacks"; did you mean "frenzy"?`},
		{"unknown talent", `{"actions":[{"cast":"kill_command","if":"talent.alpha_predatr"}]}`,
			"actions[0].if", `unknown talent "alpha_predatr" in "talent.alpha_predatr"; did you mean "alpha_predator"?`},
		{"env error passed through", `{"actions":[{"cast":"kill_command","if":"broken.thing"}]}`,
			"actions[0].if", `env failure for "broken.thing"`},
		{"unknown variable", `{"variables":{"pooling":0},"actions":[{"cast":"kill_command","if":{">":["poolin",1]}}]}`,
			"actions[0].if.>[0]", `unknown variable "poolin"; did you mean "pooling"?`},
		{"unknown variable no suggestion", `{"actions":[{"cast":"kill_command","if":"ready"}]}`,
			"actions[0].if", `unknown variable "ready"`},
		{"unknown list with suggestion", `{"lists":{"cooldowns":[{"cast":"bestial_wrath"}]},"actions":[{"call":"cooldown"}]}`,
			"actions[0].call", `unknown list "cooldown"; did you mean "cooldowns"?`},
		{"unknown run list", `{"lists":{"st":[{"cast":"cobra_shot"}]},"actions":[{"run":"aoe"}]}`,
			"actions[0].run", `unknown list "aoe"`},
		{"number as condition", `{"actions":[{"cast":"kill_command","if":"resource.focus"}]}`,
			"actions[0].if", `expected a condition (true/false), got a number; compare it, e.g. {">": ["resource.focus", 0]}`},
		{"arithmetic as condition", `{"actions":[{"cast":"kill_command","if":{"+":["resource.focus",1]}}]}`,
			"actions[0].if", `expected a condition (true/false), got a number; compare it, e.g. {">": [..., 0]}`},
		{"number literal as condition", `{"actions":[{"cast":"kill_command","if":1}]}`,
			"actions[0].if", `expected a condition (true/false), got a number; compare it, e.g. {">": [..., 0]}`},
		{"number as wait_until", `{"actions":[{"wait_until":"cd.kill_command.charges"}]}`,
			"actions[0].wait_until", `expected a condition (true/false), got a number; compare it, e.g. {">": ["cd.kill_command.charges", 0]}`},
		{"condition in arithmetic", `{"actions":[{"cast":"kill_command","if":{">":[{"+":["buff.frenzy.active",1]},2]}}]}`,
			"actions[0].if.>[0].+[0]", `"+" needs numbers, got a condition (true/false)`},
		{"condition in comparison", `{"actions":[{"cast":"kill_command","if":{"<":[1,"buff.frenzy.active"]}}]}`,
			"actions[0].if.<[1]", `"<" needs numbers, got a condition (true/false)`},
		{"number in logic", `{"actions":[{"cast":"kill_command","if":{"and":[true,"resource.focus"]}}]}`,
			"actions[0].if.and[1]", `"and" needs conditions (true/false), got a number`},
		{"number in not", `{"actions":[{"cast":"kill_command","if":{"not":"resource.focus"}}]}`,
			"actions[0].if.not", `"not" needs conditions (true/false), got a number`},
		{"== number and condition", `{"actions":[{"cast":"kill_command","if":{"==":["resource.focus","buff.frenzy.active"]}}]}`,
			"actions[0].if", `"==" compares a number with a condition (true/false)`},
		{"!= condition and number", `{"actions":[{"cast":"kill_command","if":{"!=":[true,3]}}]}`,
			"actions[0].if", `"!=" compares a condition (true/false) with a number`},
		{"set value is a condition", `{"variables":{"n":0},"actions":[{"set":"n","value":"buff.frenzy.active"}]}`,
			"actions[0].value", `set of variable "n" needs a number, got a condition (true/false)`},
		{"modify value is a condition", `{"variables":{"n":0},"actions":[{"modify":"n","op":"add","value":true}]}`,
			"actions[0].value", `modify of variable "n" needs a number, got a condition (true/false)`},
		{"set number into a condition variable", `{"variables":{"f":false},"actions":[{"set":"f","value":1}]}`,
			"actions[0].value", `set of variable "f" needs a condition (true/false), got a number`},
		{"arithmetic on a condition variable", `{"variables":{"f":true},"actions":[{"modify":"f","op":"add","value":1}]}`,
			"actions[0].op", `variable "f" holds true/false; "add" needs a number variable (use set or reset)`},
		{"undeclared variable set to a condition, then added to", `{"actions":[{"set":"x","value":true},{"modify":"x","op":"add","value":1}]}`,
			"actions[1].op", `variable "x" holds true/false; "add" needs a number variable (use set or reset)`},
		{"assigned computed variable refers to itself", `{"variables":{"x":{"+":["x",1]}},"actions":[{"set":"x","value":1}]}`,
			"variables.x.+[0]", `variable "x" is defined in terms of itself`},
		{"list calls itself", `{"lists":{"a":[{"call":"a"}]},"actions":[{"call":"a"}]}`,
			"lists.a[0]", `list "a" calls itself through "a"` + never},
		{"recursive lists", `{"lists":{"a":[{"cast":"cobra_shot"},{"call":"b"}],"b":[{"run":"a"}]},"actions":[{"call":"a"}]}`,
			"lists.b[0]", `list "a" calls itself through "b"` + never},
		{"three list cycle", `{"lists":{"a":[{"call":"b"}],"b":[{"call":"c"}],"c":[{"run":"a","if":"buff.frenzy.active"}]},"actions":[{"run":"a"}]}`,
			"lists.c[0]", `list "a" calls itself through "c"` + never},
		{"self-referencing variable", `{"variables":{"x":{"+":["x",1]}},"actions":[{"cast":"kill_command","if":{">":["x",1]}}]}`,
			"variables.x.+[0]", `variable "x" is defined in terms of itself`},
		{"mutually referencing variables", `{"variables":{"x":"y","y":{"not":"x"}},"actions":[{"wait":1}]}`,
			"variables.y.not", `variable "x" is defined in terms of itself`},
		{"problem in unused variable", `{"variables":{"unused":"cd.nope.ready"},"actions":[{"wait":1}]}`,
			"variables.unused", `unknown spell "nope" in "cd.nope.ready"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := compileProblems(t, tt.src)
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1: %v", len(ps), ps)
			}
			if ps[0].Path != tt.path || ps[0].Msg != tt.msg {
				t.Errorf("got\n  %q: %q\nwant\n  %q: %q", ps[0].Path, ps[0].Msg, tt.path, tt.msg)
			}
		})
	}
}

func TestCompileReportsAllProblems(t *testing.T) {
	src := `{
		"variables": {"bad": "buff.frenzy.stakcs", "n": 0},
		"lists": {"cds": [{"cast": "bestial_wrat"}]},
		"actions": [
			{"cast": "kil_command"},
			{"call": "cd"},
			{"cast": "cobra_shot", "if": "resource.focus"},
			{"set": "n", "value": true},
			{"cast": "barbed_shot"}
		]}`
	ps := compileProblems(t, src)
	want := []string{
		`variables.bad: unknown buff field "stakcs" in "buff.frenzy.stakcs"; did you mean "stacks"?`,
		`lists.cds[0].cast: unknown spell "bestial_wrat"; did you mean "bestial_wrath"?`,
		`actions[0].cast: unknown spell "kil_command"; did you mean "kill_command"?`,
		`actions[1].call: unknown list "cd"; did you mean "cds"?`,
		`actions[2].if: expected a condition (true/false), got a number; compare it, e.g. {">": ["resource.focus", 0]}`,
		`actions[3].value: set of variable "n" needs a number, got a condition (true/false)`,
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), ps)
	}
	for i := range want {
		if ps[i].String() != want[i] {
			t.Errorf("problem %d:\n got %s\nwant %s", i, ps[i], want[i])
		}
	}
}

// A chain of computed variables that each use the previous one twice must
// compile in linear time (each variable compiled once), not 2^n. Decide
// evaluates the shared sub-expressions 2^n times, so such chains are
// refused beyond MaxOperations.
func TestCompileVariableChainIsLinear(t *testing.T) {
	const n = 10
	var b strings.Builder
	b.WriteString(`{"variables":{"v0":"resource.focus"`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `,"v%d":{"+":["v%d","v%d"]}`, i, i-1, i-1)
	}
	fmt.Fprintf(&b, `},"actions":[{"cast":"kill_command","if":{">":["v%d",0]}},{"wait":1}]}`, n)
	env := newFakeEnv()
	p := mustCompile(t, b.String(), env)
	if got := env.resolveCalls["resource.focus"]; got > 2 {
		t.Errorf("resource.focus resolved %d times, want at most 2", got)
	}
	env.allow("kill_command")
	if d := p.Decide(); d.Kind != rotation.Cast {
		t.Errorf("Decide = %+v, want a cast (focus 50 * 2^10 > 0)", d)
	}
	env.focus = 0
	if d := p.Decide(); d.Kind != rotation.Wait {
		t.Errorf("Decide = %+v, want wait (focus 0)", d)
	}
}

func TestCompileRefusesExponentialExpressions(t *testing.T) {
	const n = 40
	var b strings.Builder
	b.WriteString(`{"variables":{"v0":"resource.focus"`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `,"v%d":{"+":["v%d","v%d"]}`, i, i-1, i-1)
	}
	fmt.Fprintf(&b, `},"actions":[{"cast":"kill_command","if":{">":["v%d",0]}}]}`, n)
	r, err := rotation.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rotation.Compile(r, newFakeEnv())
	var ps rotation.Problems
	if !errors.As(err, &ps) || len(ps) != 1 {
		t.Fatalf("got %v, want one problem", err)
	}
	want := "expression needs 8191 operations once its variables are expanded, more than the 4096 allowed; simplify it or use fewer nested variables"
	if ps[0].Path != "variables.v12" || ps[0].Msg != want {
		t.Fatalf("got %v", ps[0])
	}
}

func TestCompileCastsList(t *testing.T) {
	env := newFakeEnv()
	p := mustCompile(t, `{
		"lists": {"cds": [{"cast": "bestial_wrath"}, {"cast": "kill_command"}]},
		"actions": [
			{"cast": "barbed_shot"},
			{"cast": "multi_shot", "if": "talent.killer_cobra"},
			{"call": "cds"},
			{"cast": "barbed_shot", "if": "buff.frenzy.active"},
			{"cast": "cobra_shot"}
		]}`, env)
	// Lists compile before the main list; the dead multi_shot branch is gone.
	want := []int{env.id("bestial_wrath"), env.id("kill_command"), env.id("barbed_shot"), env.id("cobra_shot")}
	if fmt.Sprint(p.Casts) != fmt.Sprint(want) {
		t.Errorf("Casts = %v, want %v", p.Casts, want)
	}
}
