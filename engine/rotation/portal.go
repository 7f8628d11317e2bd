// This file translates rotations saved by the original portal's editor into
// this language.
//
// The format is the editor's serialize() (legacy3/wowlab at 943703ed,
// apps/portal/src/lib/state/editor.ts, types in apps/portal/src/lib/editor/
// types.ts): {defaultListId, lists: [{id, name, label, listType, actions}],
// variables: [{id, name, expression}]}; an action is {id, type, spellId,
// itemId, listId, enabled, condition} with a react-querybuilder condition
// group {combinator, not, rules}; the fields and operators of a rule are the
// portal's CONDITION_FIELDS and OPERATORS (apps/portal/src/lib/engine/
// constants.ts at 48792b26).

package rotation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// PortalNames resolves the game ids a portal rotation names to this
// language's names. ok is false for an id the engine does not know.
type PortalNames interface {
	SpellName(id int) (name string, ok bool)
	AuraName(id int) (name string, ok bool)
	ItemName(id int) (name string, ok bool)
}

// IsPortal reports whether data is a rotation saved by the original portal:
// a JSON object with "defaultListId", or whose "lists" is an array and that
// has no "actions" (this language's lists are an object, and its rotations
// have actions).
func IsPortal(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false
	}
	if _, ok := top["defaultListId"]; ok {
		return true
	}
	if _, ok := top["actions"]; ok {
		return false
	}
	l := bytes.TrimSpace(top["lists"])
	return len(l) > 0 && l[0] == '['
}

// Translation is a portal rotation in this language, with the map from
// its JSON paths back to the portal document's.
type Translation struct {
	// Script is the rotation in this language, indented JSON.
	Script []byte
	paths  map[string]string // path in Script -> path in the portal document
}

// PortalPath turns a path of Script into the path of the portal document
// it came from (the longest translated prefix), so problems found when the
// script compiles point at what the user wrote.
func (t *Translation) PortalPath(path string) string {
	for p := path; ; {
		if q, ok := t.paths[p]; ok {
			return q
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return path
		}
		p = p[:i]
	}
}

// PortalProblems maps the paths of problems found in Script to the portal
// document's.
func (t *Translation) PortalProblems(ps Problems) Problems {
	out := make(Problems, len(ps))
	for i, p := range ps {
		out[i] = Problem{Path: t.PortalPath(p.Path), Msg: p.Msg}
	}
	return out
}

type portalDoc struct {
	DefaultListID *string          `json:"defaultListId"`
	Lists         []portalList     `json:"lists"`
	Variables     []portalVariable `json:"variables"`
}

type portalList struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Label    string         `json:"label"`
	ListType string         `json:"listType"`
	Actions  []portalAction `json:"actions"`
}

type portalAction struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	SpellID   *json.Number    `json:"spellId"`
	ItemID    *json.Number    `json:"itemId"`
	ListID    *string         `json:"listId"`
	Enabled   *bool           `json:"enabled"`
	Condition json.RawMessage `json:"condition"`
}

type portalVariable struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

// translator holds one translation's state.
type translator struct {
	names    PortalNames
	problems Problems
	paths    map[string]string
	listName map[string]string // portal list id -> list name
	varKind  map[string]Kind   // variables by name, their kind found from their shape
}

