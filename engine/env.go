package engine

import (
	"fmt"
	"math/bits"
	"strconv"
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

// Item finds a worn trinket by name; its id is its slot index.
func (e env) Item(name string) (int, bool) {
	for i, t := range e.st.sim.trinkets {
		if t.worn && t.name == name {
			return i, true
		}
	}
	return 0, false
}

// Trinket is the trinket worn in slot (1 or 2).
func (e env) Trinket(slot int) (int, bool) {
	if slot < 1 || slot > maxTrinkets || !e.st.sim.trinkets[slot-1].worn {
		return 0, false
	}
	return slot - 1, true
}

// CanUse reports whether trinket id's use effect is ready.
func (e env) CanUse(id int) bool {
	st := e.st
	ts := &st.sim.trinkets[id]
	if !ts.use {
		return false
	}
	if r := st.trinkets[id].ready; r > st.now {
		st.wake = min(st.wake, r)
		return false
	}
	return true
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
		case "", "current":
			return rotation.NumberOf(st.currentFocus), nil
		case "max":
			return rotation.ConstNumber(s.focusMax), nil
		case "deficit":
			return rotation.NumberOf(func() float64 { return s.focusMax - st.currentFocus() }), nil
		case "percent":
			return rotation.NumberOf(func() float64 { return 100 * st.currentFocus() / s.focusMax }), nil
		case "deficit_percent":
			return rotation.NumberOf(func() float64 { return 100 * (s.focusMax - st.currentFocus()) / s.focusMax }), nil
		case "regen":
			return rotation.NumberOf(func() float64 { return st.regen * 1000 }), nil
		case "time_to_max":
			// 0 when full, or when nothing regenerates (the language's
			// division by zero).
			return rotation.NumberOf(func() float64 {
				if st.regen <= 0 {
					return 0
				}
				return (s.focusMax - st.currentFocus()) / (st.regen * 1000)
			}), nil
		}
		return rotation.Value{}, fieldError("resource", arg(2), "current", "max", "deficit", "percent", "deficit_percent", "regen", "time_to_max")
	case "player":
		return e.playerPath(parts)
	case "cd":
		return e.cooldownPath(parts)
	case "buff", "debuff", "dot":
		return e.auraPath(parts)
	case "target":
		return e.targetPath(parts)
	case "enemy":
		switch {
		case arg(1) == "count" && len(parts) == 2:
			return rotation.ConstNumber(float64(s.targets)), nil
		case arg(1) == "spell_targets_hit" && len(parts) == 3:
			// Every spell that hits several targets hits all of them.
			if _, err := e.Spell(arg(2)); err != nil {
				return rotation.Value{}, err
			}
			return rotation.ConstNumber(float64(s.targets)), nil
		}
		return rotation.Value{}, fieldError("enemy", arg(1), "count", "spell_targets_hit")
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
		case "active":
			return rotation.BoolOf(func() bool { return st.gcdEnd > st.now }), nil
		case "remaining":
			return rotation.NumberOf(func() float64 { return sec(max(0, st.gcdEnd-st.now)) }), nil
		case "duration":
			return rotation.NumberOf(func() float64 { return sec(st.gcdMs()) }), nil
		}
		return rotation.Value{}, fieldError("gcd", arg(1), "active", "remaining", "duration")
	case "pet":
		return e.petPath(parts)
	case "talent":
		return e.talentPath(parts)
	case "equipped":
		if err := tooLong(2); err != nil {
			return rotation.Value{}, err
		}
		_, worn := e.Item(arg(1))
		return rotation.ConstBool(worn), nil
	case "trinket":
		return e.trinketPath(parts)
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
		case "usable":
			return rotation.BoolOf(func() bool { return e.CanCast(id) }), nil
		case "known":
			// Known without a talent, or its talent is taken.
			return rotation.ConstBool(s.known[sp]), nil
		case "range":
			return rotation.ConstNumber(spellRange(sp)), nil
		case "in_range":
			// The target stands at target.distance 0: every spell reaches it.
			return rotation.ConstBool(true), nil
		}
		return rotation.Value{}, fieldError("spell", arg(2), "cost", "cast_time", "usable", "known", "range", "in_range")
	}
	return rotation.Value{}, &rotation.UnknownNameError{Kind: "path", Name: head, Candidates: []string{
		"resource", "player", "cd", "buff", "debuff", "dot", "target", "enemy", "combat", "gcd", "pet", "talent",
		"spell", "equipped", "trinket",
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
		case "remaining", "duration", "base_duration", "recharge_time", "full_recharge", "full_recharge_time":
			return rotation.ConstNumber(0), nil
		case "charges", "charges_max", "charges_fractional":
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
	case "base_duration":
		return rotation.ConstNumber(st.sim.baseCd[sp]), nil
	case "charges_fractional":
		return rotation.NumberOf(func() float64 {
			c := st.syncCd(sp)
			n := float64(c.charges)
			if c.charges < c.max {
				if d := st.rechargeMs(sp); d > 0 {
					n += 1 - float64(c.end-st.now)/float64(d)
				}
			}
			return n
		}), nil
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
	case "full_recharge", "full_recharge_time":
		return rotation.NumberOf(func() float64 {
			c := st.syncCd(sp)
			if c.charges >= c.max {
				return 0
			}
			return sec(c.end-st.now) + float64(c.max-c.charges-1)*sec(st.rechargeMs(sp))
		}), nil
	}
	return rotation.Value{}, fieldError("cd", parts[2], "ready", "remaining", "duration", "base_duration", "charges", "charges_max",
		"charges_fractional", "recharge_time", "full_recharge", "full_recharge_time")
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
	case len(parts) == 2 && parts[1] == "count":
		// Every pet and guardian up now: the main pet, Animal Companion,
		// Call of the Wild's, Dire Beasts, Hati...
		return rotation.NumberOf(func() float64 { return float64(bits.OnesCount16(st.live)) }), nil
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
	return rotation.Value{}, fmt.Errorf("a pet path is pet.active, pet.count, pet.remaining or pet.buff.<aura>.active, got %q", strings.Join(parts, "."))
}

