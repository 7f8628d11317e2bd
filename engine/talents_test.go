package engine

import (
	"math"
	"testing"

	hd "wowlab/engine/hunterdata"
)

// The talent tests: one per simulated talent, hero talent and set bonus.
// Each builds the same fight with and without it and checks that the
// difference is what its spell data says: exactly (1e-9) where nothing is
// random, and within 4.5 standard errors of the data's chance where the
// effect is a proc (the trial counts keep the check's noise under 2%).

// exact is the relative tolerance of the deterministic checks.
const exact = 1e-9

// pair returns rigs of base with and without talent.
func pair(t *testing.T, base *Config, talent string) (with, without *rig) {
	t.Helper()
	return newRig(t, base.with(talent)), newRig(t, base.without(talent))
}

// ratio checks that line ab dealt want times as much in with as in without.
func ratio(t *testing.T, with, without *rig, ab abilityID, want float64) {
	t.Helper()
	if without.dmg(ab) == 0 {
		t.Fatalf("%s did no damage without the talent", abilities[ab].name)
	}
	near(t, abilities[ab].name+" with/without", with.dmg(ab)/without.dmg(ab), want, exact)
}

// rate checks that hits of trials happened at the data's chance p.
func rate(t *testing.T, what string, hits, trials int, p float64) {
	t.Helper()
	got := float64(hits) / float64(trials)
	sigma := math.Sqrt(p * (1 - p) / float64(trials))
	if math.Abs(got-p) > 4.5*sigma+1e-12 {
		t.Errorf("%s: %d of %d (%.4f), want the data's %.4f ± %.4f", what, hits, trials, got, p, 4.5*sigma)
	}
}

// auraProcs does action n times on r and counts the times it left aura a
// on, which it then takes off again.
func (r *rig) auraProcs(a auraID, n int, action func()) int {
	hits := 0
	for range n {
		action()
		if r.st.auraActive(a) {
			hits++
			r.st.expireAura(a)
		}
	}
	return hits
}

// count does try n times and counts the times it reports true.
func count(n int, try func() bool) int {
	k := 0
	for range n {
		if try() {
			k++
		}
	}
	return k
}

// cut is how much sooner sp's recharge, running with a minute left, ends
// in w than in o once action has run in both.
func cut(w, o *rig, sp spellID, action func(r *rig)) int64 {
	for _, r := range []*rig{w, o} {
		r.drain(sp)
		r.st.cds[sp].end = r.st.now + 60_000
		action(r)
	}
	return o.cdLeft(sp) - w.cdLeft(sp)
}

// allCrits makes every hit of r critically strike.
func (r *rig) allCrits() *rig {
	r.s.crit = 1
	r.st.invalidate()
	return r
}

// liveKind counts r's pets of kind that are out.
func (r *rig) liveKind(kind petKind) int {
	n := 0
	for i := range maxPets {
		if r.st.live&(1<<i) != 0 && r.st.pets[i].kind == kind {
			n++
		}
	}
	return n
}

// spendAll uses every charge of sp now.
func (r *rig) spendAll(sp spellID) {
	for r.st.syncCd(sp).charges > 0 {
		r.st.useCharge(sp)
	}
}

// cdLeft is how long sp's next charge still takes.
func (r *rig) cdLeft(sp spellID) int64 {
	c := r.st.syncCd(sp)
	if c.charges == c.max {
		return 0
	}
	return c.end - r.st.now
}

// bmBase is the beast mastery Pack Leader example without the raid.
func bmBase(t *testing.T) *Config { return exampleConfig(t, "bm_hunter.json").quiet() }

// bmDR is the beast mastery Dark Ranger example without the raid.
func bmDR(t *testing.T) *Config { return exampleConfig(t, "bm_dark_ranger.json").quiet() }

// mmDR is the marksmanship Dark Ranger example without the raid.
func mmDR(t *testing.T) *Config { return exampleConfig(t, "mm_hunter.json").quiet() }

// mmSentinel is the marksmanship Sentinel example without the raid.
func mmSentinel(t *testing.T) *Config { return exampleConfig(t, "mm_sentinel.json").quiet() }

// targets returns a copy of c against n targets.
func targets(c *Config, n int) *Config {
	d := c.clone()
	d.Target.Count = n
	return d
}

// staticRatio checks the compile-time multiplier of line ab.
func staticRatio(t *testing.T, with, without *rig, ab abilityID, want float64) {
	t.Helper()
	near(t, abilities[ab].name+" multiplier with/without", with.s.static[ab]/without.s.static[ab], want, exact)
}

