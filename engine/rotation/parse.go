package rotation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Rotation is a parsed rotation document.
type Rotation struct {
	Name      string
	Variables []Variable // sorted by name
	Lists     []List     // sorted by name
	Actions   []Action
	// Precombat is walked at the start of every fight, before Actions,
	// until a walk of it chooses nothing; each of its actions fires once.
	Precombat []Action
}

// Variable is a named expression. A variable whose expression is a number
// literal (or a true/false literal that an action assigns) is a mutable slot
// that set and modify actions change; any other variable is computed from
// its expression wherever it is used, unless a set or modify action assigns
// it (then it is a slot that takes its expression's value at the start of
// every decision).
type Variable struct {
	Name string
	Expr Expr
	Path string
}

// List is a named action list, run by call and run actions.
type List struct {
	Name    string
	Actions []Action
	Path    string
}

// ActionKind says what an action does.
type ActionKind uint8

// Action kinds of the language.
const (
	ActCast       ActionKind = iota + 1 // cast a spell
	ActCall                             // run a list, fall through if nothing fired
	ActRun                              // run a list, never fall through
	ActSet                              // set a variable
	ActModify                           // change a variable with an operator
	ActWait                             // wait a fixed time
	ActWaitUntil                        // wait until a condition holds
	ActPool                             // wait for resources for the next cast
	ActUseItem                          // use an equipped item by name
	ActUseTrinket                       // use the trinket in slot 1 or 2
)

// Action is one step of an action list.
type Action struct {
	Kind    ActionKind
	Name    string  // spell (cast), list (call, run), variable (set, modify) or item (use_item)
	Op      string  // modify operator: set, add, sub, mul, div, min, max, reset
	If      Expr    // condition; nil means always
	Value   Expr    // set/modify value, wait_until condition
	Seconds float64 // wait
	Extra   float64 // pool
	Slot    int     // use_trinket: 1 or 2
	Path    string  // JSON path of the action
}

// Expr is an expression node: *Num, *Bool, *Ref or *Call.
type Expr interface{ exprPath() string }

// Num is a number literal.
type Num struct {
	V    float64
	Path string
}

// Bool is a boolean literal.
type Bool struct {
	V    bool
	Path string
}

// Ref is a state path ("buff.frenzy.stacks") or a variable name.
type Ref struct {
	Name string
	Path string
}

// Call is an operator or function applied to arguments.
type Call struct {
	Op   string
	Args []Expr
	Path string
}

func (e *Num) exprPath() string  { return e.Path }
func (e *Bool) exprPath() string { return e.Path }
func (e *Ref) exprPath() string  { return e.Path }
func (e *Call) exprPath() string { return e.Path }

// arity of every operator: min and max argument counts (-1: unbounded).
var operators = map[string][2]int{
	">": {2, 2}, ">=": {2, 2}, "<": {2, 2}, "<=": {2, 2}, "==": {2, 2}, "!=": {2, 2},
	"and": {2, -1}, "or": {2, -1}, "not": {1, 1},
	"+": {2, -1}, "-": {1, 2}, "*": {2, -1}, "/": {2, 2}, "%": {2, 2},
	"floor": {1, 1}, "ceil": {1, 1}, "abs": {1, 1}, "min": {2, -1}, "max": {2, -1},
}

var modifyOps = []string{"set", "add", "sub", "mul", "div", "min", "max", "reset"}

// MaxDepth bounds expression and list nesting so hostile input cannot
// exhaust the stack.
const MaxDepth = 64

type parser struct{ problems Problems }

