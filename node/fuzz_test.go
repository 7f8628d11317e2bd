package node

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
)

// FuzzParseConfig feeds arbitrary config.ini contents to the parser. A
// file it accepts must hold valid settings that survive a save and a load
// unchanged.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("[node]\nnode_id = 7f1c2a9e-2b7e-4a7e-9a55-3f0d9d8f6a11\napi_url = http://127.0.0.1:8080\n"))
	f.Add([]byte("[node]\nsentinel_url = https://sentinel.example.org\nanon_key = abc\n"))
	f.Add([]byte("; comment\n[other]\nx=1\n"))
	f.Add([]byte("[node\nnode_id"))
	f.Add([]byte("[node]\napi_url = ftp://host\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := parseConfig(raw)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config %+v is invalid: %v", c, err)
		}
		dir := t.TempDir()
		if err := SaveConfig(dir, c); err != nil {
			t.Fatalf("save %+v: %v", c, err)
		}
		back, err := LoadConfig(dir, nil)
		if err != nil {
			t.Fatalf("load saved %+v: %v", c, err)
		}
		if back != c {
			t.Fatalf("round trip changed the config: %+v, then %+v", c, back)
		}
	})
}

// FuzzParseAssignment feeds arbitrary jobs_chunks records to the node's
// reading of Realtime changes: it must never panic, only a running row of
// this node is an assignment, an unreadable record says why, and an
// assignment the node would run is one it can run.
func FuzzParseAssignment(f *testing.F) {
	f.Add([]byte(`{"id":"c1","node_id":"n1","status":"running","iterations":1000,"config_hash":"h","seed_offset":0}`))
	f.Add([]byte(`{"id":"c1","node_id":"n2","status":"running","iterations":1000,"config_hash":"h","seed_offset":0}`))
	f.Add([]byte(`{"id":"c1","node_id":"n1","status":"completed"}`))
	f.Add([]byte(`{"id":"c1","node_id":"n1","status":"running","iterations":-5,"seed_offset":1e300}`))
	f.Add([]byte(`{"id":"0b5a3c1e-8d7f-4e26-9a51-3c2d1e0f9a88","node_id":"n1","status":"running","iterations":1000000000000,"config_hash":"h","seed_offset":0}`))
	f.Add([]byte(`{"id":"c1","node_id":"n1","status":"running","iterations":"many"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[1,2`))
	f.Fuzz(func(t *testing.T, record []byte) {
		ch, ok, err := parseAssignment(json.RawMessage(record), "n1")
		if err != nil && (ok || err.Error() == "") {
			t.Fatalf("unreadable record: ok %v, err %q", ok, err)
		}
		if !ok {
			if ch != (Chunk{}) {
				t.Fatalf("refused record yields %+v", ch)
			}
			return
		}
		if ch.NodeID != "n1" || ch.Status != "running" {
			t.Fatalf("assignment %+v is not a running chunk of n1", ch)
		}
		if err := ch.validate(); err == nil && (uuid.Validate(ch.ID) != nil || ch.ConfigHash == "" || len(ch.ConfigHash) > 64 ||
			ch.Iterations < 1 || ch.Iterations > MaxChunkIterations || ch.SeedOffset < 0) {
			t.Fatalf("validate accepts %+v", ch)
		}
	})
}
