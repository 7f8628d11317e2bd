package rotation

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Kind is the type of an expression's value.
type Kind uint8

// Kinds of values.
const (
	Number Kind = iota + 1
	Boolean
)

func (k Kind) String() string {
	if k == Boolean {
		return "condition (true/false)"
	}
	return "number"
}

// Value is what a path resolves to: a getter of the right kind, or a
// constant known at compile time (talents, spell costs).
type Value struct {
	Kind  Kind
	Num   func() float64 // Kind == Number and !Const
	Bool  func() bool    // Kind == Boolean and !Const
	Const bool
	N     float64 // constant number
	B     bool    // constant condition
	cost  int     // operations to evaluate, for compiled expressions
}

// ConstNumber returns a constant number value.
func ConstNumber(v float64) Value { return Value{Kind: Number, Const: true, N: v} }

// ConstBool returns a constant condition value.
func ConstBool(v bool) Value { return Value{Kind: Boolean, Const: true, B: v} }

// NumberOf returns a number value read by get.
func NumberOf(get func() float64) Value { return Value{Kind: Number, Num: get} }

// BoolOf returns a condition value read by get.
func BoolOf(get func() bool) Value { return Value{Kind: Boolean, Bool: get} }

func (v Value) num() func() float64 {
	if v.Const {
		c := v.N
		return func() float64 { return c }
	}
	return v.Num
}

func (v Value) cond() func() bool {
	if v.Const {
		c := v.B
		return func() bool { return c }
	}
	return v.Bool
}

// Env is the simulator's side of compilation: it resolves dotted paths and
// spell names to slots, and answers whether a spell can be cast now.
// Resolve and Spell return *UnknownNameError for names that do not exist.
type Env interface {
	Resolve(path string) (Value, error)
	Spell(name string) (int, error)
	// CanCast reports whether spell id can be started now (off cooldown,
	// affordable, usable on the target).
	CanCast(id int) bool
	// CanAfford reports whether the player has the resources for spell id
	// (or, for id < 0, nothing) plus extra.
	CanAfford(id int, extra float64) bool
	// Item finds the equipped item called name, Trinket the item worn in
	// trinket slot 1 or 2; ok is false when there is none.
	Item(name string) (id int, ok bool)
	Trinket(slot int) (id int, ok bool)
	// CanUse reports whether item id can be used now (its use effect is
	// off cooldown).
	CanUse(id int) bool
}

// DecisionKind says what the rotation chose to do.
type DecisionKind uint8

// Decision kinds.
const (
	// Idle: nothing can be done now; decide again when something changes.
	Idle DecisionKind = iota
	// Cast: start casting Decision.Spell.
	Cast
	// Wait: do nothing for Decision.Seconds.
	Wait
	// Use: use item Decision.Item (off the global cooldown), then decide
	// again.
	Use
)

// Decision is the outcome of one walk of the rotation.
type Decision struct {
	Kind DecisionKind
	// Item is the item of a Use decision (an Env item id); int32 keeps a
	// Decision at 24 bytes, for it is returned through every list walked.
	Item    int32
	Spell   int
	Seconds float64
}

type step struct {
	kind    ActionKind
	cond    func() bool
	spell   int // the spell of a cast or pool, the item of a use
	list    int
	slot    int
	op      modifyOp
	value   func() float64
	until   func() bool
	seconds float64
	extra   float64
}

// Program is a compiled rotation bound to one Env. It is not safe for
// concurrent use: compile one per simulating goroutine.
type Program struct {
	env   Env
	main  []step
	pre   []step
	lists [][]step
	slots []float64
	init  []float64
	// reinit are the assigned variables defined by an expression: each
	// walk starts them at their expression's value.
	reinit   []reinit
	preDone  bool
	preFired []bool
	// slow: the walk starts with reinit variables or the precombat list;
	// without either Decide is one inlined call of run.
	slow bool
	// Casts lists the spell ids a cast action of the rotation may start, in
	// first-use order.
	Casts []int
	// Warnings are what validation found questionable but runnable (unused
	// variables and lists, unreachable actions, items that are not worn).
	Warnings Problems
}

