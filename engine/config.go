package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Config is a parsed simulation config document (shared/ENGINE.md). Field
// spellings follow the original format: snake_case stats, camelCase
// rotationId.
type Config struct {
	Player     Player          `json:"player"`
	Duration   float64         `json:"duration"`
	Target     Target          `json:"target"`
	Raid       Raid            `json:"raid"`
	RotationID string          `json:"rotationId,omitempty"`
	Rotation   json.RawMessage `json:"rotation,omitempty"`
	Seed       int64           `json:"seed"`
}

// Player describes the simulated character.
type Player struct {
	Name        string     `json:"name"`
	Spec        string     `json:"spec"`
	Stats       Stats      `json:"stats"`
	Resources   Resources  `json:"resources"`
	WeaponSpeed float64    `json:"weapon_speed"`
	WeaponDmg   [2]float64 `json:"weapon_damage"`
	// Talents are talent names (see `engine specs`), each optionally with
	// ":rank"; without a rank a talent has all its ranks.
	Talents []string `json:"talents"`
	// TierSet is the number of pieces of The War Within Season 3 set worn:
	// 0, 2 or 4. The bonuses are those of the hero tree of the talents.
	TierSet int `json:"tier_set"`
	// Trinkets are the worn trinkets (at most two), see Trinket.
	Trinkets []Trinket `json:"trinkets"`
}

// Stats are the character's primary and secondary stats from gear. The
// engine adds what every hunter has (Mail Specialization's agility, the 5%
// base critical strike chance, 8 base mastery points) and converts ratings
// at level 80 with diminishing returns. A *_pct field, when present,
// overrides its rating: crit_pct is the critical strike chance, haste_pct
// the haste, versatility_pct the damage bonus and mastery_pct the bonus the
// spec's mastery shows on the character sheet, all before raid buffs.
type Stats struct {
	Strength          float64  `json:"strength"`
	Agility           float64  `json:"agility"`
	Intellect         float64  `json:"intellect"`
	Stamina           float64  `json:"stamina"`
	CritRating        float64  `json:"crit_rating"`
	HasteRating       float64  `json:"haste_rating"`
	MasteryRating     float64  `json:"mastery_rating"`
	VersatilityRating float64  `json:"versatility_rating"`
	CritPct           *float64 `json:"crit_pct"`
	HastePct          *float64 `json:"haste_pct"`
	MasteryPct        *float64 `json:"mastery_pct"`
	VersatilityPct    *float64 `json:"versatility_pct"`
}

// Resources describe the player's primary resource.
type Resources struct {
	Type           string  `json:"resource_type"`
	Max            float64 `json:"max"`
	RegenPerSecond float64 `json:"regen_per_second"`
	Initial        float64 `json:"initial"`
}

// Target describes the enemies.
type Target struct {
	LevelDiff int     `json:"level_diff"`
	MaxHealth float64 `json:"max_health"`
	// Armor of each target; when absent, a creature of the target's level
	// has the game's armor (42 857 for a boss three levels above 80).
	Armor *float64 `json:"armor"`
	Count int      `json:"count"`
}

// Raid lists the raid buffs and debuffs that change a hunter's damage.
// Every one is on unless set to false, as in a full raid.
type Raid struct {
	BattleShout   bool `json:"battle_shout"`     // +5% attack power (6673)
	MarkOfTheWild bool `json:"mark_of_the_wild"` // +3% versatility (1126)
	Skyfury       bool `json:"skyfury"`          // +2 mastery points (462854)
	HuntersMark   bool `json:"hunters_mark"`     // +5% damage taken above 80% health (428402)
	MysticTouch   bool `json:"mystic_touch"`     // +5% physical damage taken (113746)
	ChaosBrand    bool `json:"chaos_brand"`      // +3% magic damage taken (1490)
	Bloodlust     bool `json:"bloodlust"`        // +30% haste for 40 s (2825)
	// BloodlustAt is when Bloodlust (or Heroism, Time Warp...) is cast, in
	// seconds from the pull.
	BloodlustAt float64 `json:"bloodlust_at"`
}

// MaxConfigBytes bounds the size of a config document.
const MaxConfigBytes = 4 << 20

