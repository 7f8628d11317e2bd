package engine

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"wowlab/engine/rotation"
)

//go:embed rotations/*.json
var defaultRotations embed.FS

// Spec is a specialisation the engine simulates.
type Spec struct {
	// Name is the canonical spelling used in configs ("beast_mastery").
	Name string
	// Aliases are the other accepted spellings.
	Aliases []string
	mask    specMask
	file    string
}

// Specs lists the simulated specialisations.
func Specs() []Spec {
	return []Spec{
		{Name: "beast_mastery", Aliases: []string{"beastmastery", "bm", "bm_hunter", "bm-hunter"}, mask: bm, file: "rotations/beast_mastery.json"},
		{Name: "marksmanship", Aliases: []string{"mm", "mm_hunter", "mm-hunter"}, mask: mm, file: "rotations/marksmanship.json"},
	}
}

// LookupSpec finds a spec by any accepted spelling, ignoring case.
func LookupSpec(name string) (Spec, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	var all []string
	for _, s := range Specs() {
		if n == s.Name {
			return s, nil
		}
		for _, a := range s.Aliases {
			if n == a {
				return s, nil
			}
		}
		all = append(all, s.Name)
		all = append(all, s.Aliases...)
	}
	if strings.Contains(n, "surv") || n == "sv" {
		return Spec{}, fmt.Errorf("survival hunters are not simulated yet; use beast_mastery or marksmanship")
	}
	return Spec{}, errors.New((&rotation.UnknownNameError{Kind: "spec", Name: name, Candidates: all}).Error() + " (specs: beast_mastery, marksmanship)")
}

// DefaultRotation returns the bundled default rotation script of a spec.
func (s Spec) DefaultRotation() []byte {
	b, err := defaultRotations.ReadFile(s.file)
	if err != nil {
		panic("engine: bundled rotation missing: " + err.Error()) // the files are embedded at build time
	}
	return b
}

// SpellNames lists the spells a rotation of this spec can cast.
func (s Spec) SpellNames() []string {
	var out []string
	for _, d := range spells {
		if d.specs&s.mask != 0 {
			out = append(out, d.name)
		}
	}
	return out
}

// TalentInfo describes a selectable talent.
type TalentInfo struct {
	Name        string
	Description string
}

// Talents lists the talents this spec can select by name.
func (s Spec) Talents() []TalentInfo {
	var out []TalentInfo
	for _, t := range talents {
		if t.specs&s.mask != 0 {
			out = append(out, TalentInfo{Name: t.name, Description: t.desc})
		}
	}
	return out
}

// Sim is a compiled config: everything fixed for the whole batch. It is
// safe for concurrent use; each Run builds its own fight states.
type Sim struct {
	cfg      *Config
	spec     specMask
	specName string
	rotation *rotation.Rotation
	talent   [numTalents]bool
	charges  [numSpells]int8
	// dynamicCost marks spells whose cost is not spells[sp].cost: costOf
	// works it out.
	dynamicCost [numSpells]bool
	// rateRecharges are the spells whose recharge haste or Trueshot change.
	rateRecharges []spellID

	durationMs int64
	targets    int
	focusMax   float64
	ap, petAp  float64
	crit, vers float64
	haste      float64 // 1 + haste
	mastery    float64
	armorMult  float64
	physMult   float64 // versatility and armor, for physical hits
	magicMult  float64 // versatility, for magic hits
	playerMult float64
	petMult    float64

	states sync.Pool
}

// Compile parses and checks a config document and its rotation. It returns
// a *ConfigError that names the problem's JSON path when the config cannot
// run.
func Compile(config []byte) (*Sim, error) {
	cfg, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	spec, err := LookupSpec(cfg.Player.Spec)
	if err != nil {
		return nil, &ConfigError{Path: "player.spec", Msg: err.Error()}
	}
	s := &Sim{cfg: cfg, spec: spec.mask, specName: spec.Name}
	if err := s.setTalents(); err != nil {
		return nil, err
	}
	script, err := cfg.rotationText()
	if err != nil {
		return nil, err
	}
	if script == nil {
		script = spec.DefaultRotation()
	}
	rot, err := rotation.Parse(script)
	if err != nil {
		return nil, rotationError(err)
	}
	s.rotation = rot
	s.derive()
	// Bind the rotation once now so that every name problem is reported
	// at compile time, not by the first Run.
	st, err := newState(s)
	if err != nil {
		return nil, rotationError(err)
	}
	s.states.Put(st)
	return s, nil
}

func rotationError(err error) error {
	var ps rotation.Problems
	if errors.As(err, &ps) && len(ps) > 0 {
		p := ps[0]
		path := "rotation"
		if p.Path != "" {
			path += "." + p.Path
		}
		msg := p.Msg
		if len(ps) > 1 {
			msg += fmt.Sprintf(" (and %d more problems; run `engine validate` on the rotation to see them all)", len(ps)-1)
		}
		return &ConfigError{Path: path, Msg: msg}
	}
	return &ConfigError{Path: "rotation", Msg: err.Error()}
}

