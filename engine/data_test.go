package engine

import (
	"testing"

	hd "wowlab/engine/hunterdata"
)

// TestEngineIDsAreInTheData checks that every spell, breakdown line, aura
// and simulated talent of the engine names a spell id or talent of package
// hunterdata (the ids the rotation language will name things by).
func TestEngineIDsAreInTheData(t *testing.T) {
	for sp := range numSpells {
		if hd.Lookup(castables[sp].gameID) == nil {
			t.Errorf("spell %s: no data for %d", castables[sp].name, castables[sp].gameID)
		}
	}
	for ab := range numAbilities {
		if id := abilities[ab].gameID; id != 0 && hd.Lookup(id) == nil {
			t.Errorf("line %s: no data for %d", abilities[ab].name, id)
		}
	}
	for a := range numAuras {
		if hd.Lookup(auras[a].gameID) == nil {
			t.Errorf("aura %s: no data for %d", auras[a].name, auras[a].gameID)
		}
	}
	byName := map[string]hd.Talent{}
	for _, tl := range hd.Talents() {
		byName[tl.Name] = tl
	}
	for i, name := range talentNames {
		if talentID(i) == noTalent {
			continue
		}
		tl, ok := byName[name]
		if !ok {
			t.Errorf("talent %s is not in the data's trees", name)
			continue
		}
		if hd.Lookup(tl.SpellID) == nil {
			t.Errorf("talent %s: no data for its spell %d", name, tl.SpellID)
		}
	}
}

// TestEveryTalentCompiles compiles each spec with every talent of its trees
// and each hero tree with its set, which reads every number the derivation
// asks of the data.
func TestEveryTalentCompiles(t *testing.T) {
	for _, ex := range []string{"bm_hunter.json", "mm_hunter.json"} {
		c := exampleConfig(t, ex)
		spec := bm
		if ex == "mm_hunter.json" {
			spec = mm
		}
		for _, hero := range []hd.Tree{hd.HeroPackLeader, hd.HeroDarkRanger, hd.HeroSentinel} {
			var names []string
			for _, tl := range hd.Talents() {
				if tl.Specs&spec != 0 && (!tl.Tree.Hero() || tl.Tree == hero) {
					names = append(names, tl.Name)
				}
			}
			d := c.clone()
			d.Player.Talents, d.Player.TierSet = names, 4
			hasTree := false
			for _, tl := range hd.Talents() {
				hasTree = hasTree || tl.Tree == hero && tl.Specs&spec != 0
			}
			if !hasTree {
				continue
			}
			s := compileConfig(t, d)
			r := run(t, s, 0, 3, RunOptions{})
			if r.MeanDps <= 0 {
				t.Errorf("%s with every %s talent: %v DPS", ex, hero, r.MeanDps)
			}
		}
	}
}