type reinit struct {
	slot  int
	value func() float64
}

// Reset returns every variable to its initial value and the precombat list
// to its start; call it at the start of each iteration.
func (p *Program) Reset() {
	copy(p.slots, p.init)
	clear(p.preFired)
	p.preDone = len(p.pre) == 0
	p.slow = !p.preDone || len(p.reinit) > 0
}

// Decide walks the rotation once and returns what to do now.
func (p *Program) Decide() Decision {
	if p.slow {
		return p.decideSlow()
	}
	d, _ := p.run(p.main)
	return d
}

func (p *Program) decideSlow() Decision {
	for i := range p.reinit {
		r := &p.reinit[i]
		p.slots[r.slot] = r.value()
	}
	if !p.preDone {
		if d, ok := p.precombat(); ok {
			return d
		}
		p.preDone = true
		p.slow = len(p.reinit) > 0
	}
	d, _ := p.run(p.main)
	return d
}

// precombat walks the precombat list, in which every action fires at most
// once an iteration; ok is false when it chose nothing.
func (p *Program) precombat() (d Decision, ok bool) {
	for i := range p.pre {
		if p.preFired[i] {
			continue
		}
		s := &p.pre[i]
		switch s.kind {
		case ActCast:
			if p.env.CanCast(s.spell) && (s.cond == nil || s.cond()) {
				p.preFired[i] = true
				return Decision{Kind: Cast, Spell: s.spell}, true
			}
			continue
		case ActUseItem, ActUseTrinket:
			if p.env.CanUse(s.spell) && (s.cond == nil || s.cond()) {
				p.preFired[i] = true
				return Decision{Kind: Use, Item: int32(s.spell)}, true
			}
			continue
		}
		if s.cond != nil && !s.cond() {
			continue
		}
		p.preFired[i] = true
		switch s.kind {
		case ActSet:
			p.slots[s.slot] = s.value()
		case ActModify:
			p.modify(s)
		case ActWait:
			return Decision{Kind: Wait, Seconds: s.seconds}, true
		}
	}
	return Decision{}, false
}

// run executes steps; stop reports that the walk ends here (something was
// chosen, or a wait_until, pool or run ended it).
func (p *Program) run(steps []step) (d Decision, stop bool) {
	for i := range steps {
		s := &steps[i]
		switch s.kind {
		case ActCast:
			// Whether the spell can be cast is cheaper to learn than most
			// conditions and rules the action out just as well.
			if p.env.CanCast(s.spell) && (s.cond == nil || s.cond()) {
				return Decision{Kind: Cast, Spell: s.spell}, true
			}
			continue
		case ActUseItem, ActUseTrinket:
			if p.env.CanUse(s.spell) && (s.cond == nil || s.cond()) {
				return Decision{Kind: Use, Item: int32(s.spell)}, true
			}
			continue
		}
		if s.cond != nil && !s.cond() {
			continue
		}
		switch s.kind {
		case ActCall:
			if d, stop := p.run(p.lists[s.list]); stop {
				return d, true
			}
		case ActRun:
			d, _ := p.run(p.lists[s.list])
			return d, true
		case ActSet:
			p.slots[s.slot] = s.value()
		case ActModify:
			p.modify(s)
		case ActWait:
			return Decision{Kind: Wait, Seconds: s.seconds}, true
		case ActWaitUntil:
			if !s.until() {
				return Decision{}, true
			}
		case ActPool:
			if !p.env.CanAfford(s.spell, s.extra) {
				return Decision{}, true
			}
		}
	}
	return Decision{}, false
}

// modifyOp is a modify action's operator, resolved at compile time.
type modifyOp uint8

const (
	opSet modifyOp = iota
	opAdd
	opSub
	opMul
	opDiv
	opMin
	opMax
	opReset
)

var modifyOpByName = map[string]modifyOp{
	"set": opSet, "add": opAdd, "sub": opSub, "mul": opMul,
	"div": opDiv, "min": opMin, "max": opMax, "reset": opReset,
}