func (s *Sim) setTalents() error {
	names := make([]string, 0, numTalents)
	for _, t := range talents {
		if t.specs&s.spec != 0 {
			names = append(names, t.name)
		}
	}
	for i, raw := range s.cfg.Player.Talents {
		name := strings.ToLower(strings.TrimSpace(raw))
		found := false
		for id, t := range talents {
			if t.name != name {
				continue
			}
			if t.specs&s.spec == 0 {
				return &ConfigError{Path: fmt.Sprintf("player.talents[%d]", i), Msg: fmt.Sprintf("talent %q is not a %s talent", name, s.specName)}
			}
			s.talent[id], found = true, true
		}
		if !found {
			return &ConfigError{Path: fmt.Sprintf("player.talents[%d]", i), Msg: (&rotation.UnknownNameError{Kind: "talent", Name: raw, Candidates: names}).Error()}
		}
	}
	return nil
}

// derive computes the per-batch constants from the config.
func (s *Sim) derive() {
	c := s.cfg
	st := c.Player.Stats
	pct := func(override *float64, rating, per1 float64) float64 {
		if override != nil {
			return *override / 100
		}
		return rating / per1 / 100
	}
	s.crit = pct(st.CritPct, st.CritRating, critRatingPer1)
	if st.CritPct == nil {
		s.crit += baseCritPct / 100.0
	}
	s.haste = 1 + pct(st.HastePct, st.HasteRating, hasteRatingPer1)
	s.mastery = pct(st.MasteryPct, st.MasteryRating, mastRatingPer1)
	s.vers = 1 + pct(st.VersatilityPct, st.VersatilityRating, versRatingPer1)
	s.ap = st.Agility // one attack power per agility for agility specs
	s.petAp = s.ap * petApShare
	s.durationMs = ms(c.Duration)
	s.targets = c.Target.Count
	s.focusMax = c.Player.Resources.Max
	s.armorMult = 1 - math.Min(armorCap, c.Target.Armor/(c.Target.Armor+armorConstant))
	s.physMult, s.magicMult = s.vers*s.armorMult, s.vers
	s.playerMult, s.petMult = 1, 1
	switch s.spec {
	case bm:
		s.petMult *= 1 + s.mastery // Mastery: Master of Beasts, as shown on the character sheet
		if s.talent[tTrainingExpert] {
			s.petMult *= 1 + trainingExpert
		}
		if s.talent[tAnimalCompanion] {
			s.petMult *= 1 - companionPenalty
		}
	case mm:
		s.playerMult *= 1 + s.mastery // Mastery: Sniper Training, as shown on the character sheet
		if s.talent[tLoneWolf] {
			s.playerMult *= 1 + loneWolfDmg
		}
	}
	s.dynamicCost[spMultiShot] = true
	s.dynamicCost[spArcaneShot] = true
	s.dynamicCost[spAimedShot] = true
	for i, d := range spells {
		if d.hasted || spellID(i) == spAimedShot || spellID(i) == spRapidFire {
			s.rateRecharges = append(s.rateRecharges, spellID(i))
		}
		s.charges[i] = int8(d.charges)
		if spellID(i) == spKillCommand && s.talent[tAlphaPredator] {
			s.charges[i] = 2
		}
	}
}

// Config returns the parsed config the Sim was compiled from.
func (s *Sim) Config() *Config { return s.cfg }

// SpecName is the canonical name of the simulated spec.
func (s *Sim) SpecName() string { return s.specName }

func (s *Sim) getState() (*state, error) {
	if st, ok := s.states.Get().(*state); ok {
		return st, nil
	}
	st, err := newState(s)
	if err != nil {
		return nil, rotationError(err)
	}
	return st, nil
}

