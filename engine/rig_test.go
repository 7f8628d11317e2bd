package engine

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	hd "wowlab/engine/hunterdata"
)

// exampleConfig loads a bundled example as a Config to change in a test.
func exampleConfig(t testing.TB, name string) *Config {
	t.Helper()
	c, err := ParseConfig(loadExample(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clone is a deep copy of c as far as tests change it.
func (c *Config) clone() *Config {
	d := *c
	d.Player.Talents = append([]string(nil), c.Player.Talents...)
	return &d
}

// talentName is a config talent entry without its rank.
func talentName(entry string) string {
	name, _, _ := strings.Cut(entry, ":")
	return name
}

// with returns a copy of c with the talent entries added (replacing the
// same talents at another rank).
func (c *Config) with(entries ...string) *Config {
	d := c.without(entries...)
	d.Player.Talents = append(d.Player.Talents, entries...)
	return d
}

// without returns a copy of c without the named talents.
func (c *Config) without(entries ...string) *Config {
	d := c.clone()
	drop := map[string]bool{}
	for _, e := range entries {
		drop[talentName(e)] = true
	}
	kept := d.Player.Talents[:0]
	for _, e := range d.Player.Talents {
		if !drop[talentName(e)] {
			kept = append(kept, e)
		}
	}
	d.Player.Talents = kept
	return d
}

// has reports whether c selects the talent.
func (c *Config) hasTalent(name string) bool {
	for _, e := range c.Player.Talents {
		if talentName(e) == name {
			return true
		}
	}
	return false
}

// quiet returns a copy of c without the raid's buffs and debuffs and
// Bloodlust, so that a test sees only what it changes.
func (c *Config) quiet() *Config {
	d := c.clone()
	d.Raid = Raid{}
	return d
}

func compileConfig(t testing.TB, c *Config) *Sim {
	t.Helper()
	doc, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rig is a fight at its start with nothing scheduled, for driving the
// mechanics one call at a time.
type rig struct {
	t  *testing.T
	s  *Sim
	st *state
}

// newRig compiles c and returns its fight at time 0 with an empty queue
// and the timers off.
func newRig(t *testing.T, c *Config) *rig {
	t.Helper()
	s := compileConfig(t, c)
	st, err := newState(s)
	if err != nil {
		t.Fatal(err)
	}
	st.reset(42)
	st.q.reset()
	st.timer = [numTimers]int64{never, never}
	return &rig{t: t, s: s, st: st}
}

// noCrits makes nothing critically strike in r (the chance stays below 0
// whatever auras add), so that damage is the plain formula.
func (r *rig) noCrits() *rig {
	r.s.crit = -10
	r.st.invalidate()
	return r
}

// at moves r's clock to t, handling the events due by then and settling
// the pets and periodic effects.
func (r *rig) at(t int64) {
	for len(r.st.q.items) > 0 && int64(r.st.q.items[0].key>>32) <= t {
		r.st.step()
	}
	r.st.now = t
	r.st.settle()
}

// dmg is the damage line ab has done so far.
func (r *rig) dmg(ab abilityID) float64 { return r.st.ab[ab].dmg }

// cast executes sp's effects now, without its cost, cooldown or GCD.
func (r *rig) cast(sp spellID) { r.st.execute(sp) }

// near fails t unless got is want within relative tolerance tol.
func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol*math.Max(math.Abs(want), 1e-300) {
		t.Errorf("%s = %.12g, want %.12g (tolerance %g)", what, got, want, tol)
	}
}

// pct is effect n of spell id as a fraction, read straight from the data.
func pct(id, n int) float64 { return hd.Get(id).Pct(n) }

// eff is effect n of spell id.
func eff(id, n int) float64 { return hd.Get(id).Eff(n) }

// breakdown runs s for n iterations from seed 0 on one thread and returns
// its lines by name.
func breakdown(t testing.TB, s *Sim, n int) map[string]AbilityStats {
	t.Helper()
	r, err := s.Run(context.Background(), 0, n, RunOptions{Threads: 1, Breakdown: true})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]AbilityStats{}
	for _, a := range r.Abilities {
		m[a.Name] = a
	}
	return m
}