func (p *Program) modify(s *step) {
	v := &p.slots[s.slot]
	switch s.op {
	case opReset:
		*v = p.init[s.slot]
	case opSet:
		*v = s.value()
	case opAdd:
		*v += s.value()
	case opSub:
		*v -= s.value()
	case opMul:
		*v *= s.value()
	case opDiv:
		*v = safeDiv(*v, s.value())
	case opMin:
		*v = math.Min(*v, s.value())
	case opMax:
		*v = math.Max(*v, s.value())
	}
}

type compiledVar struct {
	v  Value
	ok bool
}

type compiler struct {
	env      Env
	r        *Rotation
	problems Problems
	warnings Problems
	vars     map[string]int // index into r.Variables
	slotOf   map[string]int
	slotKind []Kind // 0 while an assigned computed variable's kind is not known yet
	lists    map[string]int
	inlining map[string]bool
	// compiled caches each computed variable's value (and whether it
	// compiled), so a chain of variables that each use the previous one
	// several times compiles in linear, not exponential, time.
	compiled map[string]compiledVar
	read     map[string]bool // variables some expression reads
	called   map[string]bool // lists some call or run names
	prog     *Program
	casts    map[int]bool
}

func (c *compiler) addf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) warnf(path, format string, args ...any) {
	c.warnings = append(c.warnings, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Compile resolves and type-checks r against env and returns a Program
// bound to env, or every problem found as Problems. The program's Warnings
// hold what is questionable but runs.
func Compile(r *Rotation, env Env) (*Program, error) {
	c := &compiler{
		env: env, r: r,
		vars: map[string]int{}, slotOf: map[string]int{}, lists: map[string]int{},
		inlining: map[string]bool{}, compiled: map[string]compiledVar{},
		read: map[string]bool{}, called: map[string]bool{},
		prog: &Program{env: env}, casts: map[int]bool{},
	}
	assigned := assignedNames(r)
	for i, v := range r.Variables {
		c.vars[v.Name] = i
		switch x := v.Expr.(type) {
		case *Num:
			c.newSlot(v.Name, Number, x.V)
		case *Bool:
			// A flag nothing assigns stays a constant, and the branches it
			// rules out are dropped at compile time.
			if assigned[v.Name] {
				c.newSlot(v.Name, Boolean, b2f(x.V))
			}
		}
	}
	c.assignedSlots()
	c.prog.slots = make([]float64, len(c.prog.init))
	copy(c.prog.slots, c.prog.init)
	for i, l := range r.Lists {
		c.lists[l.Name] = i
	}
	c.checkListCycles()
	for _, v := range r.Variables {
		if slot, isSlot := c.slotOf[v.Name]; isSlot {
			if c.slotKind[slot] == 0 {
				c.assignedKind(v.Name, slot)
			}
			continue
		}
		// Through ref, so the problems of unused computed variables are
		// reported too, and each variable is compiled only once.
		was := c.read[v.Name]
		c.ref(&Ref{Name: v.Name, Path: v.Path})
		c.read[v.Name] = was
	}
	c.prog.lists = make([][]step, len(r.Lists))
	for i, l := range r.Lists {
		c.prog.lists[i] = c.steps(l.Actions, false)
	}
	c.prog.main = c.steps(r.Actions, false)
	c.prog.pre = c.steps(r.Precombat, true)
	c.prog.preFired = make([]bool, len(c.prog.pre))
	c.prog.Reset()
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	// Warnings in the document's order: variables, lists, then actions.
	actionWarnings := c.warnings
	c.warnings = nil
	for _, v := range r.Variables {
		if !c.read[v.Name] {
			c.warnf(v.Path, "variable %q is never read; remove it or use it in a condition", v.Name)
		}
	}
	for _, l := range r.Lists {
		if !c.called[l.Name] {
			c.warnf(l.Path, "list %q is never called or run; its actions never happen", l.Name)
		}
	}
	c.prog.Warnings = append(c.warnings, actionWarnings...)
	return c.prog, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *compiler) newSlot(name string, k Kind, init float64) int {
	slot := len(c.prog.init)
	c.slotOf[name] = slot
	c.slotKind = append(c.slotKind, k)
	c.prog.init = append(c.prog.init, init)
	return slot
}

// assignedNames are the variables some set or modify action assigns.
func assignedNames(r *Rotation) map[string]bool {
	names := map[string]bool{}
	visit := func(actions []Action) {
		for _, a := range actions {
			if a.Kind == ActSet || a.Kind == ActModify {
				names[a.Name] = true
			}
		}
	}
	visit(r.Actions)
	visit(r.Precombat)
	for _, l := range r.Lists {
		visit(l.Actions)
	}
	return names
}

// assignedSlots gives a slot to every variable a set or modify action
// assigns that is not declared with a literal: a computed variable (its
// kind is its expression's, found later) or an undeclared one, which starts
// at 0 or false, as the original language allows.
func (c *compiler) assignedSlots() {
	var visit func(actions []Action)
	visit = func(actions []Action) {
		for _, a := range actions {
			if a.Kind != ActSet && a.Kind != ActModify {
				continue
			}
			if _, ok := c.slotOf[a.Name]; ok {
				continue
			}
			if _, declared := c.vars[a.Name]; declared {
				c.newSlot(a.Name, 0, 0)
				continue
			}
			k := Number
			if a.Kind == ActSet || a.Op == "set" {
				k = c.kindOf(a.Value, map[string]bool{a.Name: true})
			}
			c.newSlot(a.Name, k, 0)
		}
	}
	visit(c.r.Actions)
	for _, l := range c.r.Lists {
		visit(l.Actions)
	}
	visit(c.r.Precombat)
}

// kindOf is the kind of e found from its shape alone, for the slot of an
// undeclared variable; the value is type-checked when its action compiles.
func (c *compiler) kindOf(e Expr, seen map[string]bool) Kind {
	switch x := e.(type) {
	case *Bool:
		return Boolean
	case *Call:
		switch x.Op {
		case ">", ">=", "<", "<=", "==", "!=", "and", "or", "not":
			return Boolean
		}
	case *Ref:
		if strings.Contains(x.Name, ".") {
			if v, err := c.env.Resolve(x.Name); err == nil {
				return v.Kind
			}
			return Number
		}
		if slot, ok := c.slotOf[x.Name]; ok && c.slotKind[slot] != 0 {
			return c.slotKind[slot]
		}
		if i, ok := c.vars[x.Name]; ok && !seen[x.Name] {
			seen[x.Name] = true
			return c.kindOf(c.r.Variables[i].Expr, seen)
		}
	}
	return Number
}

// assignedKind compiles the expression of an assigned computed variable:
// its value starts every walk.
func (c *compiler) assignedKind(name string, slot int) (Kind, bool) {
	if c.inlining[name] {
		return 0, false
	}
	v := c.r.Variables[c.vars[name]]
	c.inlining[name] = true
	val, ok := c.compile(v.Expr)
	delete(c.inlining, name)
	if !ok {
		c.slotKind[slot] = Number // reported; keep going with a kind
		return Number, false
	}
	c.slotKind[slot] = val.Kind
	get := val.num()
	if val.Kind == Boolean {
		cond := val.cond()
		get = func() float64 { return b2f(cond()) }
	}
	c.prog.reinit = append(c.prog.reinit, reinit{slot: slot, value: get})
	return val.Kind, true
}

// checkListCycles refuses lists that call themselves, directly or not:
// their walk would never end.
func (c *compiler) checkListCycles() {
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(c.r.Lists))
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = active
		for _, a := range c.r.Lists[i].Actions {
			if a.Kind != ActCall && a.Kind != ActRun {
				continue
			}
			j, ok := c.lists[a.Name]
			if !ok {
				continue
			}
			if state[j] == active {
				c.addf(a.Path, "list %q calls itself through %q; the rotation would never finish a decision", a.Name, c.r.Lists[i].Name)
				return false
			}
			if state[j] == unseen && !visit(j) {
				return false
			}
		}
		state[i] = done
		return true
	}
	for i := range c.r.Lists {
		if state[i] == unseen && !visit(i) {
			return
		}
	}
}

