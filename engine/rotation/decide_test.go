package rotation_test

import (
	"fmt"
	"testing"

	"wowlab/engine/rotation"
)

func cast(env *fakeEnv, name string) rotation.Decision {
	return rotation.Decision{Kind: rotation.Cast, Spell: env.id(name)}
}

func TestDecideActions(t *testing.T) {
	const lists = `"lists": {"cds": [{"cast": "bestial_wrath"}], "st": [{"cast": "kill_command", "if": "buff.frenzy.active"}]}`
	tests := []struct {
		name   string
		src    string
		setup  func(*fakeEnv)
		want   func(*fakeEnv) rotation.Decision
		noCast bool // CanCast must not have been asked
	}{
		{"first castable wins", `{"actions":[{"cast":"kill_command"},{"cast":"barbed_shot"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("barbed_shot", "cobra_shot") }, func(e *fakeEnv) rotation.Decision { return cast(e, "barbed_shot") }, false},
		{"top action wins", `{"actions":[{"cast":"kill_command"},{"cast":"barbed_shot"}]}`,
			func(e *fakeEnv) { e.allow("barbed_shot", "kill_command") }, func(e *fakeEnv) rotation.Decision { return cast(e, "kill_command") }, false},
		{"nothing castable is idle", `{"actions":[{"cast":"kill_command"},{"cast":"barbed_shot"}]}`,
			func(e *fakeEnv) { e.allow() }, func(*fakeEnv) rotation.Decision { return rotation.Decision{} }, false},
		{"false condition skipped", `{"actions":[{"cast":"kill_command","if":"buff.frenzy.active"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("kill_command", "cobra_shot") }, func(e *fakeEnv) rotation.Decision { return cast(e, "cobra_shot") }, false},
		{"true condition taken", `{"actions":[{"cast":"kill_command","if":"buff.frenzy.active"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("kill_command", "cobra_shot"); e.frenzyActive = true }, func(e *fakeEnv) rotation.Decision { return cast(e, "kill_command") }, false},
		{"call fires", `{` + lists + `,"actions":[{"call":"cds"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("bestial_wrath", "cobra_shot") }, func(e *fakeEnv) rotation.Decision { return cast(e, "bestial_wrath") }, false},
		{"call falls through", `{` + lists + `,"actions":[{"call":"cds"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("cobra_shot") }, func(e *fakeEnv) rotation.Decision { return cast(e, "cobra_shot") }, false},
		{"call skipped by condition", `{` + lists + `,"actions":[{"call":"cds","if":"buff.frenzy.active"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("bestial_wrath", "cobra_shot") }, func(e *fakeEnv) rotation.Decision { return cast(e, "cobra_shot") }, false},
		{"run does not fall through", `{` + lists + `,"actions":[{"run":"cds"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("cobra_shot") }, func(*fakeEnv) rotation.Decision { return rotation.Decision{} }, false},
		{"run fires", `{` + lists + `,"actions":[{"run":"st"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("kill_command", "cobra_shot"); e.frenzyActive = true }, func(e *fakeEnv) rotation.Decision { return cast(e, "kill_command") }, false},
		{"run skipped by condition", `{` + lists + `,"actions":[{"run":"cds","if":{"not":"buff.frenzy.active"}},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("cobra_shot"); e.frenzyActive = true }, func(e *fakeEnv) rotation.Decision { return cast(e, "cobra_shot") }, false},
		{"nested call", `{"lists":{"a":[{"call":"b"},{"cast":"barbed_shot"}],"b":[{"cast":"kill_command"}]},"actions":[{"call":"a"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("barbed_shot", "cobra_shot") }, func(e *fakeEnv) rotation.Decision { return cast(e, "barbed_shot") }, false},
		{"wait", `{"actions":[{"cast":"kill_command"},{"wait":1.5},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("cobra_shot") }, func(*fakeEnv) rotation.Decision { return rotation.Decision{Kind: rotation.Wait, Seconds: 1.5} }, false},
		{"wait with false condition", `{"actions":[{"wait":0.5,"if":"buff.frenzy.active"},{"cast":"cobra_shot"}]}`,
			func(e *fakeEnv) { e.allow("cobra_shot") }, func(e *fakeEnv) rotation.Decision { return cast(e, "cobra_shot") }, false},
		{"wait_until false stops", `{"actions":[{"wait_until":"buff.frenzy.active"},{"cast":"kill_command"}]}`,
			func(e *fakeEnv) { e.allow("kill_command") }, func(*fakeEnv) rotation.Decision { return rotation.Decision{} }, true},
		{"wait_until true falls through", `{"actions":[{"wait_until":"buff.frenzy.active"},{"cast":"kill_command"}]}`,
			func(e *fakeEnv) { e.allow("kill_command"); e.frenzyActive = true }, func(e *fakeEnv) rotation.Decision { return cast(e, "kill_command") }, false},
		{"wait_until constant true dropped", `{"actions":[{"wait_until":"talent.alpha_predator"},{"cast":"kill_command"}]}`,
			func(e *fakeEnv) { e.allow("kill_command") }, func(e *fakeEnv) rotation.Decision { return cast(e, "kill_command") }, false},
		{"wait_until constant false stops", `{"actions":[{"wait_until":"talent.killer_cobra"},{"cast":"kill_command"}]}`,
			func(e *fakeEnv) { e.allow("kill_command") }, func(*fakeEnv) rotation.Decision { return rotation.Decision{} }, true},
		{"wait_until inside a called list stops the walk", `{"lists":{"p":[{"wait_until":"buff.frenzy.active"}]},"actions":[{"call":"p"},{"cast":"kill_command"}]}`,
			func(e *fakeEnv) { e.allow("kill_command") }, func(*fakeEnv) rotation.Decision { return rotation.Decision{} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newFakeEnv()
			p := mustCompile(t, tt.src, env)
			tt.setup(env)
			if got, want := p.Decide(), tt.want(env); got != want {
				t.Errorf("Decide = %+v, want %+v", got, want)
			}
			if tt.noCast && env.canCastCalls != 0 {
				t.Errorf("CanCast called %d times after the walk stopped", env.canCastCalls)
			}
		})
	}
}

func TestDecidePool(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		focus     float64
		want      func(*fakeEnv) rotation.Decision
		wantID    string // spell passed to CanAfford; "" means -1
		wantExtra float64
	}{
		{"cannot afford stops", `{"actions":[{"pool":true,"extra":10},{"cast":"kill_command"},{"cast":"cobra_shot"}]}`, 39,
			func(*fakeEnv) rotation.Decision { return rotation.Decision{} }, "kill_command", 10},
		{"can afford falls through", `{"actions":[{"pool":true,"extra":10},{"cast":"kill_command"},{"cast":"cobra_shot"}]}`, 40,
			func(e *fakeEnv) rotation.Decision { return cast(e, "kill_command") }, "kill_command", 10},
		{"next cast skips non-casts", `{"variables":{"n":0},"actions":[{"pool":true},{"set":"n","value":1},{"wait_until":true},{"cast":"multi_shot"}]}`, 39,
			func(*fakeEnv) rotation.Decision { return rotation.Decision{} }, "multi_shot", 0},
		{"no next cast", `{"actions":[{"cast":"cobra_shot"},{"pool":true,"extra":5},{"wait":1}]}`, 5,
			func(*fakeEnv) rotation.Decision { return rotation.Decision{Kind: rotation.Wait, Seconds: 1} }, "", 5},
		{"next cast within the list only", `{"lists":{"p":[{"pool":true,"extra":1}]},"actions":[{"call":"p"},{"cast":"kill_command"}]}`, 0,
			func(*fakeEnv) rotation.Decision { return rotation.Decision{} }, "", 1},
		{"pool in list", `{"lists":{"p":[{"pool":true},{"cast":"multi_shot"}]},"actions":[{"call":"p"},{"cast":"kill_command"}]}`, 35,
			func(*fakeEnv) rotation.Decision { return rotation.Decision{} }, "multi_shot", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newFakeEnv()
			p := mustCompile(t, tt.src, env)
			env.allow("kill_command", "multi_shot")
			env.focus = tt.focus
			if got, want := p.Decide(), tt.want(env); got != want {
				t.Errorf("Decide = %+v, want %+v", got, want)
			}
			wantID := -1
			if tt.wantID != "" {
				wantID = env.id(tt.wantID)
			}
			if env.affordCalls != 1 || env.lastAffordID != wantID || env.lastAffordExt != tt.wantExtra {
				t.Errorf("CanAfford calls %d, last (%d, %v), want 1 call with (%d, %v)",
					env.affordCalls, env.lastAffordID, env.lastAffordExt, wantID, tt.wantExtra)
			}
		})
	}
}

// modifyRotation applies op to n (initially 10) and casts kill_command when
// n then equals want, so the value read later in the same walk is checked.
func modifyRotation(op string, value, want float64) string {
	return fmt.Sprintf(`{"variables":{"n":10},"actions":[
		{"modify":"n","op":"add","value":5,"if":%t},
		{"modify":"n","op":%q,"value":%v},
		{"cast":"kill_command","if":{"==":["n",%v]}},
		{"wait":1}]}`, op == "reset", op, value, want)
}

func TestDecideModify(t *testing.T) {
	tests := []struct {
		op          string
		value, want float64
	}{
		{"set", 4, 4}, {"add", 4, 14}, {"sub", 4, 6}, {"mul", 4, 40}, {"div", 4, 2.5},
		{"min", 4, 4}, {"min", 12, 10}, {"max", 4, 10}, {"max", 12, 12}, {"reset", 0, 10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.op, tt.value), func(t *testing.T) {
			env := newFakeEnv()
			env.allow("kill_command")
			p := mustCompile(t, modifyRotation(tt.op, tt.value, tt.want), env)
			if d := p.Decide(); d != cast(env, "kill_command") {
				t.Errorf("after %s %v, n != %v: Decide = %+v", tt.op, tt.value, tt.want, d)
			}
			p2 := mustCompile(t, modifyRotation(tt.op, tt.value, tt.want+0.5), env)
			if d := p2.Decide(); d.Kind != rotation.Wait {
				t.Errorf("control: n == %v after %s: Decide = %+v", tt.want+0.5, tt.op, d)
			}
		})
	}
}

func TestDecideVariablesPersistUntilReset(t *testing.T) {
	env := newFakeEnv()
	env.allow("kill_command")
	p := mustCompile(t, `{"variables":{"n":0,"three":{">=":["n",3]}},"actions":[
		{"modify":"n","op":"add","value":1},
		{"cast":"kill_command","if":"three"},
		{"wait":1}]}`, env)
	wait := rotation.Decision{Kind: rotation.Wait, Seconds: 1}
	for i, want := range []rotation.Decision{wait, wait, cast(env, "kill_command"), cast(env, "kill_command")} {
		if got := p.Decide(); got != want {
			t.Fatalf("Decide #%d = %+v, want %+v", i+1, got, want)
		}
	}
	p.Reset()
	if got := p.Decide(); got != wait {
		t.Errorf("after Reset: Decide = %+v, want %+v (n back to 0)", got, wait)
	}
}

func TestDecideSetFromState(t *testing.T) {
	env := newFakeEnv()
	env.allow("kill_command")
	p := mustCompile(t, `{"variables":{"f":0},"actions":[
		{"set":"f","value":{"*":["resource.focus",2]}},
		{"cast":"kill_command","if":{">":["f",90]}},
		{"wait":1}]}`, env)
	env.focus = 45
	if d := p.Decide(); d.Kind != rotation.Wait {
		t.Errorf("focus 45: %+v, want wait", d)
	}
	env.focus = 46
	if d := p.Decide(); d.Kind != rotation.Cast {
		t.Errorf("focus 46: %+v, want cast", d)
	}
}

func TestDecideConstantFolding(t *testing.T) {
	env := newFakeEnv()
	env.allow("kill_command", "cobra_shot", "barbed_shot")
	env.frenzyActive = true
	p := mustCompile(t, `{"actions":[
		{"cast":"cobra_shot","if":{"and":["talent.killer_cobra","buff.frenzy.active"]}},
		{"cast":"multi_shot","if":{"not":"talent.alpha_predator"}},
		{"cast":"barbed_shot","if":{"or":[{"not":"talent.alpha_predator"},{">":["spell.kill_command.cost",100]}]}},
		{"cast":"kill_command","if":{"and":["talent.alpha_predator",{">":[{"+":["spell.kill_command.cost",10]},35]},"cd.kill_command.ready"]}}
	]}`, env)
	resolved := fmt.Sprint(env.resolveCalls)
	for i := 0; i < 3; i++ {
		if d := p.Decide(); d != cast(env, "kill_command") {
			t.Fatalf("Decide = %+v, want kill_command", d)
		}
	}
	if n := env.calls("buff.frenzy.active"); n != 0 {
		t.Errorf("dropped branch's buff.frenzy.active getter ran %d times", n)
	}
	if n := env.calls("cd.kill_command.ready"); n != 3 {
		t.Errorf("cd.kill_command.ready getter ran %d times, want 3 (only dynamic operand left)", n)
	}
	if got := fmt.Sprint(env.resolveCalls); got != resolved {
		t.Errorf("Decide resolved paths: before %s, after %s", resolved, got)
	}
	if env.canCastCalls != 3 {
		t.Errorf("CanCast called %d times, want 3: dead casts must not be tried", env.canCastCalls)
	}
	if len(p.Casts) != 1 || p.Casts[0] != env.id("kill_command") {
		t.Errorf("Casts = %v, want only kill_command", p.Casts)
	}
}

func TestDecideExpressions(t *testing.T) {
	// focus 50, frenzy stacks 3, target health 100, kill_command charges 1,
	// frenzy active; spell.kill_command.cost 30 and talents are constants.
	tests := []struct {
		name string
		expr string
		want float64
	}{
		{"+ 2", `{"+":["resource.focus",1]}`, 51},
		{"+ 3", `{"+":["resource.focus","buff.frenzy.stacks",2]}`, 55},
		{"+ const", `{"+":[1,2,3]}`, 6},
		{"- binary", `{"-":["resource.focus",8]}`, 42},
		{"- unary", `{"-":"resource.focus"}`, -50},
		{"- const unary", `{"-":[4]}`, -4},
		{"* 2", `{"*":["buff.frenzy.stacks",2]}`, 6},
		{"* 3", `{"*":["buff.frenzy.stacks",2,"resource.focus"]}`, 300},
		{"/", `{"/":["resource.focus",4]}`, 12.5},
		{"/ const", `{"/":[1,4]}`, 0.25},
		{"%", `{"%":["resource.focus",7]}`, 1},
		{"% const", `{"%":[7.5,2]}`, 1.5},
		{"floor", `{"floor":{"/":["resource.focus",3]}}`, 16},
		{"ceil", `{"ceil":{"/":["resource.focus",3]}}`, 17},
		{"floor negative", `{"floor":{"-":{"/":["resource.focus",3]}}}`, -17},
		{"abs", `{"abs":{"-":"resource.focus"}}`, 50},
		{"abs const", `{"abs":-2.5}`, 2.5},
		{"min 2", `{"min":["resource.focus","buff.frenzy.stacks"]}`, 3},
		{"min 3", `{"min":["resource.focus","buff.frenzy.stacks",1]}`, 1},
		{"max 2", `{"max":["resource.focus","buff.frenzy.stacks"]}`, 50},
		{"max 3", `{"max":["buff.frenzy.stacks","target.health_percent","resource.focus"]}`, 100},
		{"constant path", `{"-":["resource.focus.max","spell.kill_command.cost"]}`, 90},
		{"deficit", `"resource.focus.deficit"`, 70},
		{"precedence by nesting", `{"*":[{"+":["resource.focus",10]},{"-":[2,"cd.kill_command.charges"]}]}`, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				cmp  string
				rhs  float64
				hold bool
			}{
				{"==", tt.want, true}, {"==", tt.want + 0.5, false}, {"!=", tt.want, false},
				{">=", tt.want, true}, {">", tt.want, false}, {"<=", tt.want, true}, {"<", tt.want, false},
				{">", tt.want - 1, true}, {"<", tt.want + 1, true},
			} {
				checkCond(t, fmt.Sprintf(`{%q:[%s,%v]}`, c.cmp, tt.expr, c.rhs), c.hold)
				// The same comparison with the operands swapped.
				swapped := map[string]string{"==": "==", "!=": "!=", ">=": "<=", ">": "<", "<=": ">=", "<": ">"}[c.cmp]
				checkCond(t, fmt.Sprintf(`{%q:[%v,%s]}`, swapped, c.rhs, tt.expr), c.hold)
			}
		})
	}
}

// checkCond compiles a rotation casting kill_command when cond holds.
func checkCond(t *testing.T, cond string, want bool) {
	t.Helper()
	env := newFakeEnv()
	env.allow("kill_command")
	env.frenzyActive = true
	env.frenzyStacks = 3
	p := mustCompile(t, `{"actions":[{"cast":"kill_command","if":`+cond+`},{"wait":1}]}`, env)
	if got := p.Decide().Kind == rotation.Cast; got != want {
		t.Errorf("%s = %v, want %v", cond, got, want)
	}
}

func TestDecideLogic(t *testing.T) {
	// A = buff.frenzy.active, B = cd.kill_command.ready (charges >= 1),
	// C = resource.focus > 40.
	const a, b, c = `"buff.frenzy.active"`, `"cd.kill_command.ready"`, `{">":["resource.focus",40]}`
	tests := []struct {
		name string
		expr string
		eval func(a, b, c bool) bool
	}{
		{"and 2", `{"and":[` + a + `,` + b + `]}`, func(a, b, c bool) bool { return a && b }},
		{"and 3", `{"and":[` + a + `,` + b + `,` + c + `]}`, func(a, b, c bool) bool { return a && b && c }},
		{"or 2", `{"or":[` + a + `,` + b + `]}`, func(a, b, c bool) bool { return a || b }},
		{"or 3", `{"or":[` + a + `,` + b + `,` + c + `]}`, func(a, b, c bool) bool { return a || b || c }},
		{"not", `{"not":` + a + `}`, func(a, b, c bool) bool { return !a }},
		{"and with true constant", `{"and":[true,` + a + `,"talent.alpha_predator",` + c + `]}`, func(a, b, c bool) bool { return a && c }},
		{"and with false constant", `{"and":[` + a + `,"talent.killer_cobra",` + b + `]}`, func(a, b, c bool) bool { return false }},
		{"or with true constant", `{"or":[` + a + `,"talent.alpha_predator"]}`, func(a, b, c bool) bool { return true }},
		{"or with false constants", `{"or":[false,` + a + `,"talent.killer_cobra",` + b + `,` + c + `]}`, func(a, b, c bool) bool { return a || b || c }},
		{"nested", `{"or":[{"and":[` + a + `,{"not":` + b + `}]},{"and":[{"not":` + a + `},` + c + `]}]}`,
			func(a, b, c bool) bool { return a && !b || !a && c }},
		{"bool ==", `{"==":[` + a + `,` + b + `]}`, func(a, b, c bool) bool { return a == b }},
		{"bool !=", `{"!=":[` + a + `,` + c + `]}`, func(a, b, c bool) bool { return a != c }},
		{"bool == constant", `{"==":[` + b + `,"talent.killer_cobra"]}`, func(a, b, c bool) bool { return !b }},
		{"all constant", `{"and":[true,{"not":"talent.killer_cobra"},{"==":[false,false]}]}`, func(a, b, c bool) bool { return true }},
		{"all constant false", `{"or":[false,{"not":"talent.alpha_predator"}]}`, func(a, b, c bool) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newFakeEnv()
			env.allow("kill_command")
			p := mustCompile(t, `{"actions":[{"cast":"kill_command","if":`+tt.expr+`},{"wait":1}]}`, env)
			for mask := 0; mask < 8; mask++ {
				av, bv, cv := mask&1 != 0, mask&2 != 0, mask&4 != 0
				env.frenzyActive = av
				env.charges[env.id("kill_command")] = map[bool]float64{true: 2, false: 0}[bv]
				env.focus = map[bool]float64{true: 41, false: 40}[cv]
				if got := p.Decide().Kind == rotation.Cast; got != tt.eval(av, bv, cv) {
					t.Errorf("a=%v b=%v c=%v: got %v, want %v", av, bv, cv, got, !got)
				}
			}
		})
	}
}

const realistic = `{
	"name": "bm single target",
	"variables": {"pooling": 0, "casts": 0, "opened": false, "bw_soon": {"<": ["cd.bestial_wrath.charges", 1]},
		"low": {"<": ["resource.focus", 40]}},
	"precombat": [{"cast": "bestial_wrath"}, {"set": "opened", "value": true}, {"use_item": "signet"}],
	"lists": {
		"cds": [{"cast": "bestial_wrath", "if": {"and": ["talent.alpha_predator", {"not": "bw_soon"}]}}],
		"st": [
			{"cast": "barbed_shot", "if": {"or": [{"not": "buff.frenzy.active"}, {"<": ["buff.frenzy.stacks", 3]}]}},
			{"cast": "kill_command", "if": {">=": ["cd.kill_command.charges", 1]}},
			{"pool": true, "extra": 5, "if": {">": ["pooling", 0]}},
			{"cast": "cobra_shot", "if": {">": [{"-": ["resource.focus", "spell.cobra_shot.cost"]}, {"*": [2, "pooling"]}]}}
		]
	},
	"actions": [
		{"modify": "casts", "op": "add", "value": 1},
		{"modify": "undeclared", "op": "add", "value": {"%": ["casts", 7]}},
		{"set": "low", "value": {"or": ["low", "opened"]}, "if": {">": ["undeclared", 3]}},
		{"use_trinket": 1, "if": "low"},
		{"set": "pooling", "value": {"max": [0, {"-": [80, "resource.focus"]}]}},
		{"call": "cds"},
		{"call": "st"},
		{"modify": "casts", "op": "min", "value": 1000},
		{"wait_until": {"or": ["buff.frenzy.active", {">": ["resource.focus", 30]}]}},
		{"wait": 0.1}
	]}`

func TestDecideAllocatesNothing(t *testing.T) {
	env := newFakeEnv()
	env.items = map[string]int{"signet": 0}
	env.trinkets = map[int]int{1: 0}
	env.usable = map[int]bool{0: true}
	p := mustCompile(t, realistic, env)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		env.focus = float64(i % 120)
		env.frenzyActive = i%3 == 0
		env.frenzyStacks = float64(i % 4)
		env.castable[i%len(env.castable)] = i%2 == 0
		env.usable[0] = i%5 == 0
		p.Decide()
		if i%50 == 0 {
			p.Reset()
		}
	})
	if allocs != 0 {
		t.Errorf("Decide allocates %v times per run, want 0", allocs)
	}
	if env.canCastCalls == 0 || env.affordCalls == 0 {
		t.Errorf("the walk never reached casts (%d) or pool (%d): the test proves nothing", env.canCastCalls, env.affordCalls)
	}
}

func BenchmarkDecide(b *testing.B) {
	env := newFakeEnv()
	p := mustCompile(b, `{
		"variables": {"n": 0},
		"actions": [
			{"modify": "n", "op": "add", "value": 1},
			{"cast": "bestial_wrath", "if": {"and": ["talent.alpha_predator", {">": ["n", 1000000000]}]}},
			{"cast": "barbed_shot", "if": {"<": ["buff.frenzy.stacks", 3]}},
			{"cast": "kill_command", "if": {">=": ["cd.kill_command.charges", 1]}},
			{"cast": "multi_shot", "if": {"and": ["buff.frenzy.active", {">": ["target.health_percent", 20]}]}},
			{"cast": "kill_command", "if": {"or": ["buff.frenzy.active", {">": ["resource.focus", 100]}]}},
			{"pool": true, "extra": 10, "if": {"<": ["resource.focus", 20]}},
			{"cast": "cobra_shot", "if": {">": [{"-": ["resource.focus", "spell.cobra_shot.cost"]}, 10]}},
			{"wait_until": {">": ["resource.focus", 35]}},
			{"wait": 0.1}
		]}`, env)
	env.frenzyStacks = 3
	env.focus = 40
	env.allow("cobra_shot")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p.Decide()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
