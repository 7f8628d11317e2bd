package rotation_test

import (
	"fmt"
	"strings"

	"wowlab/engine/rotation"
)

// specEnv is the game state of the original's rotation tests (legacy3/wowlab
// crates/engine/src/rotation/tests.rs at 6948a2ae, test_resolver and
// test_sim_state): spells spell_a, spell_b, spell_c and four BM spells, auras
// buff_a, buff_b, bestial_wrath and frenzy, the dot dot_a, talent_a taken and
// talent_b not, a ranked talent at 2 of 3, barbed_shot with charges, a 10 s
// fight at its start, full focus, every cooldown ready.
type specEnv struct {
	spells  []string
	charged map[string]bool
	auras   []string
	dots    []string
	talents map[string][2]int // rank, max rank
	items   map[string]int
	focus   float64
	now     float64
}

func newSpecEnv() *specEnv {
	return &specEnv{
		spells:  []string{"spell_a", "spell_b", "spell_c", "kill_command", "cobra_shot", "barbed_shot", "bestial_wrath"},
		charged: map[string]bool{"barbed_shot": true},
		auras:   []string{"buff_a", "buff_b", "bestial_wrath", "frenzy"},
		dots:    []string{"dot_a"},
		talents: map[string][2]int{"talent_a": {1, 1}, "talent_b": {0, 1}, "ranked_talent": {2, 3}},
		items:   map[string]int{},
		focus:   100,
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func (e *specEnv) Spell(name string) (int, error) {
	if i := indexOf(e.spells, name); i >= 0 {
		return i, nil
	}
	return 0, &rotation.UnknownNameError{Kind: "spell", Name: name, Candidates: e.spells}
}

func (e *specEnv) CanCast(int) bool { return true }

func (e *specEnv) CanAfford(_ int, extra float64) bool { return e.focus >= extra }

func (e *specEnv) Item(name string) (int, bool) {
	id, ok := e.items[name]
	return id, ok
}

func (e *specEnv) Trinket(int) (int, bool) { return 0, false }

func (e *specEnv) CanUse(int) bool { return true }

func field(prefix, name string, fields ...string) error {
	return &rotation.UnknownNameError{Kind: prefix + " field", Name: name, Candidates: fields}
}

func num(v float64) rotation.Value { return rotation.ConstNumber(v) }

func cond(v bool) rotation.Value { return rotation.ConstBool(v) }

// Resolve answers every path the original's parser accepts
// (crates/engine/src/rotation/parser.rs at 23b36d69, parse_var_path_resolved)
// with the kind its expression has there (field_type in the tests).
func (e *specEnv) Resolve(path string) (rotation.Value, error) {
	parts := strings.Split(path, ".")
	n := len(parts)
	last := parts[n-1]
	name := func(list []string, kind string) error {
		if n < 2 || indexOf(list, parts[1]) < 0 {
			return &rotation.UnknownNameError{Kind: kind, Name: parts[1], Candidates: list}
		}
		return nil
	}
	switch parts[0] {
	case "resource":
		if parts[1] != "focus" || n > 3 {
			return rotation.Value{}, fmt.Errorf("unknown resource path %q", path)
		}
		if n == 2 {
			last = "current"
		}
		switch last {
		case "current", "max":
			return rotation.NumberOf(func() float64 { return e.focus }), nil
		case "deficit", "percent", "deficit_percent", "regen", "time_to_max":
			return num(0), nil
		}
		return rotation.Value{}, field("resource", last)
	case "player":
		switch strings.Join(parts[1:], ".") {
		case "health", "health.max", "health.percent", "health.deficit", "haste", "crit", "mastery", "versatility",
			"attack_power", "spell_power", "level", "armor", "stamina", "primary_stat", "movement_remaining":
			return num(1), nil
		case "moving", "alive", "in_combat", "stealthed", "mounted":
			return cond(last == "alive" || last == "in_combat"), nil
		}
		return rotation.Value{}, field("player", last)
	case "cd":
		if err := name(e.spells, "spell"); err != nil || n != 3 {
			return rotation.Value{}, fmt.Errorf("bad cooldown path %q: %v", path, err)
		}
		charges := 1.0
		if e.charged[parts[1]] {
			charges = 2
		}
		switch last {
		case "ready":
			return cond(true), nil
		case "remaining", "duration", "base_duration", "recharge_time", "full_recharge", "full_recharge_time":
			return num(0), nil
		case "charges", "charges_max", "charges_fractional":
			return num(charges), nil
		}
		return rotation.Value{}, field("cd", last)
	case "buff", "debuff", "dot":
		list, kind := e.auras, "aura"
		if parts[0] == "dot" {
			list, kind = e.dots, "dot"
		}
		if err := name(list, kind); err != nil {
			return rotation.Value{}, err
		}
		switch parts[0] + "." + last {
		case "buff.active", "debuff.active", "dot.ticking", "debuff.refreshable", "dot.refreshable":
			return cond(last == "refreshable"), nil
		case "buff.inactive", "debuff.inactive":
			return cond(true), nil
		case "buff.remaining", "buff.stacks", "buff.stacks_max", "buff.duration", "debuff.remaining", "debuff.stacks",
			"dot.remaining", "dot.ticks_remaining":
			return num(0), nil
		}
		return rotation.Value{}, field(parts[0], last)
	case "target":
		switch strings.Join(parts[1:], ".") {
		case "health", "health_max":
			return num(10_000_000), nil
		case "health_percent":
			return num(100), nil
		case "time_to_die":
			return num(10 - e.now), nil
		case "distance":
			return num(5), nil
		case "casting", "moving":
			return cond(false), nil
		}
		if n == 3 && parts[1] == "time_to_percent" {
			return num(0), nil
		}
		return rotation.Value{}, field("target", last)
	case "enemy":
		if path == "enemy.count" || n == 3 && parts[1] == "spell_targets_hit" && indexOf(e.spells, parts[2]) >= 0 {
			return num(1), nil
		}
		return rotation.Value{}, field("enemy", last)
	case "combat":
		switch last {
		case "time":
			return rotation.NumberOf(func() float64 { return e.now }), nil
		case "remaining":
			return rotation.NumberOf(func() float64 { return 10 - e.now }), nil
		}
		return rotation.Value{}, field("combat", last)
	case "gcd":
		switch last {
		case "active":
			return cond(false), nil
		case "remaining", "duration":
			return num(0), nil
		}
		return rotation.Value{}, field("gcd", last)
	case "pet":
		switch strings.Join(parts[1:], ".") {
		case "active":
			return cond(true), nil
		case "count", "remaining":
			return num(1), nil
		}
		if n == 4 && parts[1] == "buff" && parts[3] == "active" {
			return cond(false), nil
		}
		return rotation.Value{}, field("pet", last)
	case "talent":
		t, ok := e.talents[parts[1]]
		if !ok {
			return rotation.Value{}, &rotation.UnknownNameError{Kind: "talent", Name: parts[1]}
		}
		switch {
		case n == 2 || last == "enabled":
			return cond(t[0] > 0), nil
		case last == "rank":
			return num(float64(t[0])), nil
		case last == "max_rank":
			return num(float64(t[1])), nil
		}
		return rotation.Value{}, field("talent", last)
	case "equipped":
		_, ok := e.items[parts[1]]
		return cond(ok), nil
	case "trinket":
		switch last {
		case "ready":
			return cond(false), nil
		case "remaining":
			return num(0), nil
		}
		return rotation.Value{}, field("trinket", last)
	case "spell":
		if err := name(e.spells, "spell"); err != nil {
			return rotation.Value{}, err
		}
		switch last {
		case "cost", "cast_time":
			return num(0), nil
		case "range":
			return num(40), nil
		case "in_range", "usable":
			return cond(true), nil
		}
		return rotation.Value{}, field("spell", last)
	}
	return rotation.Value{}, &rotation.UnknownNameError{Kind: "path", Name: parts[0]}
}