func (c *compiler) listNames() []string {
	names := make([]string, 0, len(c.lists))
	for n := range c.lists {
		names = append(names, n)
	}
	return names
}

func (c *compiler) slotNames() []string {
	names := make([]string, 0, len(c.slotOf))
	for n := range c.slotOf {
		names = append(names, n)
	}
	return names
}

func (c *compiler) steps(actions []Action, pre bool) []step {
	out := make([]step, 0, len(actions))
	ended := ""
	for i, a := range actions {
		if ended != "" {
			c.warnf(a.Path, "unreachable: %s always ends the walk before this action", ended)
			ended = ""
		}
		s := step{kind: a.Kind, spell: -1}
		// A branch whose condition is false at compile time is dropped, but
		// only after its names are checked: validation must see them all.
		dead := false
		// Only an action written without a condition (or with "if": true)
		// makes the rest unreachable: one that talents make unconditional
		// is how a rotation shared by several builds is written.
		always := a.If == nil
		if b, ok := a.If.(*Bool); ok && b.V {
			always = true
		}
		if a.If != nil {
			v, ok := c.condition(a.If)
			if !ok {
				continue
			}
			dead = v.Const && !v.B
			if !v.Const {
				s.cond = v.Bool
			}
		}
		ok := true
		switch a.Kind {
		case ActCast:
			id, err := c.env.Spell(a.Name)
			if err != nil {
				c.addf(a.Path+".cast", "%s", err.Error())
				ok = false
				break
			}
			s.spell = id
			if !c.casts[id] && !dead {
				c.casts[id] = true
				c.prog.Casts = append(c.prog.Casts, id)
			}
		case ActUseItem:
			id, found := c.env.Item(a.Name)
			if !found {
				c.warnf(a.Path+".use_item", "no equipped item is called %q; the action does nothing (add the item to the player's trinkets to use it)", a.Name)
				continue
			}
			s.spell = id
		case ActUseTrinket:
			id, found := c.env.Trinket(a.Slot)
			if !found {
				c.warnf(a.Path+".use_trinket", "no trinket is worn in slot %d; the action does nothing", a.Slot)
				continue
			}
			s.spell = id
		case ActCall, ActRun:
			key := "call"
			if a.Kind == ActRun {
				key = "run"
			}
			if pre {
				c.addf(a.Path+"."+key, "the precombat list cannot %s other lists: each of its actions fires once, at the start of the fight", key)
				ok = false
				break
			}
			idx, found := c.lists[a.Name]
			if !found {
				c.addf(a.Path+"."+key, "%s", (&UnknownNameError{Kind: "list", Name: a.Name, Candidates: c.listNames()}).Error())
				ok = false
				break
			}
			c.called[a.Name] = true
			s.list = idx
			if a.Kind == ActRun && always {
				ended = fmt.Sprintf("the run of %q at %s", a.Name, a.Path)
			}
		case ActSet, ActModify:
			ok = c.assignment(a, &s)
		case ActWait:
			s.seconds = a.Seconds
			if always && !pre {
				ended = fmt.Sprintf("the wait at %s", a.Path)
			}
		case ActWaitUntil, ActPool:
			if pre {
				c.addf(a.Path, "the precombat list has no wait_until or pool: use wait, or move the action to the main list")
				ok = false
				break
			}
			if a.Kind == ActPool {
				s.extra = a.Extra
				s.spell = c.nextCast(actions[i+1:])
				break
			}
			v, vok := c.condition(a.Value)
			if !vok {
				ok = false
				break
			}
			if v.Const && v.B {
				continue // waiting for something already true does nothing
			}
			s.until = v.cond()
		}
		if ok && !dead {
			out = append(out, s)
		}
	}
	return out
}