func (p *parser) addf(path, format string, args ...any) {
	p.problems = append(p.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Parse reads a rotation document. It returns every structural problem it
// finds as Problems; names are checked later, by Compile.
func Parse(data []byte) (*Rotation, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, Problems{{Msg: "invalid JSON: " + err.Error()}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Problems{{Msg: "invalid JSON: unexpected data after the rotation object"}}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, Problems{{Msg: "a rotation must be a JSON object with \"actions\""}}
	}
	var p parser
	r := &Rotation{}
	if v, ok := obj["name"]; ok {
		if s, ok := v.(string); ok {
			r.Name = s
		} else {
			p.addf("name", "must be a string")
		}
	}
	if v, ok := obj["variables"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			p.addf("variables", "must be an object of name: expression")
		}
		for _, name := range sortedKeys(m) {
			path := "variables." + name
			if !validIdent(name) {
				p.addf(path, "invalid variable name %q: use letters, digits and _", name)
				continue
			}
			if e := p.expr(m[name], path, 0); e != nil {
				r.Variables = append(r.Variables, Variable{Name: name, Expr: e, Path: path})
			}
		}
	}
	if v, ok := obj["lists"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			p.addf("lists", "must be an object of name: [actions]")
		}
		for _, name := range sortedKeys(m) {
			path := "lists." + name
			if !validIdent(name) {
				p.addf(path, "invalid list name %q: use letters, digits and _", name)
				continue
			}
			acts := p.actions(m[name], path)
			if arr, isArr := m[name].([]any); isArr && len(arr) == 0 {
				p.addf(path, "list %q is empty: give it at least one action or remove it", name)
			}
			r.Lists = append(r.Lists, List{Name: name, Actions: acts, Path: path})
		}
	}
	if v, ok := obj["precombat"]; ok {
		r.Precombat = p.actions(v, "precombat")
	}
	if v, ok := obj["actions"]; ok {
		r.Actions = p.actions(v, "actions")
		if len(r.Actions) == 0 && len(p.problems) == 0 {
			p.addf("actions", "must hold at least one action")
		}
	} else {
		p.addf("actions", "missing: a rotation needs a list of actions")
	}
	if len(p.problems) > 0 {
		return nil, p.problems
	}
	return r, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func (p *parser) actions(v any, path string) []Action {
	arr, ok := v.([]any)
	if !ok {
		p.addf(path, "must be a list of actions")
		return nil
	}
	out := make([]Action, 0, len(arr))
	for i, item := range arr {
		if a, ok := p.action(item, fmt.Sprintf("%s[%d]", path, i)); ok {
			out = append(out, a)
		}
	}
	return out
}

var actionKeys = []struct {
	key  string
	kind ActionKind
}{
	{"cast", ActCast}, {"call", ActCall}, {"run", ActRun}, {"set", ActSet},
	{"modify", ActModify}, {"wait", ActWait}, {"wait_until", ActWaitUntil}, {"pool", ActPool},
	{"use_item", ActUseItem}, {"use_trinket", ActUseTrinket},
}

// actionNames lists the keys that make an action, for messages.
var actionNames = func() []string {
	names := make([]string, len(actionKeys))
	for i, k := range actionKeys {
		names[i] = k.key
	}
	return names
}()

// allowed lists the keys each action kind accepts besides its own.
var allowed = map[ActionKind][]string{
	ActCast: {"if"}, ActCall: {"if"}, ActRun: {"if"},
	ActSet: {"value", "if"}, ActModify: {"op", "value", "if"},
	ActWait: {"if"}, ActWaitUntil: {"if"}, ActPool: {"extra", "if"},
	ActUseItem: {"if"}, ActUseTrinket: {"if"},
}

func (p *parser) action(v any, path string) (Action, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		p.addf(path, "an action must be an object such as {\"cast\": \"kill_command\"}")
		return Action{}, false
	}
	a := Action{Path: path}
	var key string
	for _, k := range actionKeys {
		if _, ok := obj[k.key]; ok {
			if a.Kind != 0 {
				p.addf(path, "an action may have only one of %s; found %q and %q", strings.Join(actionNames, ", "), key, k.key)
				return Action{}, false
			}
			a.Kind, key = k.kind, k.key
		}
	}
	if a.Kind == 0 {
		keys := sortedKeys(obj)
		hint := ""
		for _, k := range keys {
			if s := Suggest(k, actionNames); s != "" {
				hint = fmt.Sprintf(" (found %q; did you mean %q?)", k, s)
				break
			}
		}
		p.addf(path, "an action needs one of %s%s", strings.Join(actionNames, ", "), hint)
		return Action{}, false
	}
	for _, k := range sortedKeys(obj) {
		if k == key || contains(allowed[a.Kind], k) {
			continue
		}
		p.addf(path+"."+k, "unexpected key %q in a %s action", k, key)
	}
	kpath := path + "." + key
	switch a.Kind {
	case ActCast, ActCall, ActRun, ActSet, ActModify, ActUseItem:
		s, ok := obj[key].(string)
		if !ok || s == "" {
			p.addf(kpath, "must be a name (a string)")
			return Action{}, false
		}
		a.Name = s
		if (a.Kind == ActSet || a.Kind == ActModify) && !validIdent(s) {
			p.addf(kpath, "invalid variable name %q: use letters, digits and _", s)
			return Action{}, false
		}
	case ActWait:
		f, ok := p.number(obj[key], kpath)
		if !ok {
			return Action{}, false
		}
		if f <= 0 || f > 3600 {
			p.addf(kpath, "wait must be more than 0 and at most 3600 seconds, got %v", f)
			return Action{}, false
		}
		a.Seconds = f
	case ActUseTrinket:
		f, ok := p.number(obj[key], kpath)
		if !ok {
			return Action{}, false
		}
		if f != 1 && f != 2 {
			p.addf(kpath, "a trinket slot is 1 or 2, got %v", f)
			return Action{}, false
		}
		a.Slot = int(f)
	case ActWaitUntil:
		a.Value = p.expr(obj[key], kpath, 0)
		if a.Value == nil {
			return Action{}, false
		}
	case ActPool:
		if b, ok := obj[key].(bool); !ok || !b {
			p.addf(kpath, "must be true")
			return Action{}, false
		}
		if v, ok := obj["extra"]; ok {
			f, ok := p.number(v, path+".extra")
			if !ok {
				return Action{}, false
			}
			if f < 0 || f > 1e6 {
				p.addf(path+".extra", "must be between 0 and 1000000, got %v", f)
				return Action{}, false
			}
			a.Extra = f
		}
	}
	if a.Kind == ActModify {
		op, ok := obj["op"].(string)
		if !ok {
			p.addf(path+".op", "missing or not a string: one of %s", strings.Join(modifyOps, ", "))
			return Action{}, false
		}
		if !contains(modifyOps, op) {
			msg := fmt.Sprintf("unknown operator %q: use one of %s", op, strings.Join(modifyOps, ", "))
			if s := Suggest(op, modifyOps); s != "" {
				msg = fmt.Sprintf("unknown operator %q; did you mean %q?", op, s)
			}
			p.addf(path+".op", "%s", msg)
			return Action{}, false
		}
		a.Op = op
	}
	if a.Kind == ActSet || (a.Kind == ActModify && a.Op != "reset") {
		v, ok := obj["value"]
		if !ok {
			p.addf(path+".value", "missing: %s needs a value", key)
			return Action{}, false
		}
		if a.Value = p.expr(v, path+".value", 0); a.Value == nil {
			return Action{}, false
		}
	}
	if v, ok := obj["if"]; ok {
		if a.If = p.expr(v, path+".if", 0); a.If == nil {
			return Action{}, false
		}
	}
	return a, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) number(v any, path string) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		p.addf(path, "must be a number")
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		p.addf(path, "number %s is out of range", n)
		return 0, false
	}
	return f, true
}

