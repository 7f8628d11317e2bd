package engine

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	hd "wowlab/engine/hunterdata"
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

// SpellNames lists the spells a rotation of this spec can cast (a talent
// may be needed before the spell can be cast).
func (s Spec) SpellNames() []string {
	var out []string
	for _, d := range castables[:numSpells] {
		if d.specs&s.mask != 0 {
			out = append(out, d.name)
		}
	}
	return out
}

// SpellInfo describes a castable spell.
type SpellInfo struct {
	Name    string
	SpellID int
	Talent  string // the talent that teaches it, "" when every hunter of the spec has it
	Source  string // the source key of its numbers
}

// Spells lists the spells a rotation of this spec can cast.
func (s Spec) Spells() []SpellInfo {
	var out []SpellInfo
	for _, d := range castables[:numSpells] {
		if d.specs&s.mask == 0 {
			continue
		}
		out = append(out, SpellInfo{Name: d.name, SpellID: d.gameID, Talent: talentNames[d.talent], Source: sourceOf(d.gameID)})
	}
	return out
}

// TalentInfo describes a selectable talent.
type TalentInfo struct {
	Name        string
	Description string
	SpellID     int
	Tree        string // "class", "spec" or a hero tree: "pack_leader", "dark_ranger", "sentinel"
	MaxRank     int
	// Simulated is false for talents without an effect on damage (utility
	// and defensive talents), which a config may list and which change
	// nothing.
	Simulated bool
	// Granted marks a hero tree's first talent, which choosing any talent
	// of the tree brings.
	Granted bool
	// Source is the source key of the talent spell's numbers ("" when the
	// data has no numbers for it).
	Source string
}

// Talents lists the talents this spec can select by name: every entry of
// its class, spec and hero trees.
func (s Spec) Talents() []TalentInfo {
	entries, ids := talentEntries(s.mask)
	out := make([]TalentInfo, len(entries))
	for i, t := range entries {
		desc := t.Display
		if sp := hd.Lookup(t.SpellID); sp != nil && sp.Note != "" {
			desc += ": " + sp.Note
		}
		out[i] = TalentInfo{Name: t.Name, Description: desc, SpellID: t.SpellID, Tree: t.Tree.String(), MaxRank: t.MaxRank,
			Simulated: ids[i] != noTalent, Granted: ids[i] != noTalent && heroEntryOf(t.Tree) == ids[i], Source: sourceOf(t.SpellID)}
	}
	return out
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
	if err := s.checkTier(); err != nil {
		return nil, err
	}
	script, err := cfg.rotationText()
	if err != nil {
		return nil, err
	}
	if script == nil {
		script = spec.DefaultRotation()
	}
	s.derive()
	rot, err := s.parseRotation(script)
	if err != nil {
		return nil, rotationError(err)
	}
	s.rotation = rot
	// Bind the rotation once now so that every name problem is reported
	// at compile time, not by the first Run.
	st, err := newState(s)
	if err != nil {
		return nil, rotationError(s.portalProblems(err))
	}
	ws := st.prog.Warnings
	if s.translation != nil {
		ws = s.translation.PortalProblems(ws)
	}
	for _, w := range ws {
		s.warnings = append(s.warnings, rotation.Problem{Path: "rotation." + w.Path, Msg: w.Msg})
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

// RotationWarnings are what validation found questionable in the rotation
// but runs: unused variables and lists, unreachable actions, items that are
// not worn. Paths are those of the config's rotation.
func (s *Sim) RotationWarnings() rotation.Problems { return s.warnings }

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

// ungated is the Gate of a run given none: every goroutine simulates.
type ungated struct{}

func (ungated) Acquire(context.Context) error { return nil }
func (ungated) Release()                      {}

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
		totals [numAbilities]tally
	)
	const batch = 16
	seed := uint64(s.cfg.Seed)
	gate := opts.Gate
	if gate == nil {
		gate = ungated{}
	}
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
			var local [numAbilities]tally
			var localEvents int64
			for ctx.Err() == nil {
				if gate.Acquire(ctx) != nil {
					break
				}
				start := int(next.Add(batch)) - batch
				if start >= n {
					gate.Release()
					break
				}
				for i := start; i < min(start+batch, n); i++ {
					g := offset + i
					v := st.run(seed + uint64(g))
					if math.IsNaN(v) || math.IsInf(v, 0) {
						mu.Lock()
						first = cmpErr(first, &EngineError{Iteration: g, Msg: "damage is not a finite number"})
						mu.Unlock()
						gate.Release()
						return
					}
					dps[i] = v
					localEvents += st.events
					if opts.Breakdown {
						for a := range local {
							local[a].dmg += int64(math.Round(st.ab[a].dmg * 1000))
							local[a].casts += int64(st.ab[a].casts)
							local[a].hits += int64(st.ab[a].hits)
							local[a].crits += int64(st.ab[a].crits)
						}
					}
				}
				gate.Release()
				d := done.Add(int64(min(start+batch, n) - start))
				if opts.Progress != nil {
					opts.Progress(int(d))
				}
			}
			events.Add(localEvents)
			if opts.Breakdown {
				mu.Lock()
				for a := range local {
					totals[a].add(local[a])
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
	r.Patch = hd.Patch
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
			share, critRate := 0.0, 0.0
			if total > 0 {
				share = float64(t.dmg) / float64(total)
			}
			if t.hits > 0 {
				critRate = float64(t.crits) / float64(t.hits)
			}
			r.Abilities = append(r.Abilities, AbilityStats{
				Name: info.name, Actor: info.actor.String(), SpellID: info.gameID, Damage: dmg,
				DamagePerIteration: dmg / float64(n),
				CastsPerIteration:  float64(t.casts) / float64(n),
				HitsPerIteration:   float64(t.hits) / float64(n),
				CritRate:           critRate,
				DamageShare:        share,
			})
		}
		sort.SliceStable(r.Abilities, func(i, j int) bool { return r.Abilities[i].Damage > r.Abilities[j].Damage })
	}
	return r, nil
}

