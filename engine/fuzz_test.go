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
