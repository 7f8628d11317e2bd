package hunterdata

import (
	"slices"
	"testing"
)

func TestSpellsAreWellFormed(t *testing.T) {
	seen := map[int]bool{}
	for _, s := range Spells() {
		if s.ID <= 0 || s.Name == "" {
			t.Errorf("spell %+v lacks an id or a name", s)
		}
		if seen[s.ID] {
			t.Errorf("spell %d listed twice", s.ID)
		}
		seen[s.ID] = true
		if !slices.Contains(SourceKeys(), s.Src) {
			t.Errorf("spell %d (%s) cites unknown source %q", s.ID, s.Name, s.Src)
		}
		if s.Cooldown < 0 || s.Duration < 0 || s.Period < 0 || s.Charges < 0 || s.Chance < 0 || s.Chance > 100 {
			t.Errorf("spell %d (%s) has a negative or impossible number: %+v", s.ID, s.Name, s)
		}
		if Get(s.ID).ID != s.ID {
			t.Errorf("lookup of %d", s.ID)
		}
	}
	if Lookup(1) != nil {
		t.Error("lookup of an id the data lacks")
	}
	for _, k := range SourceKeys() {
		if Source(k) == "" {
			t.Errorf("source %q has no description", k)
		}
	}
}

func TestTalentsAreWellFormed(t *testing.T) {
	specs := map[string]SpecMask{}
	nodes := map[int]Tree{}
	for _, tl := range Talents() {
		if tl.Name == "" || tl.SpellID <= 0 || tl.MaxRank < 1 || tl.Specs == 0 {
			t.Errorf("talent %+v is incomplete", tl)
		}
		// A name may repeat only in the other spec's copy of a class node.
		if specs[tl.Name]&tl.Specs != 0 {
			t.Errorf("talent %s listed twice for a spec", tl.Name)
		}
		specs[tl.Name] |= tl.Specs
		if tree, ok := nodes[tl.NodeID]; ok && tree != tl.Tree {
			t.Errorf("node %d in two trees", tl.NodeID)
		}
		nodes[tl.NodeID] = tl.Tree
	}
}

func TestDiminishingReturns(t *testing.T) {
	cases := []struct{ in, want float64 }{{0, 0}, {30, 30}, {40, 39}, {50, 47}, {60, 54}, {70, 60}, {80, 65}, {200, 125}, {250, 125}}
	for _, c := range cases {
		if got := Diminish(c.in); got != c.want {
			t.Errorf("Diminish(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestArmorByLevel(t *testing.T) {
	rows := ArmorByLevel()
	for i := 1; i < len(rows); i++ {
		if rows[i].Level != rows[i-1].Level+1 || rows[i].Armor <= rows[i-1].Armor || rows[i].Constant <= rows[i-1].Constant {
			t.Errorf("row %+v after %+v", rows[i], rows[i-1])
		}
	}
	if LevelArmor(PlayerLevel+3) != (Armor{PlayerLevel + 3, 42857, 100000}) || LevelArmor(1) != rows[0] {
		t.Errorf("level armor %+v, %+v", LevelArmor(PlayerLevel+3), LevelArmor(1))
	}
}
