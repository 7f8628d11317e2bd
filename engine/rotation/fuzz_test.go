package rotation_test

import (
	"errors"
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
			default:
				t.Fatalf("unknown decision kind %d", d.Kind)
			}
			if i == 2 {
				p.Reset()
			}
		}
	})
}