func (t *translator) addf(path, format string, args ...any) {
	t.problems = append(t.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// TranslatePortal translates a rotation saved by the original portal into
// this language. Whatever cannot be translated is refused, every problem
// with the JSON path in the portal document and the reason: a portal
// rotation never runs as an empty or partial rotation.
func TranslatePortal(data []byte, names PortalNames) (*Translation, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var doc portalDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, Problems{{Msg: "invalid portal rotation: " + err.Error()}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Problems{{Msg: "invalid portal rotation: unexpected data after the rotation object"}}
	}
	t := &translator{names: names, paths: map[string]string{}, listName: map[string]string{}, varKind: map[string]Kind{}}
	out := map[string]any{}

	// Variables first: conditions on the "variable" field need their kinds.
	vars := map[string]any{}
	for i, v := range doc.Variables {
		path := fmt.Sprintf("variables[%d]", i)
		if !validIdent(v.Name) {
			t.addf(path+".name", "invalid variable name %q: use letters, digits and _", v.Name)
			continue
		}
		if _, dup := vars[v.Name]; dup {
			t.addf(path+".name", "two variables are called %q", v.Name)
			continue
		}
		e, ok := t.expressionText(v.Expression, path+".expression")
		if !ok {
			continue
		}
		vars[v.Name] = e
		t.varKind[v.Name] = shapeKind(e)
		t.paths["variables."+v.Name] = path + ".expression"
	}
	if len(vars) > 0 {
		out["variables"] = vars
	}

	if len(doc.Lists) == 0 {
		t.addf("lists", "the rotation has no action list: the original ran it as nothing; add a list with actions")
		return nil, t.problems
	}
	defaultID := doc.Lists[0].ID // the editor's load() falls back to the first list
	if doc.DefaultListID != nil && *doc.DefaultListID != "" {
		defaultID = *doc.DefaultListID
	}
	defaultAt := -1
	used := map[string]int{}
	for i, l := range doc.Lists {
		path := fmt.Sprintf("lists[%d]", i)
		if l.ID == "" {
			t.addf(path+".id", "every list needs an id")
			continue
		}
		if _, dup := t.listName[l.ID]; dup {
			t.addf(path+".id", "two lists have id %q", l.ID)
			continue
		}
		switch l.ListType {
		case "main", "sub", "precombat":
		default:
			t.addf(path+".listType", "unknown list type %q: use main, sub or precombat", l.ListType)
		}
		if !validIdent(l.Name) {
			t.addf(path+".name", "invalid list name %q: use letters, digits and _", l.Name)
		} else if j, dup := used[l.Name]; dup {
			t.addf(path+".name", "lists[%d] is also called %q", j, l.Name)
		}
		used[l.Name] = i
		t.listName[l.ID] = l.Name
		if l.ID == defaultID {
			defaultAt = i
		}
	}
	if defaultAt < 0 {
		t.addf("defaultListId", "no list has id %q", defaultID)
		return nil, t.problems
	}
	if doc.Lists[defaultAt].ListType == "precombat" {
		t.addf("defaultListId", "the default list %q is a precombat list; make a main list the default", doc.Lists[defaultAt].Name)
	}
	lists := map[string]any{}
	havePre := -1
	for i, l := range doc.Lists {
		path := fmt.Sprintf("lists[%d]", i)
		var key string
		switch {
		case i == defaultAt:
			key = "actions"
		case l.ListType == "precombat":
			if havePre >= 0 {
				t.addf(path+".listType", "lists[%d] is already the precombat list; a rotation has one", havePre)
				continue
			}
			havePre, key = i, "precombat"
		default:
			key = "lists." + l.Name
		}
		acts := t.actions(l.Actions, path, key)
		if len(acts) == 0 {
			if i == defaultAt {
				t.addf(path+".actions", "the default list has no enabled action: the original ran this rotation as nothing; add or enable an action")
			} else {
				t.addf(path+".actions", "list %q has no enabled action; add or enable one, or delete the list", l.Name)
			}
			continue
		}
		t.paths[key] = path
		switch key {
		case "actions", "precombat":
			out[key] = acts
		default:
			lists[l.Name] = acts
		}
	}
	if len(lists) > 0 {
		out["lists"] = lists
	}
	if len(t.problems) > 0 {
		return nil, t.problems
	}
	// Without HTML escaping: ">=" stays readable for the person reading
	// engine convert's output.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode the translated rotation: %w", err)
	}
	return &Translation{Script: bytes.TrimSpace(buf.Bytes()), paths: t.paths}, nil
}

func (t *translator) actions(in []portalAction, listPath, key string) []any {
	out := []any{}
	for j, a := range in {
		path := fmt.Sprintf("%s.actions[%d]", listPath, j)
		if a.Enabled != nil && !*a.Enabled {
			continue // a disabled action is not part of the rotation
		}
		ourPath := fmt.Sprintf("%s[%d]", key, len(out))
		act := map[string]any{}
		own := "" // the action's own spell: what cooldown and charge fields mean
		switch a.Type {
		case "spell":
			id, ok := t.id(a.SpellID, path+".spellId", "spell")
			if !ok {
				continue
			}
			name, known := t.names.SpellName(id)
			if !known {
				t.addf(path+".spellId", "spell %d is not a spell the engine casts", id)
				continue
			}
			act["cast"], own = name, name
			t.paths[ourPath+".cast"] = path + ".spellId"
		case "item":
			id, ok := t.id(a.ItemID, path+".itemId", "item")
			if !ok {
				continue
			}
			name, worn := t.names.ItemName(id)
			if !worn {
				t.addf(path+".itemId", "no worn trinket has item id %d; add it to the player's trinkets with \"item_id\": %d", id, id)
				continue
			}
			act["use_item"] = name
			t.paths[ourPath+".use_item"] = path + ".itemId"
		case "call_action_list":
			if a.ListID == nil || *a.ListID == "" {
				t.addf(path+".listId", "missing: a call_action_list action names the list it calls")
				continue
			}
			name, found := t.listName[*a.ListID]
			if !found {
				t.addf(path+".listId", "no list has id %q", *a.ListID)
				continue
			}
			act["call"] = name
			t.paths[ourPath+".call"] = path + ".listId"
		default:
			t.addf(path+".type", "unknown action type %q: the editor saves spell, item or call_action_list", a.Type)
			continue
		}
		t.paths[ourPath] = path
		if cond, ok := t.condition(a.Condition, path+".condition", ourPath+".if", own); !ok {
			continue
		} else if cond != nil {
			act["if"] = cond
		}
		out = append(out, act)
	}
	return out
}

func (t *translator) id(n *json.Number, path, kind string) (int, bool) {
	if n == nil {
		t.addf(path, "missing: a %s action names its %s by id", kind, kind)
		return 0, false
	}
	v, err := strconv.ParseInt(string(*n), 10, 32)
	if err != nil || v <= 0 {
		t.addf(path, "%s id must be a positive whole number, got %s", kind, *n)
		return 0, false
	}
	return int(v), true
}

// condition translates a react-querybuilder group; nil means always.
func (t *translator) condition(raw json.RawMessage, path, ourPath, own string) (any, bool) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		t.addf(path, "invalid condition: %v", err)
		return nil, false
	}
	return t.group(g, path, ourPath, own, 0)
}

