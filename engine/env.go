package engine

import (
	"fmt"
	"strings"

	hd "wowlab/engine/hunterdata"
	"wowlab/engine/rotation"
)

// pandemicShare is how much of a periodic effect's duration a refresh may
// keep: under it, the effect is "refreshable" (shared/ENGINE.md).
const pandemicShare = 0.30

// env binds rotation paths to one fight state (rotation.Env). Every getter
// it returns is a closure over the state's fields: no look-ups at run time.
type env struct{ st *state }

func (e env) CanAfford(id int, extra float64) bool {
	if id < 0 {
		return e.st.canAfford(numSpells, extra)
	}
	return e.st.canAfford(spellID(id), extra)
}

func (e env) spellNames() []string {
	var names []string
	for _, d := range castables[:numSpells] {
		if d.specs&e.st.sim.spec != 0 {
			names = append(names, d.name)
		}
	}
	return names
}

func (e env) Spell(name string) (int, error) {
	for i, d := range castables[:numSpells] {
		if d.name != name {
			continue
		}
		if d.specs&e.st.sim.spec == 0 {
			return 0, fmt.Errorf("%s is not a %s spell", name, e.st.sim.specName)
		}
		return i, nil
	}
	if name == "dire_beast" {
		return 0, fmt.Errorf("dire_beast is a passive talent in patch %s (its beasts come from bleeds and Kill Command), not a spell to cast", hd.Patch)
	}
	return 0, &rotation.UnknownNameError{Kind: "spell", Name: name, Candidates: e.spellNames()}
}

func (e env) aura(name string, want func(auraData) bool) (auraID, error) {
	var names []string
	for i, a := range auras[:numAuras] {
		if !want(a) {
			continue
		}
		if a.name == name {
			return auraID(i), nil
		}
		names = append(names, a.name)
	}
	return 0, &rotation.UnknownNameError{Kind: "aura", Name: name, Candidates: names}
}

func fieldError(prefix, field string, fields ...string) error {
	return &rotation.UnknownNameError{Kind: prefix + " field", Name: field, Candidates: fields}
}

func sec(v int64) float64 { return float64(v) * 0.001 }