// ParseConfig reads a config document and checks it, without compiling
// its rotation. Problems are reported as *ConfigError.
func ParseConfig(data []byte) (*Config, error) {
	if len(data) > MaxConfigBytes {
		return nil, &ConfigError{Msg: fmt.Sprintf("config is %d bytes, more than the %d allowed", len(data), MaxConfigBytes)}
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(data, &present); err != nil {
		return nil, jsonError("", err)
	}
	for _, field := range []string{"player", "duration", "target"} {
		if v, ok := present[field]; !ok || string(v) == "null" {
			return nil, &ConfigError{Path: field, Msg: "missing: every config needs player, duration and target"}
		}
	}
	var player map[string]json.RawMessage
	if err := json.Unmarshal(present["player"], &player); err != nil {
		return nil, jsonError("player", err)
	}
	for _, field := range []string{"spec", "stats"} {
		if v, ok := player[field]; !ok || string(v) == "null" {
			return nil, &ConfigError{Path: "player." + field, Msg: "missing"}
		}
	}
	c := &Config{
		Player: Player{
			Resources:   Resources{Type: "focus", Max: 100, RegenPerSecond: 5, Initial: 100},
			WeaponSpeed: 3.0,
			WeaponDmg:   [2]float64{500, 700},
		},
		Target: Target{LevelDiff: 3, MaxHealth: 10_000_000, Count: 1},
		Raid: Raid{BattleShout: true, MarkOfTheWild: true, Skyfury: true, HuntersMark: true,
			MysticTouch: true, ChaosBrand: true, Bloodlust: true},
	}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, jsonError("", err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func jsonError(path string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := te.Field
		if path != "" && p != "" {
			p = path + "." + p
		} else if p == "" {
			p = path
		}
		return &ConfigError{Path: p, Msg: fmt.Sprintf("expected %s, got a JSON %s", te.Type, te.Value)}
	}
	return &ConfigError{Path: path, Msg: "invalid JSON: " + err.Error()}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (c *Config) check() error {
	type num struct {
		path     string
		v        float64
		min, max float64
	}
	s := c.Player.Stats
	nums := []num{
		{"duration", c.Duration, 0, 3600},
		{"player.stats.strength", s.Strength, 0, 1e7},
		{"player.stats.agility", s.Agility, 0, 1e7},
		{"player.stats.intellect", s.Intellect, 0, 1e7},
		{"player.stats.stamina", s.Stamina, 0, 1e7},
		{"player.stats.crit_rating", s.CritRating, 0, 1e6},
		{"player.stats.haste_rating", s.HasteRating, 0, 1e6},
		{"player.stats.mastery_rating", s.MasteryRating, 0, 1e6},
		{"player.stats.versatility_rating", s.VersatilityRating, 0, 1e6},
		{"player.resources.max", c.Player.Resources.Max, 1, 1e4},
		{"player.resources.regen_per_second", c.Player.Resources.RegenPerSecond, 0, 1e3},
		{"player.resources.initial", c.Player.Resources.Initial, 0, 1e4},
		{"player.weapon_speed", c.Player.WeaponSpeed, 0.5, 10},
		{"player.weapon_damage[0]", c.Player.WeaponDmg[0], 0, 1e7},
		{"player.weapon_damage[1]", c.Player.WeaponDmg[1], 0, 1e7},
		{"target.max_health", c.Target.MaxHealth, 1, 1e15},
		{"raid.bloodlust_at", c.Raid.BloodlustAt, 0, 3600},
	}
	if c.Target.Armor != nil {
		nums = append(nums, num{"target.armor", *c.Target.Armor, 0, 1e7})
	}
	for _, p := range []struct {
		path string
		v    *float64
		max  float64
	}{
		{"player.stats.crit_pct", s.CritPct, 100},
		{"player.stats.haste_pct", s.HastePct, 500},
		{"player.stats.mastery_pct", s.MasteryPct, 500},
		{"player.stats.versatility_pct", s.VersatilityPct, 100},
	} {
		if p.v != nil {
			nums = append(nums, num{p.path, *p.v, 0, p.max})
		}
	}
	for _, n := range nums {
		if !finite(n.v) {
			return &ConfigError{Path: n.path, Msg: "must be a finite number"}
		}
		if n.path == "duration" {
			if n.v <= 0 || n.v > 3600 {
				return &ConfigError{Path: "duration", Msg: fmt.Sprintf("must be more than 0 and at most 3600 seconds, got %v", n.v)}
			}
			continue
		}
		if n.v < n.min || n.v > n.max {
			return &ConfigError{Path: n.path, Msg: fmt.Sprintf("must be between %v and %v, got %v", n.min, n.max, n.v)}
		}
	}
	if c.Player.WeaponDmg[0] > c.Player.WeaponDmg[1] {
		return &ConfigError{Path: "player.weapon_damage", Msg: "the minimum is above the maximum"}
	}
	if c.Player.Resources.Initial > c.Player.Resources.Max {
		return &ConfigError{Path: "player.resources.initial", Msg: "is above resources.max"}
	}
	if t := strings.ToLower(c.Player.Resources.Type); t != "" && t != "focus" {
		return &ConfigError{Path: "player.resources.resource_type", Msg: fmt.Sprintf("hunters use focus, not %q", c.Player.Resources.Type)}
	}
	if c.Target.Count < 1 || c.Target.Count > 20 {
		return &ConfigError{Path: "target.count", Msg: fmt.Sprintf("must be between 1 and 20, got %d", c.Target.Count)}
	}
	if c.Target.LevelDiff < -10 || c.Target.LevelDiff > 10 {
		return &ConfigError{Path: "target.level_diff", Msg: fmt.Sprintf("must be between -10 and 10, got %d", c.Target.LevelDiff)}
	}
	if p := c.Player.TierSet; p != 0 && p != 2 && p != 4 {
		return &ConfigError{Path: "player.tier_set", Msg: fmt.Sprintf("is the number of set pieces worn: 0, 2 or 4, got %d", p)}
	}
	if c.Seed < 0 || c.Seed > 1<<52 {
		return &ConfigError{Path: "seed", Msg: "must be between 0 and 2^52"}
	}
	return c.checkTrinkets()
}

// rotationText returns the rotation script: the JSON string's contents, or
// the object itself when the rotation was embedded as an object.
func (c *Config) rotationText() ([]byte, error) {
	raw := bytes.TrimSpace(c.Rotation)
	if len(raw) == 0 || string(raw) == "null" {
		if c.RotationID != "" {
			return nil, &ConfigError{Path: "rotation", Msg: fmt.Sprintf("missing: the config names rotationId %s but carries no rotation script; a node inserts the fetched script here", c.RotationID)}
		}
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, &ConfigError{Path: "rotation", Msg: "invalid JSON string"}
		}
		return []byte(s), nil
	}
	if raw[0] != '{' {
		return nil, &ConfigError{Path: "rotation", Msg: "must be the rotation script as a JSON string or object"}
	}
	return raw, nil
}
