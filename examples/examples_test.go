package examples

import (
	"context"
	"encoding/json"
	"testing"

	"wowlab/engine"
)

func TestProfiles(t *testing.T) {
	seen := map[string]bool{}
	defaults := map[string]int{}
	for _, p := range Profiles() {
		b, err := FS.ReadFile(p.File)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		var doc struct {
			Player struct {
				Spec string `json:"spec"`
			} `json:"player"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || doc.Player.Spec != p.Spec {
			t.Errorf("%s: spec %q (%v), listed as %s", p.Name, doc.Player.Spec, err, p.Spec)
		}
		if seen[p.File] {
			t.Errorf("%s listed twice", p.File)
		}
		seen[p.File] = true
		if p.Default {
			defaults[p.Spec]++
		}
		if got, ok := LookupProfile(" " + p.Name + " "); !ok || got != p {
			t.Errorf("lookup of %s", p.Name)
		}
	}
	for spec, n := range defaults {
		if n != 1 {
			t.Errorf("%s has %d default profiles", spec, n)
		}
		if _, ok := SpecDefault(spec); !ok {
			t.Errorf("no default for %s", spec)
		}
	}
	if p, ok := LookupProfile("BM-Dark-Ranger"); !ok || p.File != "bm_dark_ranger.json" {
		t.Errorf("lookup with dashes: %+v %v", p, ok)
	}
	if _, ok := LookupProfile("survival"); ok {
		t.Error("found a profile that does not exist")
	}
	entries, err := FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !seen[e.Name()] {
			t.Errorf("%s is bundled but not a profile", e.Name())
		}
	}
}

func TestQuick(t *testing.T) {
	a, b := Quick(1), Quick(2)
	for _, doc := range [][]byte{a, b} {
		sim, err := engine.Compile(doc)
		if err != nil {
			t.Fatalf("Quick does not compile: %v\n%s", err, doc)
		}
		res, err := sim.Run(context.Background(), 0, 20, engine.RunOptions{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Chunk().MeanDps <= 0 {
			t.Errorf("Quick simulates no damage: %+v", res.Chunk())
		}
	}
	if string(a) == string(b) {
		t.Error("Quick ignores its seed")
	}
}