func (p *parser) expr(v any, path string, depth int) Expr {
	if depth > MaxDepth {
		p.addf(path, "expression nested deeper than %d levels", MaxDepth)
		return nil
	}
	switch x := v.(type) {
	case json.Number:
		f, ok := p.number(x, path)
		if !ok {
			return nil
		}
		return &Num{V: f, Path: path}
	case bool:
		return &Bool{V: x, Path: path}
	case string:
		if x == "" || strings.ContainsAny(x, " \t\n") {
			p.addf(path, "%q is not a name or path", x)
			return nil
		}
		return &Ref{Name: x, Path: path}
	case map[string]any:
		if len(x) != 1 {
			p.addf(path, "an operation is an object with exactly one key, such as {\">=\": [\"resource.focus\", 50]}")
			return nil
		}
		var op string
		for k := range x {
			op = k
		}
		ar, ok := operators[op]
		if !ok {
			names := make([]string, 0, len(operators))
			for k := range operators {
				names = append(names, k)
			}
			msg := fmt.Sprintf("unknown operator %q", op)
			if s := Suggest(op, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			p.addf(path, "%s", msg)
			return nil
		}
		opPath := path + "." + op
		var raw []any
		if arr, ok := x[op].([]any); ok {
			raw = arr
		} else {
			raw = []any{x[op]}
		}
		if len(raw) < ar[0] || (ar[1] >= 0 && len(raw) > ar[1]) {
			want := strconv.Itoa(ar[0])
			switch {
			case ar[1] < 0:
				want = "at least " + want
			case ar[1] != ar[0]:
				want = fmt.Sprintf("%d or %d", ar[0], ar[1])
			}
			p.addf(opPath, "%q takes %s operand(s), got %d", op, want, len(raw))
			return nil
		}
		c := &Call{Op: op, Path: path, Args: make([]Expr, 0, len(raw))}
		for i, a := range raw {
			argPath := opPath
			if _, isArr := x[op].([]any); isArr {
				argPath = fmt.Sprintf("%s[%d]", opPath, i)
			}
			e := p.expr(a, argPath, depth+1)
			if e == nil {
				return nil
			}
			c.Args = append(c.Args, e)
		}
		return c
	case nil:
		p.addf(path, "null is not an expression")
	default:
		p.addf(path, "a list is not an expression; operators take their operands as {\"op\": [a, b]}")
	}
	return nil
}