func (t *translator) group(v any, path, ourPath, own string, depth int) (any, bool) {
	if depth > MaxDepth {
		t.addf(path, "condition groups nested deeper than %d levels", MaxDepth)
		return nil, false
	}
	g, ok := v.(map[string]any)
	if !ok {
		t.addf(path, "a condition group is an object with combinator and rules")
		return nil, false
	}
	if d, _ := g["disabled"].(bool); d {
		return nil, true
	}
	comb := "and"
	if c, present := g["combinator"]; present {
		s, _ := c.(string)
		switch strings.ToLower(s) {
		case "and", "or":
			comb = strings.ToLower(s)
		default:
			t.addf(path+".combinator", "unknown combinator %v: use and or or", c)
			return nil, false
		}
	}
	not := false
	if n, present := g["not"]; present {
		b, isBool := n.(bool)
		if !isBool {
			t.addf(path+".not", "must be true or false")
			return nil, false
		}
		not = b
	}
	rules, isList := g["rules"].([]any)
	if _, present := g["rules"]; present && !isList {
		t.addf(path+".rules", "must be a list of rules and groups")
		return nil, false
	}
	inner := ourPath
	if not {
		inner = ourPath + ".not"
	}
	var parts []any
	type pending struct {
		v    any
		path string
	}
	var kept []pending
	for i, r := range rules {
		rp := fmt.Sprintf("%s.rules[%d]", path, i)
		if _, isStr := r.(string); isStr {
			t.addf(rp, "independent combinators (a combinator between rules) are not supported: use one combinator per group")
			return nil, false
		}
		m, isObj := r.(map[string]any)
		if !isObj {
			t.addf(rp, "a rule is an object with field, operator and value")
			return nil, false
		}
		if d, _ := m["disabled"].(bool); d {
			continue
		}
		kept = append(kept, pending{r, rp})
	}
	for k, p := range kept {
		op := inner
		if len(kept) > 1 {
			op = fmt.Sprintf("%s.%s[%d]", inner, comb, k)
		}
		var e any
		var ok bool
		if _, isGroup := p.v.(map[string]any)["rules"]; isGroup {
			e, ok = t.group(p.v, p.path, op, own, depth+1)
		} else {
			e, ok = t.rule(p.v.(map[string]any), p.path, own)
		}
		if !ok {
			return nil, false
		}
		t.paths[op] = p.path
		if e != nil {
			parts = append(parts, e)
		}
	}
	var e any
	switch len(parts) {
	case 0:
		if not {
			return false, true // "not (always)"
		}
		return nil, true
	case 1:
		e = parts[0]
	default:
		e = map[string]any{comb: parts}
	}
	if not {
		e = map[string]any{"not": e}
	}
	return e, true
}

