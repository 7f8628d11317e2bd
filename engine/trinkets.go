// This file holds trinkets: config items with a generic effect, used by the
// rotation's use_item and use_trinket actions or proccing on casts.

package engine

import "fmt"

// Trinket is a worn trinket. Its effect is generic: a buff of one stat for
// a while, started by a use_item/use_trinket action (Use) or by chance when
// the player casts a spell (Proc). A trinket with neither only counts for
// equipped.<name>.
type Trinket struct {
	Name   string         `json:"name"`
	ItemID int            `json:"item_id"` // the game item, for rotations saved by the portal (itemId)
	Slot   int            `json:"slot"`    // 1 or 2; 0 takes the trinket's place in the list
	Use    *TrinketEffect `json:"use"`
	Proc   *TrinketEffect `json:"proc"`
}

// TrinketEffect is a buff a trinket grants: Amount of Stat ("haste" in
// percent, multiplied into haste; "mastery" in mastery points) for Duration
// seconds. Cooldown is the use cooldown, or a proc's internal cooldown;
// Chance is a proc's chance per cast.
type TrinketEffect struct {
	Stat     string  `json:"stat"`
	Amount   float64 `json:"amount"`
	Duration float64 `json:"duration"`
	Cooldown float64 `json:"cooldown"`
	Chance   float64 `json:"chance"`
}

// maxTrinkets is the number of trinket slots.
const maxTrinkets = 2

// checkTrinkets refuses trinkets the engine cannot simulate.
func (c *Config) checkTrinkets() error {
	ts := c.Player.Trinkets
	if len(ts) > maxTrinkets {
		return &ConfigError{Path: "player.trinkets", Msg: fmt.Sprintf("a hunter wears at most %d trinkets, got %d", maxTrinkets, len(ts))}
	}
	used := [maxTrinkets + 1]bool{}
	for i := range ts {
		t := &ts[i]
		path := fmt.Sprintf("player.trinkets[%d]", i)
		if t.Slot == 0 {
			t.Slot = i + 1
		}
		if t.Slot < 1 || t.Slot > maxTrinkets {
			return &ConfigError{Path: path + ".slot", Msg: fmt.Sprintf("is 1 or 2, got %d", t.Slot)}
		}
		if used[t.Slot] {
			return &ConfigError{Path: path + ".slot", Msg: fmt.Sprintf("slot %d holds two trinkets", t.Slot)}
		}
		used[t.Slot] = true
		if !validName(t.Name) {
			return &ConfigError{Path: path + ".name", Msg: fmt.Sprintf("%q is not a name: use lower-case letters, digits and _", t.Name)}
		}
		for j := range ts[:i] {
			if ts[j].Name == t.Name {
				return &ConfigError{Path: path + ".name", Msg: fmt.Sprintf("two trinkets are called %q", t.Name)}
			}
		}
		if t.ItemID < 0 || t.ItemID > 1e7 {
			return &ConfigError{Path: path + ".item_id", Msg: fmt.Sprintf("must be between 0 and 10000000, got %d", t.ItemID)}
		}
		if t.Use != nil && t.Proc != nil {
			return &ConfigError{Path: path, Msg: "a trinket has a use effect or a proc, not both"}
		}
		if err := t.Use.check(path+".use", false); err != nil {
			return err
		}
		if err := t.Proc.check(path+".proc", true); err != nil {
			return err
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if c != '_' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func (e *TrinketEffect) check(path string, proc bool) error {
	if e == nil {
		return nil
	}
	if e.Stat != "haste" && e.Stat != "mastery" {
		return &ConfigError{Path: path + ".stat", Msg: fmt.Sprintf("is haste or mastery, got %q", e.Stat)}
	}
	for _, n := range []struct {
		name     string
		v        float64
		min, max float64
	}{
		{"amount", e.Amount, 0, 1000},
		{"duration", e.Duration, 0.001, 600},
		{"cooldown", e.Cooldown, 0, 3600},
		{"chance", e.Chance, 0, 1},
	} {
		if !finite(n.v) || n.v < n.min || n.v > n.max {
			return &ConfigError{Path: path + "." + n.name, Msg: fmt.Sprintf("must be a number between %v and %v, got %v", n.min, n.max, n.v)}
		}
	}
	if e.Cooldown < e.Duration {
		// One buff at a time per trinket: a new one never overlaps the last.
		return &ConfigError{Path: path + ".cooldown", Msg: fmt.Sprintf("must be at least the duration (%v s), got %v", e.Duration, e.Cooldown)}
	}
	if !proc && e.Chance != 0 {
		return &ConfigError{Path: path + ".chance", Msg: "only a proc has a chance"}
	}
	return nil
}

// trinketSpec is a worn trinket's effect in engine units.
type trinketSpec struct {
	worn     bool
	name     string
	itemID   int
	use      bool // Use, else Proc (when has)
	has      bool // an effect at all
	haste    float64
	mastery  float64
	duration int64
	cooldown int64
	chance   float64
}

// trinketState is a trinket's part of one fight.
type trinketState struct {
	ready int64 // the use effect or the proc is available from here
	end   int64 // the buff lasts until here
}

// deriveTrinkets fills s.trinkets from the config (slot order).
func (s *Sim) deriveTrinkets() {
	for _, t := range s.cfg.Player.Trinkets {
		ts := &s.trinkets[t.Slot-1]
		*ts = trinketSpec{worn: true, name: t.Name, itemID: t.ItemID}
		e := t.Use
		ts.use = e != nil
		if e == nil {
			e = t.Proc
		}
		if e == nil {
			continue
		}
		ts.has = true
		if e.Stat == "haste" {
			ts.haste = e.Amount / 100
		} else {
			ts.mastery = e.Amount
		}
		ts.duration, ts.cooldown, ts.chance = ms(e.Duration), ms(e.Cooldown), e.Chance
		if !ts.use {
			s.trinketProcs = true
		}
	}
}

// trinketBuff starts the buff of the trinket in slot index i: its use
// effect, or its proc.
func (st *state) trinketBuff(i int) {
	ts, t := &st.sim.trinkets[i], &st.trinkets[i]
	t.ready = st.now + ts.cooldown
	t.end = st.now + ts.duration
	st.trinketStat(i, 1)
	st.schedule(t.end, event{kind: evTrinketEnd, a: uint8(i)})
}

// trinketStat adds (sign 1) or removes (-1) the buff of trinket i.
func (st *state) trinketStat(i int, sign float64) {
	ts := &st.sim.trinkets[i]
	if ts.mastery != 0 {
		st.settle()
		st.invalidate()
		st.mastery += sign * ts.mastery
	}
	if ts.haste != 0 {
		st.recomputeHaste()
	}
	st.changed = true
}

// trinketHaste is the haste multiplier of the trinket buffs up now.
func (st *state) trinketHaste() float64 {
	h := 1.0
	for i := range st.sim.trinkets {
		if st.trinkets[i].end > st.now {
			h *= 1 + st.sim.trinkets[i].haste
		}
	}
	return h
}

// trinketProc rolls the procs of the worn trinkets for a player cast.
func (st *state) trinketProc() {
	for i := range st.sim.trinkets {
		ts := &st.sim.trinkets[i]
		if ts.has && !ts.use && st.now >= st.trinkets[i].ready && st.rng.chance(ts.chance) {
			st.trinketBuff(i)
		}
	}
}

// trinketRemaining is the time until trinket i can be used, in seconds.
func (st *state) trinketRemaining(i int) float64 {
	return sec(max(0, st.trinkets[i].ready-st.now))
}