// Resolve turns a dotted path into a getter (see shared/ENGINE.md).
func (e env) Resolve(path string) (rotation.Value, error) {
	st := e.st
	s := st.sim
	parts := strings.Split(path, ".")
	head := parts[0]
	arg := func(i int) string {
		if i < len(parts) {
			return parts[i]
		}
		return ""
	}
	tooLong := func(n int) error {
		if len(parts) > n {
			return fmt.Errorf("path %q has too many parts", path)
		}
		return nil
	}
	switch head {
	case "resource":
		if arg(1) != "focus" {
			return rotation.Value{}, &rotation.UnknownNameError{Kind: "resource", Name: arg(1), Candidates: []string{"focus"}}
		}
		if err := tooLong(3); err != nil {
			return rotation.Value{}, err
		}
		switch arg(2) {
		case "":
			return rotation.NumberOf(st.currentFocus), nil
		case "max":
			return rotation.ConstNumber(s.focusMax), nil
		case "deficit":
			return rotation.NumberOf(func() float64 { return s.focusMax - st.currentFocus() }), nil
		case "percent":
			return rotation.NumberOf(func() float64 { return 100 * st.currentFocus() / s.focusMax }), nil
		case "regen":
			return rotation.NumberOf(func() float64 { return st.regen * 1000 }), nil
		}
		return rotation.Value{}, fieldError("resource", arg(2), "max", "deficit", "percent", "regen")
	case "player":
		if arg(1) != "health" {
			return rotation.Value{}, fieldError("player", arg(1), "health")
		}
		if err := tooLong(3); err != nil {
			return rotation.Value{}, err
		}
		health := s.cfg.Player.Stats.Stamina * 20 // 20 health per stamina
		switch arg(2) {
		case "", "max":
			return rotation.ConstNumber(health), nil
		case "percent":
			return rotation.ConstNumber(100), nil
		}
		return rotation.Value{}, fieldError("player.health", arg(2), "max", "percent")
	case "cd":
		return e.cooldownPath(parts)
	case "buff", "debuff", "dot":
		return e.auraPath(parts)
	case "target":
		if err := tooLong(2); err != nil {
			return rotation.Value{}, err
		}
		switch arg(1) {
		case "health_percent":
			return rotation.NumberOf(func() float64 { return 100 * st.healthPct() }), nil
		case "time_to_die":
			return rotation.NumberOf(func() float64 { return sec(st.end - st.now) }), nil
		case "distance":
			return rotation.ConstNumber(0), nil
		}
		return rotation.Value{}, fieldError("target", arg(1), "health_percent", "time_to_die", "distance")
	case "enemy":
		if arg(1) != "count" || len(parts) != 2 {
			return rotation.Value{}, fieldError("enemy", arg(1), "count")
		}
		return rotation.ConstNumber(float64(s.targets)), nil
	case "combat":
		if err := tooLong(2); err != nil {
			return rotation.Value{}, err
		}
		switch arg(1) {
		case "time":
			return rotation.NumberOf(func() float64 { return sec(st.now) }), nil
		case "remaining":
			return rotation.NumberOf(func() float64 { return sec(st.end - st.now) }), nil
		}
		return rotation.Value{}, fieldError("combat", arg(1), "time", "remaining")
	case "gcd":
		if err := tooLong(2); err != nil {
			return rotation.Value{}, err
		}
		switch arg(1) {
		case "remaining":
			return rotation.NumberOf(func() float64 { return sec(max(0, st.gcdEnd-st.now)) }), nil
		case "duration":
			return rotation.NumberOf(func() float64 { return sec(st.gcdMs()) }), nil
		}
		return rotation.Value{}, fieldError("gcd", arg(1), "remaining", "duration")
	case "pet":
		return e.petPath(parts)
	case "talent":
		if err := tooLong(2); err != nil {
			return rotation.Value{}, err
		}
		entries, _ := talentEntries(s.spec)
		var names []string
		for _, t := range entries {
			if t.Name == arg(1) {
				return rotation.ConstBool(s.picked(t.Name)), nil
			}
			names = append(names, t.Name)
		}
		return rotation.Value{}, &rotation.UnknownNameError{Kind: "talent", Name: arg(1), Candidates: names}
	case "spell":
		if err := tooLong(3); err != nil {
			return rotation.Value{}, err
		}
		id, err := e.Spell(arg(1))
		if err != nil {
			return rotation.Value{}, err
		}
		sp := spellID(id)
		switch arg(2) {
		case "cost":
			return rotation.NumberOf(func() float64 { return st.costOf(sp) }), nil
		case "cast_time":
			return rotation.NumberOf(func() float64 { return sec(st.castMs(sp)) }), nil
		}
		return rotation.Value{}, fieldError("spell", arg(2), "cost", "cast_time")
	}
	return rotation.Value{}, &rotation.UnknownNameError{Kind: "path", Name: head, Candidates: []string{
		"resource", "player", "cd", "buff", "debuff", "dot", "target", "enemy", "combat", "gcd", "pet", "talent", "spell",
	}}
}

func (e env) cooldownPath(parts []string) (rotation.Value, error) {
	st := e.st
	if len(parts) != 3 {
		return rotation.Value{}, fmt.Errorf("a cooldown path is cd.<spell>.<field>, got %q", strings.Join(parts, "."))
	}
	id, err := e.Spell(parts[1])
	if err != nil {
		return rotation.Value{}, err
	}
	sp := spellID(id)
	if st.sim.baseCd[sp] == 0 {
		// A spell without a cooldown is always ready.
		switch parts[2] {
		case "ready":
			return rotation.ConstBool(true), nil
		case "remaining", "duration", "recharge_time", "full_recharge":
			return rotation.ConstNumber(0), nil
		case "charges", "charges_max":
			return rotation.ConstNumber(1), nil
		}
	}
	switch parts[2] {
	case "ready":
		return rotation.BoolOf(func() bool { return st.syncCd(sp).charges > 0 }), nil
	case "remaining":
		return rotation.NumberOf(func() float64 {
			c := st.syncCd(sp)
			if c.charges > 0 {
				return 0
			}
			return sec(c.end - st.now)
		}), nil
	case "duration":
		return rotation.NumberOf(func() float64 { return sec(st.rechargeMs(sp)) }), nil
	case "charges":
		return rotation.NumberOf(func() float64 { return float64(st.syncCd(sp).charges) }), nil
	case "charges_max":
		return rotation.NumberOf(func() float64 { return float64(st.cds[sp].max) }), nil
	case "recharge_time":
		return rotation.NumberOf(func() float64 {
			c := st.syncCd(sp)
			if c.charges >= c.max {
				return 0
			}
			return sec(c.end - st.now)
		}), nil
	case "full_recharge":
		return rotation.NumberOf(func() float64 {
			c := st.syncCd(sp)
			if c.charges >= c.max {
				return 0
			}
			return sec(c.end-st.now) + float64(c.max-c.charges-1)*sec(st.rechargeMs(sp))
		}), nil
	}
	return rotation.Value{}, fieldError("cd", parts[2], "ready", "remaining", "duration", "charges", "charges_max", "recharge_time", "full_recharge")
}