// fieldKind says how a portal field is translated.
type fieldKind uint8

const (
	numField   fieldKind = iota + 1 // a number about nothing in particular or the action's own spell
	boolField                       // a condition about nothing or the action's own spell; value true/false
	namedField                      // a condition whose value names its subject (an aura, talent, variable)
	spellField                      // a condition about the action's own spell, or the spell the value names
)

// portalField is one CONDITION_FIELDS entry: how it is translated, or why
// it cannot be. build gets the subject (the action's spell, or the name
// the value gives) and returns the expression.
type portalField struct {
	kind   fieldKind
	own    bool // needs the action's own spell
	build  func(subject string) any
	refuse string
}

func fixed(p string) func(string) any { return func(string) any { return p } }
func subj(format string) func(string) any {
	return func(s string) any { return fmt.Sprintf(format, s) }
}
func negate(f func(string) any) func(string) any {
	return func(s string) any { return map[string]any{"not": f(s)} }
}

func fNum(f func(string) any, own bool) portalField {
	return portalField{kind: numField, own: own, build: f}
}
func fFlag(f func(string) any, own bool) portalField {
	return portalField{kind: boolField, own: own, build: f}
}
func fNamed(f func(string) any) portalField { return portalField{kind: namedField, build: f} }
func fSpell(f func(string) any) portalField { return portalField{kind: spellField, build: f} }
func fRefused(why string) portalField       { return portalField{refuse: why} }
func executeTime(s string) any {
	return map[string]any{"max": []any{"spell." + s + ".cast_time", "gcd.duration"}}
}
func otherResource(r string) portalField {
	return fRefused(fmt.Sprintf("hunters have no %s; their resource is focus", r))
}