// Run simulates iterations [offset, offset+n). Iteration g uses RNG seed
// config.seed + g, so the per-iteration results do not depend on how a job
// is split into calls, threads or machines. n is at most MaxIterations.
func (s *Sim) Run(ctx context.Context, offset, n int, opts RunOptions) (*Result, error) {
	if n < 1 || n > MaxIterations {
		return nil, &ConfigError{Path: "iterations", Msg: fmt.Sprintf("must be between 1 and %d, got %d", MaxIterations, n)}
	}
	if offset < 0 || offset > math.MaxInt-n {
		return nil, &ConfigError{Path: "offset", Msg: fmt.Sprintf("must be between 0 and %d, got %d", math.MaxInt-n, offset)}
	}
	threads := max(1, min(opts.Threads, n, runtime.GOMAXPROCS(0)*4))
	dps := make([]float64, n)
	var (
		next   atomic.Int64
		done   atomic.Int64
		events atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		first  error
		totals [numAbilities]struct {
			dmg   int64 // thousandths, summed exactly so any split gives the same totals
			casts int64
		}
	)
	const batch = 16
	seed := uint64(s.cfg.Seed)
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := s.getState()
			if err != nil {
				mu.Lock()
				first = cmpErr(first, err)
				mu.Unlock()
				return
			}
			defer s.states.Put(st)
			var local [numAbilities]struct{ dmg, casts int64 }
			var localEvents int64
			for ctx.Err() == nil {
				start := int(next.Add(batch)) - batch
				if start >= n {
					break
				}
				for i := start; i < min(start+batch, n); i++ {
					g := offset + i
					v := st.run(seed + uint64(g))
					if math.IsNaN(v) || math.IsInf(v, 0) {
						mu.Lock()
						first = cmpErr(first, &EngineError{Iteration: g, Msg: "damage is not a finite number"})
						mu.Unlock()
						return
					}
					dps[i] = v
					localEvents += st.events
					if opts.Breakdown {
						for a := range local {
							local[a].dmg += int64(math.Round(st.dmg[a] * 1000))
							local[a].casts += int64(st.casts[a])
						}
					}
				}
				d := done.Add(int64(min(start+batch, n) - start))
				if opts.Progress != nil {
					opts.Progress(int(d))
				}
			}
			events.Add(localEvents)
			if opts.Breakdown {
				mu.Lock()
				for a := range local {
					totals[a].dmg += local[a].dmg
					totals[a].casts += local[a].casts
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := summarize(dps)
	r.Events = events.Load()
	if opts.KeepDps {
		r.Dps = dps
	}
	if opts.Breakdown {
		var total int64
		for _, t := range totals {
			total += t.dmg
		}
		for a, t := range totals {
			if t.casts == 0 && t.dmg == 0 {
				continue
			}
			info := abilities[a]
			dmg := float64(t.dmg) / 1000
			share := 0.0
			if total > 0 {
				share = float64(t.dmg) / float64(total)
			}
			r.Abilities = append(r.Abilities, AbilityStats{
				Name: info.name, Actor: info.actor, Damage: dmg,
				DamagePerIteration: dmg / float64(n),
				CastsPerIteration:  float64(t.casts) / float64(n),
				DamageShare:        share,
			})
		}
		sort.SliceStable(r.Abilities, func(i, j int) bool { return r.Abilities[i].Damage > r.Abilities[j].Damage })
	}
	return r, nil
}

// cmpErr keeps the error of the lowest iteration, so the reported error
// does not depend on scheduling.
func cmpErr(cur, next error) error {
	if cur == nil {
		return next
	}
	var a, b *EngineError
	if errors.As(cur, &a) && errors.As(next, &b) && b.Iteration < a.Iteration {
		return next
	}
	return cur
}

// summarize computes count, mean, sample standard deviation, min and max
// in iteration order.
func summarize(dps []float64) *Result {
	r := &Result{Iterations: len(dps), MinDps: math.Inf(1), MaxDps: math.Inf(-1)}
	var sum float64
	for _, v := range dps {
		sum += v
		r.MinDps = math.Min(r.MinDps, v)
		r.MaxDps = math.Max(r.MaxDps, v)
	}
	r.MeanDps = sum / float64(len(dps))
	if len(dps) > 1 {
		var ss float64
		for _, v := range dps {
			d := v - r.MeanDps
			ss += d * d
		}
		r.StdDps = math.Sqrt(ss / float64(len(dps)-1))
	}
	return r
}

// ValidateRotation checks a rotation script against a spec (any accepted
// spelling) and returns every problem with its JSON path, or nil. Talent
// conditions are checked as if no talent were selected; names in branches
// that a talent would drop are still checked.
func ValidateRotation(script []byte, spec string) rotation.Problems {
	sp, err := LookupSpec(spec)
	if err != nil {
		return rotation.Problems{{Msg: err.Error()}}
	}
	rot, err := rotation.Parse(script)
	if err != nil {
		return problemsOf(err)
	}
	cfg := &Config{
		Player: Player{
			Spec: sp.Name, Resources: Resources{Type: "focus", Max: 100, RegenPerSecond: 5, Initial: 100},
			WeaponSpeed: 3, WeaponDmg: [2]float64{500, 700},
		},
		Duration: 300,
		Target:   Target{LevelDiff: 3, MaxHealth: 1e7, Count: 1},
	}
	s := &Sim{cfg: cfg, spec: sp.mask, specName: sp.Name, rotation: rot}
	s.derive()
	if _, err := newState(s); err != nil {
		return problemsOf(err)
	}
	return nil
}

func problemsOf(err error) rotation.Problems {
	var ps rotation.Problems
	if errors.As(err, &ps) {
		return ps
	}
	return rotation.Problems{{Msg: err.Error()}}
}
