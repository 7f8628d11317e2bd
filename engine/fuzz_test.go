package engine

import (
	"context"
	"errors"
	"testing"
)

// FuzzCompile feeds arbitrary config documents to the config parser and
// rotation compiler: they must answer with a ConfigError or a Sim that
// runs, never panic.
func FuzzCompile(f *testing.F) {
	f.Add(loadExample(f, "bm_hunter.json"))
	f.Add(loadExample(f, "mm_hunter.json"))
	f.Add([]byte(`{"player":{"spec":"mm","stats":{"agility":1}},"duration":5,"target":{"count":2}}`))
	f.Add([]byte(`{"player":{"spec":"bm","stats":{}},"duration":1,"target":{},"rotation":{"actions":[{"cast":"kill_command"}]}}`))
	f.Add([]byte(`{"player":{"spec":"bm","stats":{}},"duration":1,"target":{},"rotation":"{\"actions\":[{\"wait\":0.5}]}"}`))
	f.Add([]byte(`{"player":{"spec":"bm","stats":{},"trinkets":[{"name":"signet","item_id":5,"use":{"stat":"haste","amount":10,"duration":5,"cooldown":9}},{"name":"charm","proc":{"stat":"mastery","amount":3,"duration":2,"cooldown":4,"chance":0.5}}]},"duration":20,"target":{},` +
		`"rotation":{"precombat":[{"use_item":"signet"}],"actions":[{"use_trinket":1,"if":"trinket.1.ready"},{"cast":"kill_command"},{"cast":"cobra_shot"}]}}`))
	f.Add([]byte(`{"player":{"spec":"bm","stats":{},"trinkets":[{"name":"signet","item_id":5,"use":{"stat":"haste","amount":10,"duration":5,"cooldown":9}}]},"duration":20,"target":{},` +
		`"rotation":{"defaultListId":"m","lists":[{"id":"m","name":"a","listType":"main","actions":[{"id":"i","type":"item","itemId":5,"enabled":true},{"id":"s","type":"spell","spellId":34026,"enabled":true,"condition":{"combinator":"and","rules":[{"field":"focus","operator":">","value":"30"}]}},{"id":"c","type":"spell","spellId":193455,"enabled":true}]}]}}`))
	f.Add([]byte(`{"player":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := Compile(doc)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// Keep fuzzed fights short: long fights are not what is tested here.
		if s.cfg.Duration > 30 {
			return
		}
		if _, err := s.Run(context.Background(), 0, 2, RunOptions{Threads: 1, Breakdown: true}); err != nil {
			var ee *EngineError
			if !errors.As(err, &ee) {
				t.Fatalf("run error of type %T: %v", err, err)
			}
		}
	})
}