// portalFields are the portal's CONDITION_FIELDS. Where the editor leaves a
// meaning open, SimC's meaning of the same name is taken: cooldown, charge,
// spell and numeric buff/debuff/dot fields are about the action's own spell
// (or its aura of the same name), as in an action line of a SimC profile.
var portalFields = func() map[string]portalField {
	f := map[string]portalField{
		"target.health.pct":     fNum(fixed("target.health_percent"), false),
		"target.health.current": fNum(fixed("target.health"), false),
		"target.health.max":     fNum(fixed("target.health_max"), false),
		"target.time_to_die":    fNum(fixed("target.time_to_die"), false),
		"target.time_to_pct_20": fNum(fixed("target.time_to_percent.20"), false),
		"target.time_to_pct_35": fNum(fixed("target.time_to_percent.35"), false),
		"target.distance":       fNum(fixed("target.distance"), false),
		"target.is_boss":        fRefused("the engine's target has no boss flag"),
		"target.adds":           fNum(func(string) any { return map[string]any{"-": []any{"enemy.count", 1}} }, false),
		"target.level":          fRefused("the engine's target has no level to compare; target.level_diff is config"),

		"resource.pct":     fNum(fixed("resource.focus.percent"), false),
		"resource.current": fNum(fixed("resource.focus"), false),
		"resource.max":     fNum(fixed("resource.focus.max"), false),
		"resource.deficit": fNum(fixed("resource.focus.deficit"), false),
		"focus":            fNum(fixed("resource.focus"), false),
		"focus.deficit":    fNum(fixed("resource.focus.deficit"), false),

		"buff.up":          fNamed(subj("buff.%s.active")),
		"buff.down":        fNamed(subj("buff.%s.inactive")),
		"buff.react":       fNamed(subj("buff.%s.active")),
		"buff.stacks":      fNum(subj("buff.%s.stacks"), true),
		"buff.remains":     fNum(subj("buff.%s.remaining"), true),
		"buff.duration":    fNum(subj("buff.%s.duration"), true),
		"buff.max_stacks":  fNum(subj("buff.%s.stacks_max"), true),
		"buff.refreshable": fFlag(pandemic, true),

		"debuff.up":          fNamed(subj("debuff.%s.active")),
		"debuff.down":        fNamed(subj("debuff.%s.inactive")),
		"debuff.stacks":      fNum(subj("debuff.%s.stacks"), true),
		"debuff.remains":     fNum(subj("debuff.%s.remaining"), true),
		"debuff.duration":    fRefused("the engine has no debuff duration field; compare debuff.remains"),
		"debuff.max_stacks":  fRefused("the engine has no debuff stack limit field"),
		"debuff.refreshable": fFlag(subj("debuff.%s.refreshable"), true),

		"dot.up":                fNamed(subj("dot.%s.ticking")),
		"dot.ticking":           fNamed(subj("dot.%s.ticking")),
		"dot.remains":           fNum(subj("dot.%s.remaining"), true),
		"dot.duration":          fRefused("the engine has no dot duration field; compare dot.remains"),
		"dot.stacks":            fNum(subj("debuff.%s.stacks"), true),
		"dot.refreshable":       fFlag(subj("dot.%s.refreshable"), true),
		"dot.ticks_remain":      fNum(subj("dot.%s.ticks_remaining"), true),
		"dot.tick_time_remains": fRefused("the engine has no time to the next tick"),

		"cooldown.ready":     fSpell(subj("cd.%s.ready")),
		"cooldown.up":        fSpell(subj("cd.%s.ready")),
		"cooldown.down":      fSpell(negate(subj("cd.%s.ready"))),
		"cooldown.remains":   fNum(subj("cd.%s.remaining"), true),
		"cooldown.duration":  fNum(subj("cd.%s.duration"), true),
		"charges":            fNum(subj("cd.%s.charges"), true),
		"charges.max":        fNum(subj("cd.%s.charges_max"), true),
		"charges.fractional": fNum(subj("cd.%s.charges_fractional"), true),
		"recharge_time":      fNum(subj("cd.%s.recharge_time"), true),
		"full_recharge_time": fNum(subj("cd.%s.full_recharge_time"), true),

		"spell.usable":              fSpell(subj("spell.%s.usable")),
		"spell.known":               fSpell(subj("spell.%s.known")),
		"spell.cast_time":           fNum(subj("spell.%s.cast_time"), true),
		"spell.execute_time":        fNum(executeTime, true),
		"spell.in_flight":           fRefused("the engine has no travel time: nothing is ever in flight"),
		"spell.in_flight_to_target": fRefused("the engine has no travel time: nothing is ever in flight"),
		"prev_gcd":                  fRefused("the engine keeps no history of the previous actions"),
		"prev_off_gcd":              fRefused("the engine keeps no history of the previous actions"),

		"in_combat":           fFlag(fixed("player.in_combat"), false),
		"moving":              fFlag(fixed("player.moving"), false),
		"gcd.remains":         fNum(fixed("gcd.remaining"), false),
		"gcd.max":             fNum(fixed("gcd.duration"), false),
		"cast.time":           fRefused("the engine has no field for the cast in progress"),
		"execute_time":        fNum(executeTime, true),
		"action.execute_time": fNum(executeTime, true),
		"channeling":          fRefused("the engine has no channeling field"),
		"health.pct":          fNum(fixed("player.health.percent"), false),
		"health.current":      fNum(fixed("player.health"), false),
		"health.max":          fNum(fixed("player.health.max"), false),
		"health.deficit":      fNum(fixed("player.health.deficit"), false),

		"fight.remains":     fNum(fixed("combat.remaining"), false),
		"fight.length":      fNum(func(string) any { return map[string]any{"+": []any{"combat.time", "combat.remaining"}} }, false),
		"active_enemies":    fNum(fixed("enemy.count"), false),
		"spell_targets":     fNum(fixed("enemy.count"), false),
		"time":              fNum(fixed("combat.time"), false),
		"time_to_bloodlust": fRefused("the engine has no time to Bloodlust field; raid.bloodlust_at is config"),
		"bloodlust.up":      fFlag(fixed("buff.bloodlust.active"), false),

		"talent":         fNamed(subj("talent.%s")),
		"talent.enabled": fNamed(subj("talent.%s")),
		"talent.rank":    fRefused("the editor's talent.rank names no talent; write talent.<name>.rank in a variable"),

		"pet.active":       fFlag(fixed("pet.active"), false),
		"pet.health.pct":   fRefused("the engine does not track the pet's health"),
		"pet.buff.up":      fNamed(subj("pet.buff.%s.active")),
		"pet.buff.remains": fRefused("the editor's pet.buff.remains names no aura"),

		"totem.active":  fRefused("hunters have no totems"),
		"totem.remains": fRefused("hunters have no totems"),

		"trinket.1.cooldown.ready":   fFlag(fixed("trinket.1.ready"), false),
		"trinket.1.cooldown.remains": fNum(fixed("trinket.1.remaining"), false),
		"trinket.2.cooldown.ready":   fFlag(fixed("trinket.2.ready"), false),
		"trinket.2.cooldown.remains": fNum(fixed("trinket.2.remaining"), false),
		"trinket.1.has_use_buff":     fFlag(fixed("trinket.1.has_use_buff"), false),
		"trinket.2.has_use_buff":     fFlag(fixed("trinket.2.has_use_buff"), false),

		"variable": fNamed(func(s string) any { return s }),
	}
	for _, r := range []string{"combo_points", "holy_power", "soul_shards", "chi", "runes", "runic_power",
		"arcane_charges", "insanity", "maelstrom", "fury", "rage", "energy", "mana", "astral_power"} {
		for _, suffix := range []string{"", ".deficit", ".max", ".regen", ".time_to_max", ".pct", ".current"} {
			f[r+suffix] = otherResource(strings.ReplaceAll(r, "_", " "))
		}
	}
	for _, race := range []string{"blood_elf", "night_elf", "troll", "orc"} {
		f["race."+race] = fRefused("the engine simulates no races")
	}
	return f
}()