// assignment compiles a set or modify action into s.
func (c *compiler) assignment(a Action, s *step) bool {
	key := "set"
	if a.Kind == ActModify {
		key = "modify"
	}
	slot := c.slotOf[a.Name] // every assigned name has a slot (assignedSlots)
	kind := c.slotKind[slot]
	if kind == 0 {
		var ok bool
		if kind, ok = c.assignedKind(a.Name, slot); !ok {
			return false
		}
	}
	s.slot, s.op = slot, modifyOpByName[a.Op]
	if a.Kind == ActSet {
		s.op = opSet
	}
	if kind == Boolean && s.op != opSet && s.op != opReset {
		c.addf(a.Path+".op", "variable %q holds true/false; %q needs a number variable (use set or reset)", a.Name, a.Op)
		return false
	}
	if a.Value == nil || s.op == opReset {
		return true
	}
	v, ok := c.compile(a.Value)
	if !ok {
		return false
	}
	if v.Kind != kind {
		c.addf(a.Value.exprPath(), "%s of variable %q needs a %s, got a %s", key, a.Name, kind, v.Kind)
		return false
	}
	if kind == Boolean {
		cond := v.cond()
		s.value = func() float64 { return b2f(cond()) }
	} else {
		s.value = v.num()
	}
	return true
}

