// Package hunterdata holds the game data the engine simulates: the War
// Within hunter's spells, auras, talents, hero talents, tier-set bonuses and
// the level-80 combat constants, each number with the spell id it belongs to
// and the public source it was read from. It contains no mechanics: the
// engine reads these tables once per compiled config, so a change of patch is
// a change of this package (plus code only where a mechanic is new).
package hunterdata

import "fmt"

// Patch is the game version the tables describe.
const Patch = "11.2.0"

// SourceKeys lists the keys of the sources the tables cite, in a fixed order.
func SourceKeys() []string { return []string{"dump", "simc", "trait", "stat", "dr", "wh", "prof"} }

// Source describes the public source a table entry cites by its key.
func Source(key string) string {
	switch key {
	case "dump":
		return "SimulationCraft SpellDataDump/hunter.txt at commit 99269f8eb452d7160135f594c5249b208f520289 (SimulationCraft 1120-01, World of Warcraft 11.2.0.63003)"
	case "simc":
		return "SimulationCraft engine/class_modules/sc_hunter.cpp at commit 99269f8eb452d7160135f594c5249b208f520289 (how a mechanic uses the spell data)"
	case "trait":
		return "SimulationCraft engine/dbc/generated/trait_data.inc at commit 005323afaa49734154707103cc8ed45fa7057241 (talent trees, build 11.2.5.63796)"
	case "stat":
		return "SimulationCraft engine/dbc/generated/expected_stat.inc at commit 005323afaa49734154707103cc8ed45fa7057241 (creature armor and armor constants by level)"
	case "dr":
		return "maxroll.gg/wow/resources/stat-diminishing-returns (level-80 rating per percent and diminishing-returns brackets, patch 11.0)"
	case "wh":
		return "Wowhead spell tooltips (raid buffs and debuffs; values not in the hunter spell dump)"
	case "prof":
		return "SimulationCraft profiles/TWW3 hunter profiles (gear stats, set bonuses, action lists)"
	}
	return ""
}

// School is a damage school.
type School uint8

// Schools of the hunter's damage.
const (
	Physical School = iota
	Nature
	Fire
	Arcane
	Shadow
)

func (s School) String() string {
	switch s {
	case Physical:
		return "physical"
	case Nature:
		return "nature"
	case Fire:
		return "fire"
	case Arcane:
		return "arcane"
	case Shadow:
		return "shadow"
	}
	return fmt.Sprintf("school(%d)", s)
}

// Effect is one numbered effect of a spell as the spell data prints it:
// Value is the effect's base value (percent points, milliseconds or a count,
// as the game stores it) and AP its attack-power coefficient, if any.
type Effect struct {
	Value float64
	AP    float64
}

// Spell is one spell of the data.
type Spell struct {
	ID   int
	Name string
	// School of the damage the spell deals, if any.
	School School
	// Cost in focus.
	Cost float64
	// Cooldown in seconds; with Charges > 0 it is the recharge of a charge.
	Cooldown float64
	Charges  int
	// Duration of the aura or channel in seconds, Period its tick period.
	Duration, Period float64
	// Cast time in seconds.
	Cast float64
	// MaxStack of the aura (0: does not stack).
	MaxStack int
	// Chance is the proc chance in percent, RPPM the real procs per minute.
	Chance, RPPM float64
	// Effects by number: Effects[0] is effect #1.
	Effects []Effect
	// Src keys Sources; Note says what the numbers are when the data alone
	// does not.
	Src  string
	Note string
}

// Eff returns the base value of effect n (1-based), or 0.
func (s *Spell) Eff(n int) float64 {
	if n < 1 || n > len(s.Effects) {
		return 0
	}
	return s.Effects[n-1].Value
}

// Pct returns effect n as a fraction (its value divided by 100).
func (s *Spell) Pct(n int) float64 { return s.Eff(n) / 100 }

// AP returns the attack-power coefficient of effect n (1-based), or 0.
func (s *Spell) AP(n int) float64 {
	if n < 1 || n > len(s.Effects) {
		return 0
	}
	return s.Effects[n-1].AP
}

// Lookup returns the spell with the given id, or nil.
func Lookup(id int) *Spell {
	if i, ok := spellIndex[id]; ok {
		return &spells[i]
	}
	return nil
}

// spellIndex maps a spell id to its place in spells; built once at start,
// never changed.
var spellIndex = func() map[int]int {
	m := make(map[int]int, len(spells))
	for i, s := range spells {
		m[s.ID] = i
	}
	return m
}()

// Get returns the spell with the given id and panics when the table lacks
// it: the engine asks only for ids of this package, which a test checks.
func Get(id int) *Spell {
	if s := Lookup(id); s != nil {
		return s
	}
	panic(fmt.Sprintf("hunterdata: no spell %d", id))
}

// Spells returns every spell of the data in table order.
func Spells() []Spell { return append([]Spell(nil), spells...) }

// e builds effects from base values.
func e(values ...float64) []Effect {
	out := make([]Effect, len(values))
	for i, v := range values {
		out[i] = Effect{Value: v}
	}
	return out
}

// ap is an effect with an attack-power coefficient.
func ap(coef float64) Effect { return Effect{AP: coef} }

// v is an effect with a base value.
func v(value float64) Effect { return Effect{Value: value} }