// pandemic is SimC's buff.refreshable: less than 30% of the buff's
// duration is left.
func pandemic(s string) any {
	return map[string]any{"<": []any{"buff." + s + ".remaining", map[string]any{"*": []any{0.3, "buff." + s + ".duration"}}}}
}

var portalOps = map[string]string{"=": "==", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (t *translator) rule(r map[string]any, path, own string) (any, bool) {
	field, _ := r["field"].(string)
	spec, known := portalFields[field]
	if !known {
		names := make([]string, 0, len(portalFields))
		for n := range portalFields {
			names = append(names, n)
		}
		msg := fmt.Sprintf("unknown field %q", field)
		if s := Suggest(field, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		t.addf(path+".field", "%s", msg)
		return nil, false
	}
	if spec.refuse != "" {
		t.addf(path+".field", "%s cannot be translated: %s", field, spec.refuse)
		return nil, false
	}
	if vs, _ := r["valueSource"].(string); vs == "field" {
		t.addf(path+".valueSource", "comparing two fields is not supported: compare a field with a value")
		return nil, false
	}
	opName, _ := r["operator"].(string)
	op, okOp := portalOps[opName]
	if !okOp {
		t.addf(path+".operator", "operator %q cannot be translated: use one of =, !=, <, <=, >, >=", opName)
		return nil, false
	}
	value := r["value"]
	text := ""
	switch v := value.(type) {
	case string:
		text = strings.TrimSpace(v)
	case json.Number:
		text = string(v)
	case bool:
		text = strconv.FormatBool(v)
	case nil:
	default:
		t.addf(path+".value", "must be a number, a name or true/false")
		return nil, false
	}
	if spec.own && own == "" {
		t.addf(path+".field", "%s is about the action's own spell, and a %s action has none", field, "call_action_list or item")
		return nil, false
	}
	switch spec.kind {
	case numField:
		n, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			t.addf(path+".value", "%s is a number; got %q", field, text)
			return nil, false
		}
		return map[string]any{op: []any{spec.build(own), n}}, true
	case namedField:
		if text == "" {
			t.addf(path+".value", "%s needs the name of what it tests", field)
			return nil, false
		}
		name, ok := t.subject(field, text, path+".value")
		if !ok {
			return nil, false
		}
		e := spec.build(name)
		if field == "variable" && t.varKind[name] == Number {
			e = map[string]any{"!=": []any{name, 0}}
		}
		return t.truth(e, op, true, path)
	case spellField:
		want, isBool := truthOf(text)
		subject := own
		if !isBool {
			name, ok := t.subject("spell", text, path+".value")
			if !ok {
				return nil, false
			}
			subject, want = name, true
		} else if own == "" {
			t.addf(path+".value", "%s of a call_action_list or item action must name the spell", field)
			return nil, false
		}
		return t.truth(spec.build(subject), op, want, path)
	default:
		want, isBool := truthOf(text)
		if !isBool {
			t.addf(path+".value", "%s is true or false; got %q", field, text)
			return nil, false
		}
		return t.truth(spec.build(own), op, want, path)
	}
}

// truth is e when the rule holds e to be want, else its negation; only =
// and != compare conditions.
func (t *translator) truth(e any, op string, want bool, path string) (any, bool) {
	switch op {
	case "==":
	case "!=":
		want = !want
	default:
		t.addf(path+".operator", "a true/false field compares with = or !=, not %q", op)
		return nil, false
	}
	if want {
		return e, true
	}
	return map[string]any{"not": e}, true
}

// truthOf reads a true/false rule value; an empty value means true.
func truthOf(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "", "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

// subject reads the name a rule's value gives: a name, or the game id of a
// spell or aura.
func (t *translator) subject(field, text, path string) (string, bool) {
	id, err := strconv.Atoi(text)
	if err != nil {
		if !validIdent(text) {
			t.addf(path, "%q is not a name: use letters, digits and _", text)
			return "", false
		}
		return text, true
	}
	var name string
	var ok bool
	if strings.HasPrefix(field, "buff") || strings.HasPrefix(field, "debuff") || strings.HasPrefix(field, "dot") || strings.HasPrefix(field, "pet.buff") {
		name, ok = t.names.AuraName(id)
	} else {
		name, ok = t.names.SpellName(id)
	}
	if !ok {
		t.addf(path, "%d is not a game id the engine knows for %s", id, field)
		return "", false
	}
	return name, true
}

// shapeKind is the kind of a translated expression found from its shape.
func shapeKind(e any) Kind {
	switch x := e.(type) {
	case bool:
		return Boolean
	case map[string]any:
		for op := range x {
			switch op {
			case ">", ">=", "<", "<=", "==", "!=", "and", "or", "not":
				return Boolean
			}
		}
	}
	return Number
}
