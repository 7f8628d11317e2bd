package rotation_test

import (
	"errors"
	"strings"
	"testing"

	"wowlab/engine/rotation"
)

// parseProblems parses src, requires it to fail with Problems and returns them.
func parseProblems(t *testing.T, src string) rotation.Problems {
	t.Helper()
	r, err := rotation.Parse([]byte(src))
	if err == nil {
		t.Fatalf("Parse(%s) succeeded, want problems", src)
	}
	if r != nil {
		t.Errorf("Parse returned a rotation along with an error")
	}
	var ps rotation.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse error %T is not rotation.Problems: %v", err, err)
	}
	return ps
}

func nest(op string, n int, leaf string) string {
	return strings.Repeat(`{"`+op+`":`, n) + leaf + strings.Repeat("}", n)
}

func TestParseProblems(t *testing.T) {
	const ops = "set, add, sub, mul, div, min, max, reset"
	tests := []struct {
		name string
		src  string
		path string
		msg  string
	}{
		{"not an object", `[{"cast":"kill_command"}]`, "", `a rotation must be a JSON object with "actions"`},
		{"string document", `"actions"`, "", `a rotation must be a JSON object with "actions"`},
		{"trailing garbage", `{"actions":[{"wait":1}]} x`, "", "invalid JSON: unexpected data after the rotation object"},
		{"trailing bracket", `{"actions":[{"wait":1}]}]`, "", "invalid JSON: unexpected data after the rotation object"},
		{"trailing brace", `{"actions":[{"wait":1}]}}`, "", "invalid JSON: unexpected data after the rotation object"},
		{"missing actions", `{"name":"x"}`, "actions", "missing: a rotation needs a list of actions"},
		{"empty actions", `{"actions":[]}`, "actions", "must hold at least one action"},
		{"actions not a list", `{"actions":{"cast":"kill_command"}}`, "actions", "must be a list of actions"},
		{"name not a string", `{"name":5,"actions":[{"wait":1}]}`, "name", "must be a string"},
		{"action not an object", `{"actions":["kill_command"]}`, "actions[0]", `an action must be an object such as {"cast": "kill_command"}`},
		{"two kinds", `{"actions":[{"wait":1},{"cast":"kill_command","wait":1}]}`, "actions[1]",
			`an action may have only one of cast, call, run, set, modify, wait, wait_until, pool, use_item, use_trinket; found "cast" and "wait"`},
		{"unknown key with suggestion", `{"actions":[{"cats":"kill_command"}]}`, "actions[0]",
			`an action needs one of cast, call, run, set, modify, wait, wait_until, pool, use_item, use_trinket (found "cats"; did you mean "cast"?)`},
		{"unknown key without suggestion", `{"actions":[{"shoot":"kill_command"}]}`, "actions[0]",
			`an action needs one of cast, call, run, set, modify, wait, wait_until, pool, use_item, use_trinket`},
		{"unexpected extra key", `{"actions":[{"cast":"kill_command","value":1}]}`, "actions[0].value", `unexpected key "value" in a cast action`},
		{"cast a number", `{"actions":[{"cast":5}]}`, "actions[0].cast", "must be a name (a string)"},
		{"cast empty", `{"actions":[{"cast":""}]}`, "actions[0].cast", "must be a name (a string)"},
		{"call a list", `{"actions":[{"call":["a"]}]}`, "actions[0].call", "must be a name (a string)"},
		{"wait zero", `{"actions":[{"wait":0}]}`, "actions[0].wait", "wait must be more than 0 and at most 3600 seconds, got 0"},
		{"wait negative", `{"actions":[{"wait":-1}]}`, "actions[0].wait", "wait must be more than 0 and at most 3600 seconds, got -1"},
		{"wait too long", `{"actions":[{"wait":3601}]}`, "actions[0].wait", "wait must be more than 0 and at most 3600 seconds, got 3601"},
		{"wait a string", `{"actions":[{"wait":"1"}]}`, "actions[0].wait", "must be a number"},
		{"wait out of float range", `{"actions":[{"wait":1e400}]}`, "actions[0].wait", "number 1e400 is out of range"},
		{"pool false", `{"actions":[{"pool":false}]}`, "actions[0].pool", "must be true"},
		{"pool extra negative", `{"actions":[{"pool":true,"extra":-1}]}`, "actions[0].extra", "must be between 0 and 1000000, got -1"},
		{"pool extra string", `{"actions":[{"pool":true,"extra":"5"}]}`, "actions[0].extra", "must be a number"},
		{"modify unknown op with suggestion", `{"variables":{"n":0},"actions":[{"modify":"n","op":"ad","value":1}]}`,
			"actions[0].op", `unknown operator "ad"; did you mean "add"?`},
		{"modify unknown op without suggestion", `{"variables":{"n":0},"actions":[{"modify":"n","op":"frobnicate","value":1}]}`,
			"actions[0].op", `unknown operator "frobnicate": use one of ` + ops},
		{"modify missing op", `{"variables":{"n":0},"actions":[{"modify":"n","value":1}]}`,
			"actions[0].op", "missing or not a string: one of " + ops},
		{"modify missing value", `{"variables":{"n":0},"actions":[{"modify":"n","op":"add"}]}`,
			"actions[0].value", "missing: modify needs a value"},
		{"set missing value", `{"variables":{"n":0},"actions":[{"set":"n"}]}`, "actions[0].value", "missing: set needs a value"},
		{"comparison arity", `{"actions":[{"cast":"kill_command","if":{">":[1]}}]}`, "actions[0].if.>", `">" takes 2 operand(s), got 1`},
		{"comparison too many", `{"actions":[{"cast":"kill_command","if":{"<=":[1,2,3]}}]}`, "actions[0].if.<=", `"<=" takes 2 operand(s), got 3`},
		{"and arity", `{"actions":[{"cast":"kill_command","if":{"and":["buff.frenzy.active"]}}]}`, "actions[0].if.and", `"and" takes at least 2 operand(s), got 1`},
		{"and of null", `{"actions":[{"cast":"kill_command","if":{"and":null}}]}`, "actions[0].if.and", `"and" takes at least 2 operand(s), got 1`},
		{"minus arity", `{"actions":[{"cast":"kill_command","if":{"-":[1,2,3]}}]}`, "actions[0].if.-", `"-" takes 1 or 2 operand(s), got 3`},
		{"not arity", `{"actions":[{"cast":"kill_command","if":{"not":[true,false]}}]}`, "actions[0].if.not", `"not" takes 1 operand(s), got 2`},
		{"empty operand list", `{"actions":[{"cast":"kill_command","if":{"max":[]}}]}`, "actions[0].if.max", `"max" takes at least 2 operand(s), got 0`},
		{"unknown operator with suggestion", `{"actions":[{"cast":"kill_command","if":{">==":["resource.focus",50]}}]}`,
			"actions[0].if", `unknown operator ">=="; did you mean ">="?`},
		{"unknown operator without suggestion", `{"actions":[{"cast":"kill_command","if":{"xyzzyq":[1,2]}}]}`,
			"actions[0].if", `unknown operator "xyzzyq"`},
		{"operation with two keys", `{"actions":[{"cast":"kill_command","if":{">":[1,2],"<":[1,2]}}]}`,
			"actions[0].if", `an operation is an object with exactly one key, such as {">=": ["resource.focus", 50]}`},
		{"operation with no key", `{"actions":[{"cast":"kill_command","if":{}}]}`,
			"actions[0].if", `an operation is an object with exactly one key, such as {">=": ["resource.focus", 50]}`},
		{"null expression", `{"actions":[{"cast":"kill_command","if":null}]}`, "actions[0].if", "null is not an expression"},
		{"null operand", `{"actions":[{"cast":"kill_command","if":{">":["resource.focus",null]}}]}`, "actions[0].if.>[1]", "null is not an expression"},
		{"null single operand", `{"actions":[{"cast":"kill_command","if":{"not":null}}]}`, "actions[0].if.not", "null is not an expression"},
		{"array expression", `{"actions":[{"cast":"kill_command","if":[">","resource.focus",1]}]}`,
			"actions[0].if", `a list is not an expression; operators take their operands as {"op": [a, b]}`},
		{"empty name", `{"actions":[{"wait_until":""}]}`, "actions[0].wait_until", `"" is not a name or path`},
		{"name with space", `{"actions":[{"cast":"kill_command","if":"buff.frenzy active"}]}`, "actions[0].if", `"buff.frenzy active" is not a name or path`},
		{"number out of range in expression", `{"actions":[{"cast":"kill_command","if":{">":["resource.focus",-1e999]}}]}`,
			"actions[0].if.>[1]", "number -1e999 is out of range"},
		{"too deep", `{"actions":[{"cast":"kill_command","if":` + nest("not", rotation.MaxDepth+1, "true") + `}]}`,
			"actions[0].if" + strings.Repeat(".not", rotation.MaxDepth+1), "expression nested deeper than 64 levels"},
		{"too deep in variable", `{"variables":{"v":` + nest("abs", rotation.MaxDepth+5, "1") + `},"actions":[{"wait":1}]}`,
			"variables.v" + strings.Repeat(".abs", rotation.MaxDepth+1), "expression nested deeper than 64 levels"},
		{"variables not an object", `{"variables":[1],"actions":[{"wait":1}]}`, "variables", "must be an object of name: expression"},
		{"invalid variable name", `{"variables":{"1x":0},"actions":[{"wait":1}]}`, "variables.1x", `invalid variable name "1x": use letters, digits and _`},
		{"empty variable name", `{"variables":{"":0},"actions":[{"wait":1}]}`, "variables.", `invalid variable name "": use letters, digits and _`},
		{"dotted variable name", `{"variables":{"a.b":0},"actions":[{"wait":1}]}`, "variables.a.b", `invalid variable name "a.b": use letters, digits and _`},
		{"lists not an object", `{"lists":[],"actions":[{"wait":1}]}`, "lists", "must be an object of name: [actions]"},
		{"invalid list name", `{"lists":{"a-b":[{"wait":1}]},"actions":[{"wait":1}]}`, "lists.a-b", `invalid list name "a-b": use letters, digits and _`},
		{"list not an array", `{"lists":{"cds":{"cast":"bestial_wrath"}},"actions":[{"wait":1}]}`, "lists.cds", "must be a list of actions"},
		{"problem inside a list", `{"lists":{"cds":[{"cast":"bestial_wrath"},{"wait":0}]},"actions":[{"call":"cds"}]}`,
			"lists.cds[1].wait", "wait must be more than 0 and at most 3600 seconds, got 0"},
		{"bad if on set", `{"variables":{"n":0},"actions":[{"set":"n","value":1,"if":[1]}]}`,
			"actions[0].if", `a list is not an expression; operators take their operands as {"op": [a, b]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := parseProblems(t, tt.src)
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1: %v", len(ps), ps)
			}
			if ps[0].Path != tt.path || ps[0].Msg != tt.msg {
				t.Errorf("got\n  %q: %q\nwant\n  %q: %q", ps[0].Path, ps[0].Msg, tt.path, tt.msg)
			}
		})
	}
}

func TestParseInvalidJSON(t *testing.T) {
	for _, src := range []string{``, `{`, `{"actions":[}`, `{"actions": [{"cast": "kill_command",}]}`, "\x00", `nul`} {
		ps := parseProblems(t, src)
		if len(ps) != 1 || ps[0].Path != "" || !strings.HasPrefix(ps[0].Msg, "invalid JSON: ") {
			t.Errorf("Parse(%q) = %v, want one pathless invalid JSON problem", src, ps)
		}
	}
}

func TestParseDepthBoundary(t *testing.T) {
	src := `{"actions":[{"cast":"kill_command","if":` + nest("not", rotation.MaxDepth, "true") + `}]}`
	r, err := rotation.Parse([]byte(src))
	if err != nil {
		t.Fatalf("nesting of exactly MaxDepth operators must parse: %v", err)
	}
	depth := 0
	for e := r.Actions[0].If; ; depth++ {
		c, ok := e.(*rotation.Call)
		if !ok {
			break
		}
		e = c.Args[0]
	}
	if depth != rotation.MaxDepth {
		t.Errorf("parsed depth %d, want %d", depth, rotation.MaxDepth)
	}
}

func TestParseReportsAllProblems(t *testing.T) {
	src := `{
		"name": 1,
		"variables": {"ok": 0, "9bad": 1, "deep": {"+": [1]}},
		"lists": {"cds": [{"cats": "bestial_wrath"}]},
		"actions": [
			{"cast": 5},
			{"cast": "kill_command", "if": {">==": ["resource.focus", 50]}},
			{"wait": 0},
			{"modify": "ok", "op": "ad", "value": 1},
			{"cast": "cobra_shot"}
		]}`
	ps := parseProblems(t, src)
	want := rotation.Problems{
		{Path: "name", Msg: "must be a string"},
		{Path: "variables.9bad", Msg: `invalid variable name "9bad": use letters, digits and _`},
		{Path: "variables.deep.+", Msg: `"+" takes at least 2 operand(s), got 1`},
		{Path: "lists.cds[0]", Msg: `an action needs one of cast, call, run, set, modify, wait, wait_until, pool, use_item, use_trinket (found "cats"; did you mean "cast"?)`},
		{Path: "actions[0].cast", Msg: "must be a name (a string)"},
		{Path: "actions[1].if", Msg: `unknown operator ">=="; did you mean ">="?`},
		{Path: "actions[2].wait", Msg: "wait must be more than 0 and at most 3600 seconds, got 0"},
		{Path: "actions[3].op", Msg: `unknown operator "ad"; did you mean "add"?`},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), ps)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("problem %d = %v, want %v", i, ps[i], want[i])
		}
	}
	if got := ps.Error(); !strings.HasPrefix(got, "8 problems: name: must be a string; variables.9bad: ") {
		t.Errorf("Error() = %q", got)
	}
}

func TestParseTree(t *testing.T) {
	src := `{
		"name": "bm",
		"variables": {"zeta": 1, "alpha": {">": ["resource.focus", 30]}},
		"lists": {"st": [{"cast": "kill_command"}], "cds": [{"cast": "bestial_wrath"}]},
		"actions": [
			{"call": "cds", "if": "talent.alpha_predator"},
			{"modify": "zeta", "op": "reset"},
			{"set": "zeta", "value": {"-": 1}},
			{"pool": true, "extra": 15},
			{"wait": 0.25},
			{"wait_until": {"not": "buff.frenzy.active"}},
			{"run": "st"}
		]}`
	r, err := rotation.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "bm" {
		t.Errorf("Name = %q", r.Name)
	}
	if len(r.Variables) != 2 || r.Variables[0].Name != "alpha" || r.Variables[1].Name != "zeta" || r.Variables[1].Path != "variables.zeta" {
		t.Errorf("variables not sorted by name with paths: %+v", r.Variables)
	}
	if n, ok := r.Variables[1].Expr.(*rotation.Num); !ok || n.V != 1 {
		t.Errorf("zeta = %#v, want Num 1", r.Variables[1].Expr)
	}
	if len(r.Lists) != 2 || r.Lists[0].Name != "cds" || r.Lists[0].Path != "lists.cds" || r.Lists[1].Actions[0].Path != "lists.st[0]" {
		t.Errorf("lists: %+v", r.Lists)
	}
	kinds := []rotation.ActionKind{rotation.ActCall, rotation.ActModify, rotation.ActSet, rotation.ActPool, rotation.ActWait, rotation.ActWaitUntil, rotation.ActRun}
	if len(r.Actions) != len(kinds) {
		t.Fatalf("%d actions, want %d", len(r.Actions), len(kinds))
	}
	for i, k := range kinds {
		if r.Actions[i].Kind != k {
			t.Errorf("action %d kind %d, want %d", i, r.Actions[i].Kind, k)
		}
	}
	if ref, ok := r.Actions[0].If.(*rotation.Ref); !ok || ref.Name != "talent.alpha_predator" || ref.Path != "actions[0].if" {
		t.Errorf("call if = %#v", r.Actions[0].If)
	}
	if a := r.Actions[1]; a.Op != "reset" || a.Value != nil || a.Name != "zeta" {
		t.Errorf("modify = %+v", a)
	}
	if c, ok := r.Actions[2].Value.(*rotation.Call); !ok || c.Op != "-" || len(c.Args) != 1 || c.Args[0].(*rotation.Num).Path != "actions[2].value.-" {
		t.Errorf("set value = %#v", r.Actions[2].Value)
	}
	if r.Actions[3].Extra != 15 || r.Actions[4].Seconds != 0.25 {
		t.Errorf("pool extra %v, wait %v", r.Actions[3].Extra, r.Actions[4].Seconds)
	}
	if c, ok := r.Actions[5].Value.(*rotation.Call); !ok || c.Op != "not" || c.Path != "actions[5].wait_until" {
		t.Errorf("wait_until = %#v", r.Actions[5].Value)
	}
}