// tally is one breakdown line's totals over a batch: damage in thousandths,
// summed exactly, so any split of the batch gives the same totals.
type tally struct{ dmg, casts, hits, crits int64 }

func (t *tally) add(o tally) {
	t.dmg += o.dmg
	t.casts += o.casts
	t.hits += o.hits
	t.crits += o.crits
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

// ValidateRotation checks a rotation script (this language or the original
// portal's saved format) against a spec (any accepted spelling) and returns
// every problem with its JSON path, or nil, and the warnings: what runs but
// looks wrong. Talent conditions are checked as if no talent were selected;
// names in branches that a talent would drop are still checked. No trinket
// is worn.
func ValidateRotation(script []byte, spec string) (problems, warnings rotation.Problems) {
	s, err := validationSim(spec)
	if err != nil {
		return rotation.Problems{{Msg: err.Error()}}, nil
	}
	rot, err := s.parseRotation(script)
	if err != nil {
		return problemsOf(err), nil
	}
	s.rotation = rot
	st, err := newState(s)
	if err != nil {
		return problemsOf(s.portalProblems(err)), nil
	}
	warnings = st.prog.Warnings
	if s.translation != nil {
		warnings = s.translation.PortalProblems(warnings)
	}
	return nil, warnings
}

// TranslateRotation turns a rotation saved by the original portal into
// this language for spec, or returns the problems that refuse it. data is
// the rotation, or a config document whose rotation it is (then the
// config's spec and trinkets count, and spec is ignored).
func TranslateRotation(data []byte, spec string) ([]byte, rotation.Problems) {
	var s *Sim
	script := data
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) == nil && top["player"] != nil {
		cfg, err := ParseConfig(data)
		if err != nil {
			return nil, problemsOf(err)
		}
		sp, err := LookupSpec(cfg.Player.Spec)
		if err != nil {
			return nil, rotation.Problems{{Path: "player.spec", Msg: err.Error()}}
		}
		if script, err = cfg.rotationText(); err != nil {
			return nil, problemsOf(err)
		}
		s = &Sim{cfg: cfg, spec: sp.mask, specName: sp.Name}
		s.derive()
	} else {
		var err error
		if s, err = validationSim(spec); err != nil {
			return nil, rotation.Problems{{Msg: err.Error()}}
		}
	}
	if !rotation.IsPortal(script) {
		return nil, rotation.Problems{{Msg: "not a rotation saved by the portal (an object with defaultListId and a list of lists); it is this language already"}}
	}
	if _, err := s.parseRotation(script); err != nil {
		return nil, problemsOf(err)
	}
	return s.translation.Script, nil
}

// validationSim is a Sim of spec with a plain config, for checking a
// rotation on its own.
func validationSim(spec string) (*Sim, error) {
	sp, err := LookupSpec(spec)
	if err != nil {
		return nil, err
	}
	cfg := &Config{
		Player: Player{
			Spec: sp.Name, Resources: Resources{Type: "focus", Max: 100, RegenPerSecond: 5, Initial: 100},
			WeaponSpeed: 3, WeaponDmg: [2]float64{500, 700},
		},
		Duration: 300,
		Target:   Target{LevelDiff: 3, MaxHealth: 1e7, Count: 1},
	}
	s := &Sim{cfg: cfg, spec: sp.mask, specName: sp.Name}
	s.derive()
	return s, nil
}

// parseRotation reads a rotation script in this language or in the
// original portal's saved format, which it translates first (keeping the
// translation, whose paths portalProblems maps back).
func (s *Sim) parseRotation(script []byte) (*rotation.Rotation, error) {
	if !rotation.IsPortal(script) {
		return rotation.Parse(script)
	}
	tr, err := rotation.TranslatePortal(script, portalNames{s})
	if err != nil {
		return nil, err
	}
	s.translation = tr
	rot, err := rotation.Parse(tr.Script)
	if err != nil {
		return nil, tr.PortalProblems(problemsOf(err))
	}
	return rot, nil
}

// portalProblems maps the paths of problems in a translated portal
// rotation back to the portal document's.
func (s *Sim) portalProblems(err error) error {
	var ps rotation.Problems
	if s.translation == nil || !errors.As(err, &ps) {
		return err
	}
	return s.translation.PortalProblems(ps)
}

// portalNames resolves the game ids of a portal rotation with the
// engine's tables (rotation.PortalNames).
type portalNames struct{ s *Sim }

func (n portalNames) SpellName(id int) (string, bool) {
	for _, d := range castables[:numSpells] {
		if d.gameID == id {
			return d.name, true
		}
	}
	return "", false
}

func (n portalNames) AuraName(id int) (string, bool) {
	for _, a := range auras[:numAuras] {
		if a.gameID == id {
			return a.name, true
		}
	}
	return "", false
}

func (n portalNames) ItemName(id int) (string, bool) {
	for _, t := range n.s.trinkets {
		if t.worn && t.itemID == id {
			return t.name, true
		}
	}
	return "", false
}

func problemsOf(err error) rotation.Problems {
	var ps rotation.Problems
	if errors.As(err, &ps) {
		return ps
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return rotation.Problems{{Path: ce.Path, Msg: ce.Msg}}
	}
	return rotation.Problems{{Msg: err.Error()}}
}