// nextCast is the spell of the first cast action in rest, or -1: the spell
// a pool action saves resources for.
func (c *compiler) nextCast(rest []Action) int {
	for _, a := range rest {
		if a.Kind == ActCast {
			if id, err := c.env.Spell(a.Name); err == nil {
				return id
			}
			return -1
		}
	}
	return -1
}

func (c *compiler) condition(e Expr) (Value, bool) {
	v, ok := c.compile(e)
	if !ok {
		return Value{}, false
	}
	if v.Kind != Boolean {
		c.addf(e.exprPath(), "expected a condition (true/false), got a number; compare it, e.g. {\">\": [%s, 0]}", describe(e))
		return Value{}, false
	}
	return v, true
}

func (c *compiler) number(e Expr) (Value, bool) {
	v, ok := c.compile(e)
	if !ok {
		return Value{}, false
	}
	if v.Kind != Number {
		c.addf(e.exprPath(), "expected a number, got a condition (true/false)")
		return Value{}, false
	}
	return v, true
}

func describe(e Expr) string {
	if r, ok := e.(*Ref); ok {
		return fmt.Sprintf("%q", r.Name)
	}
	return "..."
}

func (c *compiler) compile(e Expr) (Value, bool) {
	switch x := e.(type) {
	case *Num:
		return ConstNumber(x.V), true
	case *Bool:
		return ConstBool(x.V), true
	case *Ref:
		return c.ref(x)
	case *Call:
		return c.call(x)
	}
	c.addf(e.exprPath(), "unsupported expression")
	return Value{}, false
}

func (c *compiler) ref(r *Ref) (Value, bool) {
	if !strings.Contains(r.Name, ".") {
		if slot, ok := c.slotOf[r.Name]; ok {
			c.read[r.Name] = true
			k := c.slotKind[slot]
			if k == 0 {
				if c.inlining[r.Name] {
					c.addf(r.Path, "variable %q is defined in terms of itself", r.Name)
					return Value{}, false
				}
				if k, ok = c.assignedKind(r.Name, slot); !ok {
					return Value{}, false
				}
			}
			slots := c.prog.slots
			if k == Boolean {
				return BoolOf(func() bool { return slots[slot] != 0 }), true
			}
			return NumberOf(func() float64 { return slots[slot] }), true
		}
		if i, ok := c.vars[r.Name]; ok {
			c.read[r.Name] = true
			if cv, done := c.compiled[r.Name]; done {
				return cv.v, cv.ok
			}
			if c.inlining[r.Name] {
				c.addf(r.Path, "variable %q is defined in terms of itself", r.Name)
				return Value{}, false
			}
			c.inlining[r.Name] = true
			v, ok := c.compile(c.r.Variables[i].Expr)
			delete(c.inlining, r.Name)
			c.compiled[r.Name] = compiledVar{v, ok}
			return v, ok
		}
		names := make([]string, 0, len(c.vars))
		for n := range c.vars {
			names = append(names, n)
		}
		c.addf(r.Path, "%s", (&UnknownNameError{Kind: "variable", Name: r.Name, Candidates: names}).Error())
		return Value{}, false
	}
	v, err := c.env.Resolve(r.Name)
	if err != nil {
		var un *UnknownNameError
		if errors.As(err, &un) {
			un.In = r.Name
			c.addf(r.Path, "%s", un.Error())
		} else {
			c.addf(r.Path, "%s", err.Error())
		}
		return Value{}, false
	}
	return v, true
}

