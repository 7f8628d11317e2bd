package rotation_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"wowlab/engine/rotation"
)

// FuzzParse feeds arbitrary bytes to Parse; whatever parses is compiled
// against the fake env and walked under several states. Nothing may panic,
// every failure must be Problems, and a cast decision must name a spell
// the program lists in Casts.
func FuzzParse(f *testing.F) {
	seeds := []string{
		realistic,
		`{"actions":[{"cast":"kill_command"}]}`,
		`{"actions":[{"cast":"kill_command","if":{"and":[true,"talent.alpha_predator"]}}]}`,
		`{"actions":[{"cast":"kill_command","if":{"not":"talent.killer_cobra"}}]}`,
		`{"variables":{"n":0},"actions":[{"modify":"n","op":"div","value":0},{"cast":"cobra_shot","if":{">":[{"%":["n",0]},1]}},{"wait":1}]}`,
		`{"variables":{"x":"y","y":"x"},"actions":[{"wait":1}]}`,
		`{"variables":{"a":{"+":["b","b"]},"b":{"+":["c","c"]},"c":"resource.focus"},"actions":[{"cast":"kill_command","if":{">":["a",1]}}]}`,
		`{"lists":{"a":[{"call":"b"}],"b":[{"run":"a"}]},"actions":[{"call":"a"}]}`,
		`{"lists":{"p":[{"pool":true,"extra":5},{"cast":"multi_shot"}]},"actions":[{"call":"p"},{"run":"p"}]}`,
		`{"actions":[{"wait_until":{"or":["buff.frenzy.active",{"==":["cd.kill_command.ready",false]}]}},{"wait":0.5}]}`,
		`{"actions":[{"cast":"kil_command"},{"call":"nope"},{"cast":"cobra_shot","if":"resource.focus"}]}`,
		`{"actions":[{"cats":"kill_command"},{"cast":5},{"wait":0},{"modify":"n","op":"ad"}]}`,
		`{"actions":[{"cast":"kill_command","if":{">==":["resource.focus",50]}}]}`,
		`{"actions":[{"cast":"kill_command","if":` + nest("not", rotation.MaxDepth+1, "true") + `}]}`,
		`{"actions":[{"cast":"kill_command","if":{"-":[1,2,3]}}]}`,
		`{"actions":[{"cast":"kill_command","if":[null]}]}`,
		`{"actions":[]}`,
		`{"actions":[{"wait":1}]}]`,
		`[]`,
		`{`,
		``,
		`{"actions":[{"wait":1e400}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := rotation.Parse(data)
		if err != nil {
			var ps rotation.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Parse error is not a non-empty Problems: %#v", err)
			}
			return
		}
		env := newFakeEnv()
		p, err := rotation.Compile(r, env)
		if err != nil {
			var ps rotation.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Compile error is not a non-empty Problems: %#v", err)
			}
			return
		}
		for i := 0; i < 4; i++ {
			env.allow(env.spells[i%len(env.spells)], env.spells[(i+2)%len(env.spells)])
			env.focus = float64(i * 30)
			env.frenzyActive = i%2 == 1
			env.frenzyStacks = float64(i)
			d := p.Decide()
			switch d.Kind {
			case rotation.Idle:
			case rotation.Wait:
				if !(d.Seconds > 0 && d.Seconds <= 3600) {
					t.Fatalf("wait of %v seconds", d.Seconds)
				}
			case rotation.Cast:
				found := false
				for _, id := range p.Casts {
					found = found || id == d.Spell
				}
				if !found || !env.castable[d.Spell] {
					t.Fatalf("cast of spell %d not castable or not in Casts %v", d.Spell, p.Casts)
				}
			case rotation.Use:
				if !env.usable[int(d.Item)] {
					t.Fatalf("use of item %d, which cannot be used", d.Item)
				}
			default:
				t.Fatalf("unknown decision kind %d", d.Kind)
			}
			if i == 2 {
				p.Reset()
			}
		}
	})
}

// FuzzTranslatePortal feeds arbitrary bytes to TranslatePortal. Nothing may
// panic, every refusal must be Problems, a translation must be a JSON
// object, and whatever of it parses must compile or be refused with
// Problems whose paths map back into the portal document.
func FuzzTranslatePortal(f *testing.F) {
	for _, name := range []string{"bm_lists", "trinkets"} {
		data, err := os.ReadFile("testdata/portal/" + name + ".portal.json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		portalDoc(spellAction(rule("focus", ">=", `"30"`))),
		portalDoc(spellAction(rule("buff.up", "=", `"19574"`))),
		portalDoc(spellAction(`{"combinator":"or","not":true,"rules":[{"rules":[{"field":"charges","operator":"<","value":2}]},{"field":"time","operator":">","value":"1e400"}]}`)),
		`{"defaultListId":"m","lists":[{"id":"m","name":"a","listType":"main","actions":[` + spellAction(`{"rules":[]}`) + `]}],"variables":[{"id":"v","name":"x","expression":"@(focus%%3)>=floor(1.5)|!talent.y"}]}`,
		`{"lists":[{"id":"m","name":"a","actions":[{"type":"call_action_list","listId":"m"}]}]}`,
		`{"defaultListId":null,"lists":[]}`,
		`{"lists":[{}]}`,
		`{`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := rotation.TranslatePortal(data, hunterNames{})
		if err != nil {
			var ps rotation.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("TranslatePortal error is not a non-empty Problems: %#v", err)
			}
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(tr.Script, &obj); err != nil {
			t.Fatalf("the translation is not a JSON object: %v\n%s", err, tr.Script)
		}
		r, err := rotation.Parse(tr.Script)
		if err != nil {
			return
		}
		if _, err := rotation.Compile(r, newFakeEnv()); err != nil {
			var ps rotation.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Compile error is not a non-empty Problems: %#v", err)
			}
			for _, p := range tr.PortalProblems(ps) {
				if p.Path != "" && !strings.HasPrefix(p.Path, "lists[") && !strings.HasPrefix(p.Path, "variables[") && p.Path != "defaultListId" {
					t.Fatalf("problem path %q does not point into the portal document", p.Path)
				}
			}
		}
	})
}