func (e env) auraPath(parts []string) (rotation.Value, error) {
	st := e.st
	kind := parts[0]
	if len(parts) != 3 {
		return rotation.Value{}, fmt.Errorf("an aura path is %s.<aura>.<field>, got %q", kind, strings.Join(parts, "."))
	}
	id, err := e.aura(parts[1], func(a auraData) bool { return a.debuff == (kind != "buff") })
	if err != nil {
		return rotation.Value{}, err
	}
	a := &st.auras[id]
	dur := sec(st.sim.auraDur[id])
	if st.sim.auraDur[id] == never {
		dur = 0
	}
	for d, au := range dotAura[:numDots] {
		if au == id {
			dur = sec(st.sim.dotDur[d])
		}
	}
	remaining := func() float64 {
		if a.end == never {
			return sec(st.end - st.now)
		}
		return sec(st.auraRemaining(id))
	}
	active := func() bool { return a.end > st.now }
	refreshable := func() bool { return float64(st.auraRemaining(id)) < dur*1000*pandemicShare }
	switch kind {
	case "buff":
		switch parts[2] {
		case "active":
			return rotation.BoolOf(active), nil
		case "inactive":
			return rotation.BoolOf(func() bool { return a.end <= st.now }), nil
		case "remaining":
			return rotation.NumberOf(remaining), nil
		case "stacks":
			return rotation.NumberOf(func() float64 { return float64(st.auraStacks(id)) }), nil
		case "stacks_max":
			return rotation.ConstNumber(float64(st.sim.auraMax[id])), nil
		case "duration":
			return rotation.ConstNumber(dur), nil
		}
		return rotation.Value{}, fieldError("buff", parts[2], "active", "inactive", "remaining", "stacks", "stacks_max", "duration")
	case "debuff":
		switch parts[2] {
		case "active":
			return rotation.BoolOf(active), nil
		case "inactive":
			return rotation.BoolOf(func() bool { return a.end <= st.now }), nil
		case "remaining":
			return rotation.NumberOf(remaining), nil
		case "stacks":
			return rotation.NumberOf(func() float64 { return float64(st.auraStacks(id)) }), nil
		case "refreshable":
			return rotation.BoolOf(refreshable), nil
		}
		return rotation.Value{}, fieldError("debuff", parts[2], "active", "inactive", "remaining", "stacks", "refreshable")
	default:
		switch parts[2] {
		case "ticking":
			return rotation.BoolOf(active), nil
		case "remaining":
			return rotation.NumberOf(remaining), nil
		case "refreshable":
			return rotation.BoolOf(refreshable), nil
		case "ticks_remaining":
			tick := 1000.0
			for d, au := range dotAura[:numDots] {
				if au == id {
					tick = float64(st.sim.dotPeriod[d])
				}
			}
			return rotation.NumberOf(func() float64 { return float64(int64(float64(st.auraRemaining(id)) / tick)) }), nil
		}
		return rotation.Value{}, fieldError("dot", parts[2], "ticking", "remaining", "refreshable", "ticks_remaining")
	}
}

func (e env) petPath(parts []string) (rotation.Value, error) {
	st := e.st
	hasPet := st.sim.spec == bm || st.sim.has(tUnbreakableBond)
	switch {
	case len(parts) == 2 && parts[1] == "active":
		return rotation.ConstBool(hasPet), nil
	case len(parts) == 2 && parts[1] == "remaining":
		// The main pet stays all fight.
		return rotation.NumberOf(func() float64 {
			if !hasPet {
				return 0
			}
			return sec(st.end - st.now)
		}), nil
	case len(parts) == 4 && parts[1] == "buff":
		id, err := e.aura(parts[2], func(a auraData) bool { return a.pet })
		if err != nil {
			return rotation.Value{}, err
		}
		if parts[3] != "active" {
			return rotation.Value{}, fieldError("pet.buff", parts[3], "active")
		}
		a := &st.auras[id]
		return rotation.BoolOf(func() bool { return a.end > st.now }), nil
	}
	return rotation.Value{}, fmt.Errorf("a pet path is pet.active, pet.remaining or pet.buff.<aura>.active, got %q", strings.Join(parts, "."))
}