func (e env) playerPath(parts []string) (rotation.Value, error) {
	st := e.st
	s := st.sim
	path := strings.Join(parts, ".")
	health := s.cfg.Player.Stats.Stamina * 20 // 20 health per stamina
	if len(parts) >= 2 && parts[1] == "health" {
		field := ""
		if len(parts) == 3 {
			field = parts[2]
		} else if len(parts) > 3 {
			return rotation.Value{}, fmt.Errorf("path %q has too many parts", path)
		}
		// Nothing damages the hunter: health stays full.
		switch field {
		case "", "max":
			return rotation.ConstNumber(health), nil
		case "percent":
			return rotation.ConstNumber(100), nil
		case "deficit":
			return rotation.ConstNumber(0), nil
		}
		return rotation.Value{}, fieldError("player.health", field, "max", "percent", "deficit")
	}
	if len(parts) != 2 {
		return rotation.Value{}, fmt.Errorf("a player path is player.<field>, got %q", path)
	}
	switch parts[1] {
	case "haste":
		return rotation.NumberOf(func() float64 { return 100 * (st.haste - 1) }), nil
	case "crit":
		return rotation.ConstNumber(100 * s.crit), nil
	case "mastery":
		return rotation.NumberOf(func() float64 { return st.mastery }), nil
	case "versatility":
		return rotation.ConstNumber(100 * (s.vers - 1)), nil
	case "attack_power":
		return rotation.ConstNumber(s.ap), nil
	case "spell_power":
		return rotation.ConstNumber(0), nil
	case "level":
		return rotation.ConstNumber(80), nil
	case "armor":
		return rotation.ConstNumber(0), nil
	case "stamina":
		return rotation.ConstNumber(s.cfg.Player.Stats.Stamina), nil
	case "primary_stat":
		return rotation.ConstNumber(s.cfg.Player.Stats.Agility), nil
	case "moving", "stealthed", "mounted":
		// The hunter stands and shoots the whole fight.
		return rotation.ConstBool(false), nil
	case "movement_remaining":
		return rotation.ConstNumber(0), nil
	case "alive", "in_combat":
		return rotation.ConstBool(true), nil
	}
	return rotation.Value{}, fieldError("player", parts[1], "health", "haste", "crit", "mastery", "versatility", "attack_power",
		"spell_power", "level", "armor", "stamina", "primary_stat", "moving", "movement_remaining", "alive", "in_combat",
		"stealthed", "mounted")
}