func (c *compiler) call(x *Call) (Value, bool) {
	args := make([]Value, len(x.Args))
	wantBool := x.Op == "and" || x.Op == "or" || x.Op == "not"
	isEq := x.Op == "==" || x.Op == "!="
	for i, a := range x.Args {
		v, ok := c.compile(a)
		if !ok {
			return Value{}, false
		}
		switch {
		case isEq:
		case wantBool && v.Kind != Boolean:
			c.addf(a.exprPath(), "%q needs conditions (true/false), got a number", x.Op)
			return Value{}, false
		case !wantBool && v.Kind != Number:
			c.addf(a.exprPath(), "%q needs numbers, got a condition (true/false)", x.Op)
			return Value{}, false
		}
		args[i] = v
	}
	if isEq && args[0].Kind != args[1].Kind {
		c.addf(x.Path, "%q compares a %s with a %s", x.Op, args[0].Kind, args[1].Kind)
		return Value{}, false
	}
	v := build(x.Op, args)
	if !v.Const {
		v.cost = 1
		for _, a := range args {
			v.cost += a.operations()
		}
		if v.cost > MaxOperations {
			c.addf(x.Path, "expression needs %d operations once its variables are expanded, more than the %d allowed; simplify it or use fewer nested variables", v.cost, MaxOperations)
			return Value{}, false
		}
	}
	return v, true
}

// MaxOperations bounds the work of one expression, counted after computed
// variables are expanded: a chain of variables that each use the previous
// one twice doubles at every step, and a decision must stay cheap.
const MaxOperations = 4096

// operations is how many getter and operator calls evaluating v takes.
func (v Value) operations() int {
	switch {
	case v.Const:
		return 0
	case v.cost == 0:
		return 1 // a getter from the Env
	}
	return v.cost
}

func allConst(args []Value) bool {
	for _, a := range args {
		if !a.Const {
			return false
		}
	}
	return true
}

// build makes the value of op applied to args, evaluating it now when every
// argument is constant.
func build(op string, args []Value) Value {
	v := buildDynamic(op, args)
	if v.Const {
		return v // already folded (logic with constant operands)
	}
	if allConst(args) {
		if v.Kind == Boolean {
			return ConstBool(v.Bool())
		}
		return ConstNumber(v.Num())
	}
	return v
}

func buildDynamic(op string, args []Value) Value {
	switch op {
	case "and", "or", "not":
		return buildLogic(op, args)
	case ">", ">=", "<", "<=", "==", "!=":
		if args[0].Kind == Boolean {
			a, b := args[0].cond(), args[1].cond()
			if op == "==" {
				return BoolOf(func() bool { return a() == b() })
			}
			return BoolOf(func() bool { return a() != b() })
		}
		return buildCompare(op, args[0], args[1])
	}
	return buildArith(op, args)
}

func buildLogic(op string, args []Value) Value {
	if op == "not" {
		if args[0].Const {
			return ConstBool(!args[0].B)
		}
		a := args[0].Bool
		return BoolOf(func() bool { return !a() })
	}
	// Constant operands decide or vanish: false in "and" and true in "or"
	// decide the whole expression; the others can be dropped.
	decider := op == "or"
	var rest []func() bool
	for _, a := range args {
		if a.Const {
			if a.B == decider {
				return ConstBool(decider)
			}
			continue
		}
		rest = append(rest, a.Bool)
	}
	switch len(rest) {
	case 0:
		return ConstBool(!decider)
	case 1:
		return BoolOf(rest[0])
	case 2:
		a, b := rest[0], rest[1]
		if op == "and" {
			return BoolOf(func() bool { return a() && b() })
		}
		return BoolOf(func() bool { return a() || b() })
	}
	if op == "and" {
		return BoolOf(func() bool {
			for _, f := range rest {
				if !f() {
					return false
				}
			}
			return true
		})
	}
	return BoolOf(func() bool {
		for _, f := range rest {
			if f() {
				return true
			}
		}
		return false
	})
}

