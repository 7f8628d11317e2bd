package rotation_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"wowlab/engine/rotation"
)

// hunterNames resolves the game ids the portal fixtures use (the engine's
// own table is tested in package engine).
type hunterNames struct{}

var fixtureSpells = map[int]string{34026: "kill_command", 217200: "barbed_shot", 193455: "cobra_shot",
	19574: "bestial_wrath", 359844: "call_of_the_wild", 2643: "multi_shot"}

func (hunterNames) SpellName(id int) (string, bool) { n, ok := fixtureSpells[id]; return n, ok }

func (hunterNames) AuraName(id int) (string, bool) {
	n, ok := map[int]string{19574: "bestial_wrath", 272790: "frenzy"}[id]
	return n, ok
}

func (hunterNames) ItemName(id int) (string, bool) {
	if id == 219314 {
		return "signet", true
	}
	return "", false
}

func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

func TestTranslatePortalFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/portal/*.portal.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".portal.json") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if !rotation.IsPortal(in) || rotation.IsPortal(want) {
				t.Fatalf("IsPortal: portal %v, hand-written %v", rotation.IsPortal(in), rotation.IsPortal(want))
			}
			tr, err := rotation.TranslatePortal(in, hunterNames{})
			if err != nil {
				t.Fatalf("TranslatePortal: %v", err)
			}
			if got, w := decodeJSON(t, tr.Script), decodeJSON(t, want); !reflect.DeepEqual(got, w) {
				t.Errorf("translation:\n%s\nwant the equivalent of:\n%s", tr.Script, want)
			}
			if _, err := rotation.Parse(tr.Script); err != nil {
				t.Errorf("the translation does not parse: %v", err)
			}
		})
	}
}

func TestTranslatePortalMapsPathsBack(t *testing.T) {
	in, err := os.ReadFile("testdata/portal/bm_lists.portal.json")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := rotation.TranslatePortal(in, hunterNames{})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"actions[1].cast":               "lists[1].actions[1].spellId",
		"actions[1].if.or[0]":           "lists[1].actions[1].condition.rules[0]",
		"actions[1].if.or[1]":           "lists[1].actions[1].condition.rules[1]",
		"actions[1].if.or[1].not":       "lists[1].actions[1].condition.rules[1].rules[0]",
		"actions[1].if.or[0].>=[0]":     "lists[1].actions[1].condition.rules[0]",
		"actions[2]":                    "lists[1].actions[3]", // the disabled action is gone
		"lists.cds[1].if":               "lists[2].actions[1].condition.rules[0]",
		"precombat[0].cast":             "lists[0].actions[1].spellId",
		"variables.bw_soon.and[0].<[0]": "variables[1].expression",
		"name":                          "name",
	}
	for ours, want := range tests {
		if got := tr.PortalPath(ours); got != want {
			t.Errorf("PortalPath(%q) = %q, want %q", ours, got, want)
		}
	}
}

// portalDoc builds a one-list portal rotation with the given actions.
func portalDoc(actions string) string {
	return `{"defaultListId":"m","lists":[{"id":"m","name":"default","label":"Default","listType":"main","actions":[` + actions + `]}],"variables":[]}`
}

func spellAction(cond string) string {
	return `{"id":"a","type":"spell","spellId":34026,"enabled":true,"condition":` + cond + `}`
}

func rule(field, op, value string) string {
	return `{"combinator":"and","rules":[{"field":"` + field + `","operator":"` + op + `","value":` + value + `}]}`
}

func TestTranslatePortalRefuses(t *testing.T) {
	r0 := "lists[0].actions[0].condition.rules[0]"
	tests := []struct {
		name, doc, path, msg string
	}{
		{"not JSON", `{"lists":[`, "", "invalid portal rotation"},
		{"unknown key", `{"defaultListId":"m","lists":[],"extra":1}`, "", `unknown field "extra"`},
		{"no lists", `{"defaultListId":"m","lists":[],"variables":[]}`, "lists", "the original ran it as nothing"},
		{"default list missing", `{"defaultListId":"x","lists":[{"id":"m","name":"a","listType":"main","actions":[]}]}`, "defaultListId", `no list has id "x"`},
		{"every action disabled", portalDoc(`{"id":"a","type":"spell","spellId":34026,"enabled":false,"condition":{"combinator":"and","rules":[]}}`),
			"lists[0].actions", "the original ran this rotation as nothing"},
		{"unknown spell id", portalDoc(`{"id":"a","type":"spell","spellId":999999,"enabled":true}`), "lists[0].actions[0].spellId", "spell 999999 is not a spell the engine casts"},
		{"spell id not a whole number", portalDoc(`{"id":"a","type":"spell","spellId":-4,"enabled":true}`), "lists[0].actions[0].spellId", "positive whole number"},
		{"item not worn", portalDoc(`{"id":"a","type":"item","itemId":1234,"enabled":true}`), "lists[0].actions[0].itemId", "no worn trinket has item id 1234"},
		{"unknown action type", portalDoc(`{"id":"a","type":"macro","enabled":true}`), "lists[0].actions[0].type", `unknown action type "macro"`},
		{"call of an unknown list", portalDoc(`{"id":"a","type":"call_action_list","listId":"zz","enabled":true}`), "lists[0].actions[0].listId", `no list has id "zz"`},
		{"unknown field", portalDoc(spellAction(rule("cooldown.redy", "=", `"true"`))), r0 + ".field", `did you mean "cooldown.ready"?`},
		{"other class's resource", portalDoc(spellAction(rule("combo_points", ">=", `5`))), r0 + ".field", "hunters have no combo points"},
		{"no action history", portalDoc(spellAction(rule("prev_gcd", "=", `"kill_command"`))), r0 + ".field", "keeps no history"},
		{"query-builder operator", portalDoc(spellAction(rule("focus", "between", `"10,20"`))), r0 + ".operator", `operator "between" cannot be translated`},
		{"number field, text value", portalDoc(spellAction(rule("focus", ">=", `"lots"`))), r0 + ".value", `focus is a number; got "lots"`},
		{"condition field compared with <", portalDoc(spellAction(rule("buff.up", "<", `"bestial_wrath"`))), r0 + ".operator", "compares with = or !="},
		{"unknown aura id", portalDoc(spellAction(rule("buff.up", "=", `"4242"`))), r0 + ".value", "4242 is not a game id"},
		{"comparing two fields", portalDoc(spellAction(`{"combinator":"and","rules":[{"field":"focus","operator":">","value":"focus.deficit","valueSource":"field"}]}`)), r0 + ".valueSource", "comparing two fields"},
		{"independent combinators", portalDoc(spellAction(`{"rules":[{"field":"focus","operator":">","value":1},"and",{"field":"time","operator":">","value":1}]}`)), "lists[0].actions[0].condition.rules[1]", "independent combinators"},
		{"bad combinator", portalDoc(spellAction(`{"combinator":"xor","rules":[]}`)), "lists[0].actions[0].condition.combinator", "unknown combinator"},
		{"own-spell field on a list call", `{"defaultListId":"m","lists":[{"id":"m","name":"default","listType":"main","actions":[{"id":"a","type":"call_action_list","listId":"s","enabled":true,"condition":` + rule("charges", ">", "1") + `}]},{"id":"s","name":"sub","listType":"sub","actions":[` + spellAction(`{"rules":[]}`) + `]}]}`,
			"lists[0].actions[0].condition.rules[0].field", "about the action's own spell"},
		{"bad list name", `{"defaultListId":"m","lists":[{"id":"m","name":"my list","listType":"main","actions":[` + spellAction(`{"rules":[]}`) + `]}]}`, "lists[0].name", `invalid list name "my list"`},
		{"two precombat lists", `{"defaultListId":"m","lists":[{"id":"m","name":"a","listType":"main","actions":[` + spellAction(`{"rules":[]}`) + `]},{"id":"p","name":"p","listType":"precombat","actions":[` + spellAction(`{"rules":[]}`) + `]},{"id":"q","name":"q","listType":"precombat","actions":[` + spellAction(`{"rules":[]}`) + `]}]}`,
			"lists[2].listType", "already the precombat list"},
		{"variable with bad expression", `{"defaultListId":"m","lists":[{"id":"m","name":"a","listType":"main","actions":[` + spellAction(`{"rules":[]}`) + `]}],"variables":[{"id":"v","name":"x","expression":"focus>=(50"}]}`,
			"variables[0].expression", "missing )"},
		{"variable with empty expression", `{"defaultListId":"m","lists":[{"id":"m","name":"a","listType":"main","actions":[` + spellAction(`{"rules":[]}`) + `]}],"variables":[{"id":"v","name":"x","expression":" "}]}`,
			"variables[0].expression", "empty expression"},
		{"variable with control characters", `{"defaultListId":"m","lists":[{"id":"m","name":"a","listType":"main","actions":[` + spellAction(`{"rules":[]}`) + `]}],"variables":[{"id":"v","name":"x","expression":"focus\u0000>1"}]}`,
			"variables[0].expression", "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := rotation.TranslatePortal([]byte(tt.doc), hunterNames{})
			if err == nil {
				t.Fatalf("translated, want a refusal:\n%s", tr.Script)
			}
			var ps rotation.Problems
			if !asProblems(err, &ps) {
				t.Fatalf("error %T %v, want Problems", err, err)
			}
			for _, p := range ps {
				if p.Path == tt.path && strings.Contains(p.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("problems %v; want one at %q containing %q", ps, tt.path, tt.msg)
		})
	}
}

func asProblems(err error, ps *rotation.Problems) bool {
	p, ok := err.(rotation.Problems)
	*ps = p
	return ok
}

func TestPortalVariableExpressions(t *testing.T) {
	tests := []struct{ text, want string }{
		{"focus>=50", `{">=":["resource.focus",50]}`},
		{"buff.bestial_wrath.up&!cooldown.kill_command.ready|talent.x", `{"or":[{"and":["buff.bestial_wrath.active",{"not":"cd.kill_command.ready"}]},"talent.x"]}`},
		{"1+2*3", `{"+":[1,{"*":[2,3]}]}`},
		{"(1+2)*3", `{"*":[{"+":[1,2]},3]}`},
		{"focus.deficit%focus.regen", `{"/":["resource.focus.deficit","resource.focus.regen"]}`},
		{"time%%5=0", `{"==":[{"%":["combat.time",5]},0]}`},
		{"@-3", `{"abs":{"-":[3]}}`},
		{"floor(cooldown.barbed_shot.charges_fractional)", `{"floor":"cd.barbed_shot.charges_fractional"}`},
		{"cooldown.bestial_wrath.down", `{"not":"cd.bestial_wrath.ready"}`},
		{"dot.barbed_shot.up&dot.barbed_shot.stack>1", `{"and":["dot.barbed_shot.ticking",{">":["debuff.barbed_shot.stacks",1]}]}`},
		{"variable.other!=2", `{"!=":["other",2]}`},
		{"active_enemies>2&target.health.pct<20", `{"and":[{">":["enemy.count",2]},{"<":["target.health_percent",20]}]}`},
		{`{"min": ["resource.focus", 10]}`, `{"min":["resource.focus",10]}`},
		{"true", `true`},
		{"4.5", `4.5`},
	}
	for _, tt := range tests {
		doc := `{"defaultListId":"m","lists":[{"id":"m","name":"a","listType":"main","actions":[` + spellAction(`{"rules":[]}`) + `]}],"variables":[{"id":"v","name":"x","expression":` + jsonString(tt.text) + `}]}`
		tr, err := rotation.TranslatePortal([]byte(doc), hunterNames{})
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		got := decodeJSON(t, tr.Script).(map[string]any)["variables"].(map[string]any)["x"]
		if want := decodeJSON(t, []byte(tt.want)); !reflect.DeepEqual(got, want) {
			b, _ := json.Marshal(got)
			t.Errorf("%q became %s, want %s", tt.text, b, tt.want)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestIsPortal(t *testing.T) {
	for doc, want := range map[string]bool{
		`{"defaultListId":"x"}`:                 true,
		`{"lists":[]}`:                          true,
		`{"lists":{},"actions":[]}`:             false,
		`{"lists":[],"actions":[]}`:             false,
		`{"actions":[{"cast":"kill_command"}]}`: false,
		`[1]`:                                   false,
		`not json`:                              false,
	} {
		if got := rotation.IsPortal([]byte(doc)); got != want {
			t.Errorf("IsPortal(%s) = %v, want %v", doc, got, want)
		}
	}
}
