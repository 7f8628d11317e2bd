package engine

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"wowlab/engine/rotation"
)

// signet is a generic on-use haste trinket for the tests.
var signet = Trinket{Name: "signet", ItemID: 219314, Use: &TrinketEffect{Stat: "haste", Amount: 10, Duration: 20, Cooldown: 120}}

func withTrinkets(c *Config, ts ...Trinket) *Config {
	d := c.clone()
	d.Player.Trinkets = append([]Trinket(nil), ts...)
	return d
}

func TestRotationPathsOfTheOriginal(t *testing.T) {
	c := withTrinkets(exampleConfig(t, "bm_hunter.json"), signet)
	r := newRig(t, c)
	e := env{r.st}
	// Every path the original's parser accepts (legacy3/wowlab
	// crates/engine/src/rotation/parser.rs at 23b36d69), with its kind.
	paths := map[string]rotation.Kind{
		"resource.focus": rotation.Number, "resource.focus.current": rotation.Number, "resource.focus.max": rotation.Number,
		"resource.focus.deficit": rotation.Number, "resource.focus.percent": rotation.Number, "resource.focus.regen": rotation.Number,
		"resource.focus.deficit_percent": rotation.Number, "resource.focus.time_to_max": rotation.Number,
		"player.health": rotation.Number, "player.health.max": rotation.Number, "player.health.percent": rotation.Number,
		"player.health.deficit": rotation.Number, "player.haste": rotation.Number, "player.crit": rotation.Number,
		"player.mastery": rotation.Number, "player.versatility": rotation.Number, "player.attack_power": rotation.Number,
		"player.spell_power": rotation.Number, "player.level": rotation.Number, "player.armor": rotation.Number,
		"player.stamina": rotation.Number, "player.primary_stat": rotation.Number, "player.movement_remaining": rotation.Number,
		"player.moving": rotation.Boolean, "player.alive": rotation.Boolean, "player.in_combat": rotation.Boolean,
		"player.stealthed": rotation.Boolean, "player.mounted": rotation.Boolean,
		"cd.barbed_shot.ready": rotation.Boolean, "cd.barbed_shot.remaining": rotation.Number, "cd.barbed_shot.duration": rotation.Number,
		"cd.barbed_shot.base_duration": rotation.Number, "cd.barbed_shot.charges": rotation.Number, "cd.barbed_shot.charges_max": rotation.Number,
		"cd.barbed_shot.charges_fractional": rotation.Number, "cd.barbed_shot.recharge_time": rotation.Number,
		"cd.barbed_shot.full_recharge": rotation.Number, "cd.barbed_shot.full_recharge_time": rotation.Number,
		"cd.cobra_shot.charges_fractional": rotation.Number, "cd.cobra_shot.base_duration": rotation.Number,
		"buff.bestial_wrath.active": rotation.Boolean, "buff.bestial_wrath.inactive": rotation.Boolean,
		"buff.bestial_wrath.remaining": rotation.Number, "buff.bestial_wrath.stacks": rotation.Number,
		"buff.bestial_wrath.stacks_max": rotation.Number, "buff.bestial_wrath.duration": rotation.Number,
		"debuff.barbed_shot.active": rotation.Boolean, "debuff.barbed_shot.inactive": rotation.Boolean,
		"debuff.barbed_shot.remaining": rotation.Number, "debuff.barbed_shot.stacks": rotation.Number,
		"debuff.barbed_shot.refreshable": rotation.Boolean,
		"dot.barbed_shot.ticking":        rotation.Boolean, "dot.barbed_shot.remaining": rotation.Number,
		"dot.barbed_shot.refreshable": rotation.Boolean, "dot.barbed_shot.ticks_remaining": rotation.Number,
		"target.health": rotation.Number, "target.health_max": rotation.Number, "target.health_percent": rotation.Number,
		"target.time_to_die": rotation.Number, "target.time_to_percent.35": rotation.Number, "target.distance": rotation.Number,
		"target.casting": rotation.Boolean, "target.moving": rotation.Boolean,
		"enemy.count": rotation.Number, "enemy.spell_targets_hit.multi_shot": rotation.Number,
		"combat.time": rotation.Number, "combat.remaining": rotation.Number,
		"gcd.active": rotation.Boolean, "gcd.remaining": rotation.Number, "gcd.duration": rotation.Number,
		"pet.active": rotation.Boolean, "pet.count": rotation.Number, "pet.remaining": rotation.Number,
		"pet.buff.frenzy.active": rotation.Boolean,
		"talent.killer_instinct": rotation.Boolean, "talent.killer_instinct.enabled": rotation.Boolean,
		"talent.killer_instinct.rank": rotation.Number, "talent.killer_instinct.max_rank": rotation.Number,
		"equipped.signet": rotation.Boolean, "trinket.1.ready": rotation.Boolean, "trinket.1.remaining": rotation.Number,
		"trinket.2.ready": rotation.Boolean, "trinket.1.active": rotation.Boolean, "trinket.1.buff_remaining": rotation.Number,
		"trinket.1.has_use_buff":  rotation.Boolean,
		"spell.kill_command.cost": rotation.Number, "spell.kill_command.cast_time": rotation.Number,
		"spell.kill_command.range": rotation.Number, "spell.kill_command.in_range": rotation.Boolean,
		"spell.kill_command.usable": rotation.Boolean, "spell.kill_command.known": rotation.Boolean,
	}
	for p, k := range paths {
		v, err := e.Resolve(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if v.Kind != k {
			t.Errorf("%s is a %v, want a %v", p, v.Kind, k)
		}
	}
	num := func(p string) float64 {
		t.Helper()
		v, err := e.Resolve(p)
		if err != nil || v.Kind != rotation.Number {
			t.Fatalf("%s: %v", p, err)
		}
		if v.Const {
			return v.N
		}
		return v.Num()
	}
	flag := func(p string) bool {
		t.Helper()
		v, err := e.Resolve(p)
		if err != nil || v.Kind != rotation.Boolean {
			t.Fatalf("%s: %v", p, err)
		}
		if v.Const {
			return v.B
		}
		return v.Bool()
	}
	// The fight's start: full charges, full health, a ready trinket.
	near(t, "charges_fractional", num("cd.barbed_shot.charges_fractional"), num("cd.barbed_shot.charges_max"), 1e-9)
	near(t, "base_duration", num("cd.barbed_shot.base_duration"), r.s.baseCd[spBarbedShot], 1e-9)
	near(t, "target.health", num("target.health"), c.Target.MaxHealth, 1e-6)
	near(t, "time_to_percent.35", num("target.time_to_percent.35"), 0.65*c.Duration, 1e-3)
	if !flag("trinket.1.ready") || flag("trinket.2.ready") || !flag("equipped.signet") || flag("gcd.active") {
		t.Errorf("trinket.1.ready %v, trinket.2.ready %v, equipped.signet %v, gcd.active %v at the start",
			flag("trinket.1.ready"), flag("trinket.2.ready"), flag("equipped.signet"), flag("gcd.active"))
	}
	if got := num("talent.killer_instinct.rank"); got != float64(r.s.rank[tKillerInstinct]) || got == 0 {
		t.Errorf("talent.killer_instinct.rank = %v, the config's %d", got, r.s.rank[tKillerInstinct])
	}
	// A Barbed Shot later: a charge is recharging, focus not full.
	r.st.startCast(spBarbedShot)
	r.at(2000)
	frac := num("cd.barbed_shot.charges_fractional")
	if ch := num("cd.barbed_shot.charges"); !(frac > ch && frac < ch+1) {
		t.Errorf("charges_fractional %v with %v charges and one recharging", frac, ch)
	}
	if !flag("gcd.active") == (r.st.gcdEnd > r.st.now) {
		t.Errorf("gcd.active disagrees with the GCD")
	}
	if deficit := num("resource.focus.deficit"); deficit > 0 {
		near(t, "time_to_max", num("resource.focus.time_to_max"), deficit/num("resource.focus.regen"), 1e-9)
		near(t, "deficit_percent", num("resource.focus.deficit_percent"), 100*deficit/num("resource.focus.max"), 1e-9)
	}
	if num("pet.count") < 1 {
		t.Errorf("pet.count %v with the main pet out", num("pet.count"))
	}
}

func TestTrinketUseBuffsHaste(t *testing.T) {
	c := withTrinkets(exampleConfig(t, "bm_hunter.json").quiet(), signet,
		Trinket{Name: "idol", Use: &TrinketEffect{Stat: "mastery", Amount: 5, Duration: 15, Cooldown: 90}})
	r := newRig(t, c)
	haste, mastery := r.st.haste, r.st.mastery
	r.st.trinketBuff(0)
	r.st.trinketBuff(1)
	near(t, "haste with the signet", r.st.haste, haste*1.1, 1e-12)
	near(t, "mastery with the idol", r.st.mastery, mastery+5, 1e-12)
	if env(env{r.st}).CanUse(0) {
		t.Errorf("the signet can be used again at once")
	}
	r.at(16_000)
	near(t, "mastery after the idol", r.st.mastery, mastery, 1e-12)
	r.at(21_000)
	near(t, "haste after the signet", r.st.haste, haste, 1e-12)
	r.at(120_001)
	if !(env{r.st}).CanUse(0) {
		t.Errorf("the signet is not ready after its cooldown")
	}
}

func TestTrinketProcsOnCasts(t *testing.T) {
	proc := Trinket{Name: "charm", Proc: &TrinketEffect{Stat: "haste", Amount: 20, Duration: 10, Cooldown: 30, Chance: 1}}
	r := newRig(t, withTrinkets(exampleConfig(t, "bm_hunter.json").quiet(), proc))
	haste := r.st.haste
	r.st.startCast(spKillCommand)
	near(t, "haste after the proc", r.st.haste, haste*1.2, 1e-12)
	r.at(11_000)
	r.st.startCast(spBarbedShot) // inside the internal cooldown
	near(t, "haste inside the internal cooldown", r.st.haste, haste, 1e-12)
}

func TestTrinketsInTheRotation(t *testing.T) {
	c := withTrinkets(exampleConfig(t, "bm_hunter.json"), signet)
	base := c.clone()
	base.Player.Trinkets = nil
	rot := `{"actions":[{"use_trinket":1},{"cast":"kill_command"},{"cast":"barbed_shot"},{"cast":"cobra_shot"}]}`
	c.Rotation, base.Rotation = json.RawMessage(rot), json.RawMessage(rot)
	with, without := compileConfig(t, c), compileConfig(t, base)
	if len(without.RotationWarnings()) != 1 || !strings.Contains(without.RotationWarnings()[0].Msg, "no trinket is worn in slot 1") {
		t.Errorf("warnings without the trinket: %v", without.RotationWarnings())
	}
	a, err := with.Run(context.Background(), 0, 20, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := without.Run(context.Background(), 0, 20, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.MeanDps <= b.MeanDps {
		t.Errorf("a haste trinket used on cooldown did not raise DPS: %v with, %v without", a.MeanDps, b.MeanDps)
	}
}

func TestTrinketConfigRefused(t *testing.T) {
	tests := []struct {
		name string
		ts   []Trinket
		path string
	}{
		{"three", []Trinket{{Name: "a"}, {Name: "b"}, {Name: "c"}}, "player.trinkets"},
		{"slot 3", []Trinket{{Name: "a", Slot: 3}}, "player.trinkets[0].slot"},
		{"same slot", []Trinket{{Name: "a", Slot: 1}, {Name: "b", Slot: 1}}, "player.trinkets[1].slot"},
		{"bad name", []Trinket{{Name: "Big Idol"}}, "player.trinkets[0].name"},
		{"same name", []Trinket{{Name: "a"}, {Name: "a"}}, "player.trinkets[1].name"},
		{"both effects", []Trinket{{Name: "a", Use: signet.Use, Proc: signet.Use}}, "player.trinkets[0]"},
		{"unknown stat", []Trinket{{Name: "a", Use: &TrinketEffect{Stat: "agility", Amount: 1, Duration: 1, Cooldown: 1}}}, "player.trinkets[0].use.stat"},
		{"negative amount", []Trinket{{Name: "a", Use: &TrinketEffect{Stat: "haste", Amount: -1, Duration: 1, Cooldown: 1}}}, "player.trinkets[0].use.amount"},
		{"cooldown under duration", []Trinket{{Name: "a", Use: &TrinketEffect{Stat: "haste", Amount: 1, Duration: 10, Cooldown: 5}}}, "player.trinkets[0].use.cooldown"},
		{"chance on a use", []Trinket{{Name: "a", Use: &TrinketEffect{Stat: "haste", Amount: 1, Duration: 1, Cooldown: 1, Chance: 0.5}}}, "player.trinkets[0].use.chance"},
		{"chance above 1", []Trinket{{Name: "a", Proc: &TrinketEffect{Stat: "haste", Amount: 1, Duration: 1, Cooldown: 1, Chance: 2}}}, "player.trinkets[0].proc.chance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := json.Marshal(withTrinkets(exampleConfig(t, "bm_hunter.json"), tt.ts...))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Compile(doc)
			ce, ok := err.(*ConfigError)
			if !ok || ce.Path != tt.path {
				t.Errorf("error %v, want a ConfigError at %s", err, tt.path)
			}
		})
	}
}

// TestPortalRotationsDecideLikeTheirEquivalents runs each portal fixture
// and its hand-written equivalent with the same seed: every decision the
// same, the results are equal.
func TestPortalRotationsDecideLikeTheirEquivalents(t *testing.T) {
	for _, name := range []string{"bm_lists", "trinkets"} {
		t.Run(name, func(t *testing.T) {
			results := make([]*Result, 3)
			for i, file := range []string{name + ".portal.json", name + ".json", name + ".portal.json"} {
				script, err := os.ReadFile("rotation/testdata/portal/" + file)
				if err != nil {
					t.Fatal(err)
				}
				c := withTrinkets(exampleConfig(t, "bm_hunter.json"), signet)
				c.Rotation = script
				if i == 2 {
					// As a node sends it: the rotations row's script as a JSON string.
					if c.Rotation, err = json.Marshal(string(script)); err != nil {
						t.Fatal(err)
					}
				}
				res, err := compileConfig(t, c).Run(context.Background(), 0, 30, RunOptions{Breakdown: true})
				if err != nil {
					t.Fatal(err)
				}
				results[i] = res
			}
			if !reflect.DeepEqual(results[0], results[1]) || !reflect.DeepEqual(results[2], results[1]) {
				t.Errorf("portal rotation: %+v\nas a string: %+v\nhand-written: %+v", results[0], results[2], results[1])
			}
			if results[0].Events == 0 || len(results[0].Abilities) == 0 {
				t.Errorf("nothing happened: %+v", results[0])
			}
		})
	}
}

func TestPortalProblemsPointIntoThePortalDocument(t *testing.T) {
	doc := `{"defaultListId":"m","lists":[{"id":"m","name":"default","listType":"main","actions":[
		{"id":"a","type":"spell","spellId":19434,"enabled":true,"condition":{"combinator":"and","rules":[]}},
		{"id":"b","type":"spell","spellId":34026,"enabled":true,"condition":{"combinator":"and","rules":[
			{"field":"buff.stacks","operator":">","value":"2"}]}}]}],"variables":[{"id":"v","name":"unused","expression":"1"}]}`
	ps, ws := ValidateRotation([]byte(doc), "bm")
	want := map[string]string{
		"lists[0].actions[0].spellId":            "aimed_shot is not a beast_mastery spell",
		"lists[0].actions[1].condition.rules[0]": `unknown aura "kill_command"`,
	}
	if len(ps) != len(want) {
		t.Fatalf("problems %v, want %d", ps, len(want))
	}
	for _, p := range ps {
		if !strings.Contains(p.Msg, want[p.Path]) || want[p.Path] == "" {
			t.Errorf("problem %s; want %v", p, want)
		}
	}
	if ws != nil {
		t.Errorf("warnings %v alongside problems", ws)
	}
	c := exampleConfig(t, "bm_hunter.json")
	c.Rotation = json.RawMessage(doc)
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(raw)
	if ce, ok := err.(*ConfigError); !ok || ce.Path != "rotation.lists[0].actions[0].spellId" {
		t.Errorf("Compile: %v, want a ConfigError at rotation.lists[0].actions[0].spellId", err)
	}
	ok := `{"defaultListId":"m","lists":[{"id":"m","name":"default","listType":"main","actions":[
		{"id":"b","type":"spell","spellId":34026,"enabled":true}]}],"variables":[{"id":"v","name":"unused","expression":"1"}]}`
	ps, ws = ValidateRotation([]byte(ok), "bm")
	if ps != nil || len(ws) != 1 || ws[0].Path != "variables[0].expression" {
		t.Errorf("problems %v, warnings %v; want one warning at variables[0].expression", ps, ws)
	}
}

func TestTranslateRotation(t *testing.T) {
	script, err := os.ReadFile("rotation/testdata/portal/trinkets.portal.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, ps := TranslateRotation(script, "bm"); len(ps) != 1 || ps[0].Path != "lists[0].actions[0].itemId" {
		t.Errorf("without the trinket: %v, want one problem at lists[0].actions[0].itemId", ps)
	}
	c := withTrinkets(exampleConfig(t, "bm_hunter.json"), signet)
	c.Rotation = script
	doc, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	out, ps := TranslateRotation(doc, "")
	if ps != nil {
		t.Fatalf("with the trinket: %v", ps)
	}
	if !strings.Contains(string(out), `"use_item": "signet"`) {
		t.Errorf("translation lacks the trinket:\n%s", out)
	}
	if _, ps := TranslateRotation([]byte(`{"actions":[{"cast":"kill_command"}]}`), "bm"); len(ps) != 1 {
		t.Errorf("a rotation of this language translated: %v", ps)
	}
}

// TestRotationLanguageDocExamples keeps docs/rotation-language.md true: its
// rotation compiles, and its portal example translates to the rotation the
// document shows.
func TestRotationLanguageDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/rotation-language.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]byte
	for _, part := range strings.Split(string(doc), "```json\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		blocks = append(blocks, []byte(block))
	}
	if len(blocks) < 4 {
		t.Fatalf("%d JSON examples in the document", len(blocks))
	}
	if ps, _ := ValidateRotation(blocks[0], "bm"); ps != nil {
		t.Errorf("the first example: %v", ps)
	}
	portal, want := blocks[len(blocks)-2], blocks[len(blocks)-1]
	got, ps := TranslateRotation(portal, "bm")
	if ps != nil {
		t.Fatalf("the portal example: %v", ps)
	}
	var g, w any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil || !reflect.DeepEqual(g, w) {
		t.Errorf("the portal example translates to\n%s\nnot to the document's\n%s", got, want)
	}
}