func buildCompare(op string, l, r Value) Value {
	// The common shape "path op constant" compares against a captured
	// number instead of calling a constant closure.
	if r.Const && !l.Const {
		a, c := l.Num, r.N
		switch op {
		case ">":
			return BoolOf(func() bool { return a() > c })
		case ">=":
			return BoolOf(func() bool { return a() >= c })
		case "<":
			return BoolOf(func() bool { return a() < c })
		case "<=":
			return BoolOf(func() bool { return a() <= c })
		case "==":
			return BoolOf(func() bool { return math.Abs(a()-c) < Epsilon })
		default:
			return BoolOf(func() bool { return math.Abs(a()-c) >= Epsilon })
		}
	}
	a, b := l.num(), r.num()
	switch op {
	case ">":
		return BoolOf(func() bool { return a() > b() })
	case ">=":
		return BoolOf(func() bool { return a() >= b() })
	case "<":
		return BoolOf(func() bool { return a() < b() })
	case "<=":
		return BoolOf(func() bool { return a() <= b() })
	case "==":
		return BoolOf(func() bool { return math.Abs(a()-b()) < Epsilon })
	default:
		return BoolOf(func() bool { return math.Abs(a()-b()) >= Epsilon })
	}
}

// Epsilon is how far apart two numbers may be and still be equal for ==
// and != (the original's eval.rs EPSILON, legacy3/wowlab
// crates/engine/src/rotation/eval.rs at 23b36d69): focus and times are
// fractions, and 1.0000001 == 1 must hold.
const Epsilon = 1e-6

// safeDiv is a / b, or 0 when b is 0: a rotation's ratio of something that
// is not there yet (no charges, no regen) must not poison its conditions
// with infinities (the original's safe_div, same file).
func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// trueMod is the mathematical modulo, whose result has the sign of b
// (-7 % 3 == 2), and 0 when b is 0 (the original's true_mod, same file).
func trueMod(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Mod(math.Mod(a, b)+b, b)
}

func buildArith(op string, args []Value) Value {
	fs := make([]func() float64, len(args))
	for i, a := range args {
		fs[i] = a.num()
	}
	switch op {
	case "floor":
		a := fs[0]
		return NumberOf(func() float64 { return math.Floor(a()) })
	case "ceil":
		a := fs[0]
		return NumberOf(func() float64 { return math.Ceil(a()) })
	case "abs":
		a := fs[0]
		return NumberOf(func() float64 { return math.Abs(a()) })
	case "-":
		a := fs[0]
		if len(fs) == 1 {
			return NumberOf(func() float64 { return -a() })
		}
		b := fs[1]
		return NumberOf(func() float64 { return a() - b() })
	case "/":
		a, b := fs[0], fs[1]
		return NumberOf(func() float64 { return safeDiv(a(), b()) })
	case "%":
		a, b := fs[0], fs[1]
		return NumberOf(func() float64 { return trueMod(a(), b()) })
	}
	if len(fs) == 2 {
		a, b := fs[0], fs[1]
		switch op {
		case "+":
			return NumberOf(func() float64 { return a() + b() })
		case "*":
			return NumberOf(func() float64 { return a() * b() })
		case "min":
			return NumberOf(func() float64 { return math.Min(a(), b()) })
		default:
			return NumberOf(func() float64 { return math.Max(a(), b()) })
		}
	}
	return NumberOf(func() float64 {
		acc := fs[0]()
		for _, f := range fs[1:] {
			x := f()
			switch op {
			case "+":
				acc += x
			case "*":
				acc *= x
			case "min":
				acc = math.Min(acc, x)
			default:
				acc = math.Max(acc, x)
			}
		}
		return acc
	})
}