// classAndBMTests holds a test per simulated talent (by config name), hero
// talent and set bonus; TestEveryTalentTested checks that none is missing.
var classAndBMTests = map[string]func(t *testing.T){
	// --- class tree ---------------------------------------------------------
	"deathblow": func(t *testing.T) {
		// Beast mastery: Kill Command has 343248 #2 chance to grant Deathblow.
		r := newRig(t, bmBase(t).with("deathblow"))
		const n = 6000
		hits := r.auraProcs(auDeathblow, n, func() { r.cast(spKillCommand) })
		rate(t, "deathblow from kill command", hits, n, pct(343248, 2))
		r2 := newRig(t, bmBase(t).without("deathblow"))
		for range 200 {
			r2.cast(spKillCommand)
		}
		if r2.st.auraActive(auDeathblow) {
			t.Error("deathblow without the talent")
		}
	},
	"specialized_arsenal": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "specialized_arsenal")
		w.noCrits().cast(spKillCommand)
		o.noCrits().cast(spKillCommand)
		ratio(t, w, o, abPetKillCommand, 1+pct(459542, 1))
		mw, mo := pair(t, mmDR(t), "specialized_arsenal")
		staticRatio(t, mw, mo, abAimedShot, 1+pct(459542, 2))
	},
	"keen_eyesight": func(t *testing.T) {
		for rank := 1; rank <= 2; rank++ {
			w := newRig(t, bmBase(t).with("keen_eyesight:"+itoa(rank)))
			o := newRig(t, bmBase(t).without("keen_eyesight"))
			near(t, "crit added", w.s.crit-o.s.crit, float64(rank)*pct(378004, 1), exact)
		}
	},
	"serrated_tips": func(t *testing.T) {
		c := bmBase(t)
		w, o := pair(t, c, "serrated_tips")
		rating := c.Player.Stats.CritRating
		want := (hd.Diminish(rating*(1+pct(459502, 1))/hd.CritRatingPerPct) - hd.Diminish(rating/hd.CritRatingPerPct)) / 100
		near(t, "crit added", w.s.crit-o.s.crit, want, exact)
	},
	"unnatural_causes": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "unnatural_causes")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.st.barbedTick()
		}
		ratio(t, w, o, abBarbedShot, 1+pct(459527, 1))
		// In execute range the periodic damage gains more (sc_hunter.cpp).
		for _, r := range []*rig{w, o} {
			r.st.now = r.s.executeAt
			r.st.invalidate()
			r.st.ab[abBarbedShot].dmg = 0
			r.st.barbedTick()
		}
		ratio(t, w, o, abBarbedShot, (1+pct(459527, 1))*1.0476)
	},
	"trigger_finger": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "trigger_finger")
		tf := hd.Get(459534)
		near(t, "auto shot time", o.s.autoShotBase/w.s.autoShotBase, (1+tf.Pct(1))*(1+tf.Pct(2)), exact)
		near(t, "pet swing speed", w.s.petSpeed, 1+tf.Pct(4), exact)
		half := newRig(t, bmBase(t).with("trigger_finger:1"))
		near(t, "pet swing speed at rank 1", half.s.petSpeed, 1+tf.Pct(4)/2, exact)
	},
	"explosive_shot": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "explosive_shot")
		if !w.s.known[spExplosiveShot] || o.s.known[spExplosiveShot] {
			t.Fatal("explosive shot known without the talent, or not with it")
		}
		w.noCrits().cast(spExplosiveShot)
		w.at(w.s.auraDur[auExplosiveShot])
		if w.dmg(abExplosiveShot) == 0 {
			t.Error("explosive shot did not explode")
		}
	},
	"blackrock_munitions": func(t *testing.T) {
		base := bmBase(t).with("explosive_shot")
		w, o := pair(t, base, "blackrock_munitions")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.cast(spExplosiveShot)
			r.at(r.s.auraDur[auExplosiveShot])
		}
		ratio(t, w, o, abExplosiveShot, 1+pct(462036, 1))
	},

	// --- beast mastery: spells the talents teach ------------------------------
	"cobra_shot":       knownCheck("cobra_shot", spCobraShot, bmBase),
	"barbed_shot":      knownCheck("barbed_shot", spBarbedShot, bmBase),
	"multi_shot":       knownCheck("multi_shot", spMultiShot, bmBase),
	"bestial_wrath":    knownCheck("bestial_wrath", spBestialWrath, bmBase),
	"bloodshed":        knownCheck("bloodshed", spBloodshed, bmBase),
	"call_of_the_wild": knownCheck("call_of_the_wild", spCallOfTheWild, bmBase),
	"rapid_fire":       knownCheck("rapid_fire", spRapidFire, mmDR),
	"trueshot":         knownCheck("trueshot", spTrueshot, mmDR),
	"volley":           knownCheck("volley", spVolley, mmDR),
}

// knownCheck is the test of talent name, which teaches sp: castable with
// it, not without.
func knownCheck(name string, sp spellID, base func(*testing.T) *Config) func(t *testing.T) {
	return func(t *testing.T) {
		w, o := pair(t, base(t), name)
		if !w.s.known[sp] || o.s.known[sp] {
			t.Fatalf("%s: known %v with the talent and %v without", castables[sp].name, w.s.known[sp], o.s.known[sp])
		}
		if (env{o.st}).CanCast(int(sp)) {
			t.Errorf("%s castable without the talent", castables[sp].name)
		}
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

// talentSuites are the talent tests by tree.
var talentSuites = []map[string]func(t *testing.T){classAndBMTests, bmMoreTests, mmTests, heroTests}

// talentTest finds the test of name.
func talentTest(name string) (func(t *testing.T), bool) {
	for _, suite := range talentSuites {
		if f, ok := suite[name]; ok {
			return f, true
		}
	}
	return nil, false
}

// TestTalents runs every talent test.
func TestTalents(t *testing.T) {
	for _, suite := range talentSuites {
		for name, f := range suite {
			t.Run(name, f)
		}
	}
}

// TestEveryTalentTested checks that every simulated talent, and every set
// bonus, has its test.
func TestEveryTalentTested(t *testing.T) {
	for i, name := range talentNames {
		if i == int(noTalent) {
			continue
		}
		if _, ok := talentTest(name); !ok {
			t.Errorf("talent %s has no test", name)
		}
	}
	for _, set := range []string{"pack_leader_2pc", "pack_leader_4pc", "dark_ranger_2pc", "dark_ranger_4pc", "sentinel_2pc", "sentinel_4pc"} {
		if _, ok := talentTest(set); !ok {
			t.Errorf("set bonus %s has no test", set)
		}
	}
}
