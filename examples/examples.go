// Package examples holds the bundled simulation configs: complete config
// documents, rotation embedded, as a node could receive them. They are
// SimulationCraft's standard The War Within Season 3 hunter profiles
// (simulationcraft/simc profiles/TWW3) as config documents: the same
// talents, gear stats and set, with the engine's default rotation of the
// spec. The weapon damage is an estimate (the profiles give the item, not
// its damage).
package examples

import (
	"embed"
	"fmt"
	"strings"
)

// FS holds the profiles' files (see Profiles).
//
//go:embed *.json
var FS embed.FS

// Profile is one bundled config.
type Profile struct {
	// Name is how `engine sim --spec` and the tests name it.
	Name string
	// File is its file in FS.
	File string
	// Spec and Hero are the canonical names of its spec and hero tree.
	Spec, Hero string
	// Source is the SimulationCraft profile it follows.
	Source string
	// Default marks the spec's default profile (the one --spec of a spec
	// name runs).
	Default bool
}

// Profiles lists the bundled profiles, each spec's default first.
func Profiles() []Profile {
	return []Profile{
		{"bm_pack_leader", "bm_hunter.json", "beast_mastery", "pack_leader", "TWW3_Hunter_Beast_Mastery.simc at 99269f8", true},
		{"bm_dark_ranger", "bm_dark_ranger.json", "beast_mastery", "dark_ranger", "TWW3_Hunter_Beast_Mastery.simc at 3774fe83 (its Dark Ranger build)", false},
		{"mm_dark_ranger", "mm_hunter.json", "marksmanship", "dark_ranger", "TWW3_Hunter_Marksmanship.simc at 52d6f46b", true},
		{"mm_sentinel", "mm_sentinel.json", "marksmanship", "sentinel", "TWW3_Hunter_Marksmanship.simc at 52d6f46b with Sentinel's hero talents and set (SimC has no Sentinel profile)", false},
	}
}

// LookupProfile finds a profile by name; case, spaces and "-" for "_" do
// not matter.
func LookupProfile(name string) (Profile, bool) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
	for _, p := range Profiles() {
		if p.Name == n {
			return p, true
		}
	}
	return Profile{}, false
}

// SpecDefault returns the default profile of a spec (canonical name).
func SpecDefault(spec string) (Profile, bool) {
	for _, p := range Profiles() {
		if p.Spec == spec && p.Default {
			return p, true
		}
	}
	return Profile{}, false
}

// Quick returns a small valid config document with the given seed: a bare
// beast mastery hunter with the spec's default rotation in a 20-second
// fight, cheap to simulate. Tests and short demonstrations use it where
// what is simulated does not matter.
func Quick(seed int64) []byte {
	return fmt.Appendf(nil, `{"duration":20,"player":{"resources":{"initial":100,"max":100,"regen_per_second":5,"resource_type":"focus"},`+
		`"spec":"beast_mastery","stats":{"agility":10000},"weapon_damage":[1000,1500],"weapon_speed":3},"seed":%d,`+
		`"target":{"count":1,"level_diff":3,"max_health":10000000}}`, seed)
}