func (e env) targetPath(parts []string) (rotation.Value, error) {
	st := e.st
	s := st.sim
	if len(parts) == 3 && parts[1] == "time_to_percent" {
		pct, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || pct < 0 || pct > 100 {
			return rotation.Value{}, fmt.Errorf("target.time_to_percent.<percent> takes a number from 0 to 100, got %q", parts[2])
		}
		// Health falls evenly to 0 at the end of the fight.
		at := int64((1 - pct/100) * float64(s.durationMs))
		return rotation.NumberOf(func() float64 { return sec(max(0, at-st.now)) }), nil
	}
	if len(parts) != 2 {
		return rotation.Value{}, fmt.Errorf("a target path is target.<field> or target.time_to_percent.<percent>, got %q", strings.Join(parts, "."))
	}
	maxHealth := s.cfg.Target.MaxHealth
	switch parts[1] {
	case "health":
		return rotation.NumberOf(func() float64 { return maxHealth * st.healthPct() }), nil
	case "health_max":
		return rotation.ConstNumber(maxHealth), nil
	case "health_percent":
		return rotation.NumberOf(func() float64 { return 100 * st.healthPct() }), nil
	case "time_to_die":
		return rotation.NumberOf(func() float64 { return sec(st.end - st.now) }), nil
	case "distance":
		return rotation.ConstNumber(0), nil
	case "casting", "moving":
		// Training dummies neither cast nor move.
		return rotation.ConstBool(false), nil
	}
	return rotation.Value{}, fieldError("target", parts[1], "health", "health_max", "health_percent", "time_to_die",
		"time_to_percent", "distance", "casting", "moving")
}

func (e env) talentPath(parts []string) (rotation.Value, error) {
	s := e.st.sim
	if len(parts) < 2 || len(parts) > 3 {
		return rotation.Value{}, fmt.Errorf("a talent path is talent.<talent> or talent.<talent>.enabled|rank|max_rank, got %q", strings.Join(parts, "."))
	}
	entries, ids := talentEntries(s.spec)
	var names []string
	for i, t := range entries {
		if t.Name != parts[1] {
			names = append(names, t.Name)
			continue
		}
		picked := s.picked(t.Name)
		rank := 0
		switch {
		case ids[i] != noTalent:
			rank = int(s.rank[ids[i]])
		case picked:
			rank = t.MaxRank
		}
		field := ""
		if len(parts) == 3 {
			field = parts[2]
		}
		// Talents do not change during a fight: every talent path is a
		// constant, and the branches it rules out are dropped at compile time.
		switch field {
		case "", "enabled":
			return rotation.ConstBool(picked), nil
		case "rank":
			return rotation.ConstNumber(float64(rank)), nil
		case "max_rank":
			return rotation.ConstNumber(float64(t.MaxRank)), nil
		}
		return rotation.Value{}, fieldError("talent", field, "enabled", "rank", "max_rank")
	}
	return rotation.Value{}, &rotation.UnknownNameError{Kind: "talent", Name: parts[1], Candidates: names}
}

func (e env) trinketPath(parts []string) (rotation.Value, error) {
	st := e.st
	if len(parts) != 3 || (parts[1] != "1" && parts[1] != "2") {
		return rotation.Value{}, fmt.Errorf("a trinket path is trinket.<1 or 2>.<field>, got %q", strings.Join(parts, "."))
	}
	i := int(parts[1][0] - '1')
	ts := &st.sim.trinkets[i]
	if parts[2] == "has_use_buff" {
		return rotation.ConstBool(ts.use), nil
	}
	if !ts.has {
		// No trinket, or one without an effect: never ready, never up.
		switch parts[2] {
		case "ready", "active":
			return rotation.ConstBool(false), nil
		case "remaining", "buff_remaining":
			return rotation.ConstNumber(0), nil
		}
	}
	t := &st.trinkets[i]
	switch parts[2] {
	case "ready":
		return rotation.BoolOf(func() bool { return t.ready <= st.now }), nil
	case "remaining":
		return rotation.NumberOf(func() float64 { return st.trinketRemaining(i) }), nil
	case "active":
		return rotation.BoolOf(func() bool { return t.end > st.now }), nil
	case "buff_remaining":
		return rotation.NumberOf(func() float64 { return sec(max(0, t.end-st.now)) }), nil
	}
	return rotation.Value{}, fieldError("trinket", parts[2], "ready", "remaining", "active", "buff_remaining", "has_use_buff")
}

// spellRange is how far a spell reaches, in yards: Kill Command 50, every
// shot 40 (the spells' tooltips, https://www.wowhead.com/spell=34026 and
// https://www.wowhead.com/spell=193455).
func spellRange(sp spellID) float64 {
	if sp == spKillCommand {
		return 50
	}
	return 40
}
