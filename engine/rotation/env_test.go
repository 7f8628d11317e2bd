package rotation_test

import (
	"fmt"
	"strings"
	"testing"

	"wowlab/engine/rotation"
)

// fakeEnv is a small, mutable game state that implements rotation.Env for
// tests. Its getters count how often they run, so tests can prove that a
// folded branch is never evaluated at Decide time.
type fakeEnv struct {
	spells   []string // id -> name
	castable []bool   // by spell id
	cost     []float64
	charges  []float64

	focus         float64
	focusMax      float64
	frenzyActive  bool
	frenzyStacks  float64
	targetHealth  float64
	talents       map[string]bool
	resolveCalls  map[string]int
	getterCalls   map[string]*int // path -> number of getter runs
	canCastCalls  int
	affordCalls   int
	lastAffordID  int
	lastAffordExt float64
	items         map[string]int
	trinkets      map[int]int
	usable        map[int]bool
}

func newFakeEnv() *fakeEnv {
	e := &fakeEnv{
		spells:       []string{"kill_command", "barbed_shot", "cobra_shot", "bestial_wrath", "multi_shot"},
		focus:        50,
		focusMax:     120,
		frenzyStacks: 0,
		targetHealth: 100,
		talents:      map[string]bool{"alpha_predator": true, "killer_cobra": false},
		resolveCalls: map[string]int{},
		getterCalls:  map[string]*int{},
		lastAffordID: -99,
	}
	n := len(e.spells)
	e.castable = make([]bool, n)
	e.cost = []float64{30, 0, 35, 0, 40}
	e.charges = []float64{1, 2, 0, 1, 0}
	return e
}

func (e *fakeEnv) id(name string) int {
	for i, s := range e.spells {
		if s == name {
			return i
		}
	}
	return -1
}

// allow marks the named spells castable and every other spell not.
func (e *fakeEnv) allow(names ...string) {
	for i := range e.castable {
		e.castable[i] = false
	}
	for _, n := range names {
		e.castable[e.id(n)] = true
	}
}

func (e *fakeEnv) calls(path string) int {
	if c, ok := e.getterCalls[path]; ok {
		return *c
	}
	return 0
}

func (e *fakeEnv) counter(path string) *int {
	c, ok := e.getterCalls[path]
	if !ok {
		c = new(int)
		e.getterCalls[path] = c
	}
	return c
}

func (e *fakeEnv) num(path string, get func() float64) rotation.Value {
	c := e.counter(path)
	return rotation.NumberOf(func() float64 { *c++; return get() })
}

func (e *fakeEnv) cond(path string, get func() bool) rotation.Value {
	c := e.counter(path)
	return rotation.BoolOf(func() bool { *c++; return get() })
}

func (e *fakeEnv) Spell(name string) (int, error) {
	if id := e.id(name); id >= 0 {
		return id, nil
	}
	return 0, &rotation.UnknownNameError{Kind: "spell", Name: name, Candidates: e.spells}
}

func (e *fakeEnv) CanCast(id int) bool {
	e.canCastCalls++
	return id >= 0 && id < len(e.castable) && e.castable[id]
}

func (e *fakeEnv) CanAfford(id int, extra float64) bool {
	e.affordCalls++
	e.lastAffordID, e.lastAffordExt = id, extra
	need := extra
	if id >= 0 && id < len(e.cost) {
		need += e.cost[id]
	}
	return e.focus >= need
}

// items are the fake's equipped items by name; trinkets maps slot 1 and 2
// to an item id; usable says which item ids are off cooldown.
func (e *fakeEnv) Item(name string) (int, bool) {
	id, ok := e.items[name]
	return id, ok
}

func (e *fakeEnv) Trinket(slot int) (int, bool) {
	id, ok := e.trinkets[slot]
	return id, ok
}

func (e *fakeEnv) CanUse(id int) bool { return e.usable[id] }

func unknownField(prefix, field string, fields ...string) error {
	return &rotation.UnknownNameError{Kind: prefix + " field", Name: field, Candidates: fields}
}

func (e *fakeEnv) Resolve(path string) (rotation.Value, error) {
	e.resolveCalls[path]++
	parts := strings.Split(path, ".")
	arg := func(i int) string {
		if i < len(parts) {
			return parts[i]
		}
		return ""
	}
	switch parts[0] {
	case "resource":
		if arg(1) != "focus" {
			return rotation.Value{}, &rotation.UnknownNameError{Kind: "resource", Name: arg(1), Candidates: []string{"focus"}}
		}
		switch arg(2) {
		case "":
			return e.num(path, func() float64 { return e.focus }), nil
		case "max":
			return rotation.ConstNumber(e.focusMax), nil
		case "deficit":
			return e.num(path, func() float64 { return e.focusMax - e.focus }), nil
		}
		return rotation.Value{}, unknownField("resource", arg(2), "max", "deficit")
	case "cd":
		id := e.id(arg(1))
		if id < 0 {
			return rotation.Value{}, &rotation.UnknownNameError{Kind: "spell", Name: arg(1), Candidates: e.spells}
		}
		switch arg(2) {
		case "charges":
			return e.num(path, func() float64 { return e.charges[id] }), nil
		case "ready":
			return e.cond(path, func() bool { return e.charges[id] >= 1 }), nil
		}
		return rotation.Value{}, unknownField("cd", arg(2), "ready", "charges")
	case "buff":
		if arg(1) != "frenzy" {
			return rotation.Value{}, &rotation.UnknownNameError{Kind: "aura", Name: arg(1), Candidates: []string{"frenzy"}}
		}
		switch arg(2) {
		case "active":
			return e.cond(path, func() bool { return e.frenzyActive }), nil
		case "stacks":
			return e.num(path, func() float64 { return e.frenzyStacks }), nil
		}
		return rotation.Value{}, unknownField("buff", arg(2), "active", "stacks")
	case "target":
		if arg(1) == "health_percent" && len(parts) == 2 {
			return e.num(path, func() float64 { return e.targetHealth }), nil
		}
		return rotation.Value{}, unknownField("target", arg(1), "health_percent")
	case "talent":
		if v, ok := e.talents[arg(1)]; ok && len(parts) == 2 {
			return rotation.ConstBool(v), nil
		}
		names := make([]string, 0, len(e.talents))
		for n := range e.talents {
			names = append(names, n)
		}
		return rotation.Value{}, &rotation.UnknownNameError{Kind: "talent", Name: arg(1), Candidates: names}
	case "spell":
		id := e.id(arg(1))
		if id < 0 {
			return rotation.Value{}, &rotation.UnknownNameError{Kind: "spell", Name: arg(1), Candidates: e.spells}
		}
		if arg(2) == "cost" && len(parts) == 3 {
			return rotation.ConstNumber(e.cost[id]), nil
		}
		return rotation.Value{}, unknownField("spell", arg(2), "cost")
	case "broken":
		return rotation.Value{}, fmt.Errorf("env failure for %q", path)
	}
	return rotation.Value{}, &rotation.UnknownNameError{Kind: "path", Name: parts[0],
		Candidates: []string{"resource", "cd", "buff", "target", "talent", "spell"}}
}

// mustCompile parses and compiles src against env, failing the test on any
// problem.
func mustCompile(t testing.TB, src string, env rotation.Env) *rotation.Program {
	t.Helper()
	r, err := rotation.Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	p, err := rotation.Compile(r, env)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}
