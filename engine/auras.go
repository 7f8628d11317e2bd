package engine

import hd "wowlab/engine/hunterdata"

// auraID names a buff or debuff the engine tracks.
type auraID uint8

const (
	auBestialWrath auraID = iota
	auFrenzy
	auBeastCleave
	auCallOfTheWild
	auThrill
	auSerpentineRhythm
	auSerpentineBlessing
	auHogstrider
	auHowlWyvern
	auHowlBoar
	auHowlBear
	auHowlCooldown
	auWyvernsCry
	auLeadFromTheFront
	auSummonFenryr
	auSummonHati
	auWitheringFire
	auTheBellTolls
	auDeathblow
	auRazorFragments
	auTrueshot
	auPreciseShots
	auStreamline
	auLockAndLoad
	auTrickShots
	auInTheRhythm
	auOnTarget
	auMovingTarget
	auBulletstorm
	auDoubleTap
	auVolley
	auBullseye
	auLunarStormReady
	auLunarStormCooldown
	auEyesClosed
	auBoonOfElune
	auBoonOfEluneStorm
	auBlightedQuiver
	auGrizzledFur
	auHastedHooves
	auSharpenedFangs
	auBloodlust
	auHuntmastersCall
	// debuffs on the primary target
	auSpottersMark
	auSentinel
	auWildInstincts
	auKillZone
	auLunarStormDebuff
	// damage over time on the primary target (see dots.go)
	auBarbedShot
	auBloodshedDot
	auBlackArrowDot
	auLaceration
	auRendFlesh
	auMurderOfCrows
	auRazorBleed
	auMasterMarksman
	auRavenousLeap
	auExplosiveShot
	numAuras
)

// auraData is an aura's static data. Durations and stack limits come from
// the spell of gameID; talents change some at compile time (Sim.auraDur,
// Sim.auraMax).
type auraData struct {
	name   string
	gameID int
	pet    bool // lives on the pet (pet.buff.<name>)
	debuff bool // lives on the target (debuff./dot.<name>)
}

var auras = [numAuras]auraData{
	auBestialWrath:       {"bestial_wrath", 19574, false, false},
	auFrenzy:             {"frenzy", 272790, true, false},
	auBeastCleave:        {"beast_cleave", 268877, true, false},
	auCallOfTheWild:      {"call_of_the_wild", 359844, false, false},
	auThrill:             {"thrill_of_the_hunt", 257946, false, false},
	auSerpentineRhythm:   {"serpentine_rhythm", 468703, false, false},
	auSerpentineBlessing: {"serpentine_blessing", 468704, false, false},
	auHogstrider:         {"hogstrider", 472640, false, false},
	auHowlWyvern:         {"howl_of_the_pack_leader_wyvern", 471878, false, false},
	auHowlBoar:           {"howl_of_the_pack_leader_boar", 472324, false, false},
	auHowlBear:           {"howl_of_the_pack_leader_bear", 472325, false, false},
	auHowlCooldown:       {"howl_of_the_pack_leader_cooldown", 471877, false, false},
	auWyvernsCry:         {"wyverns_cry", 471881, false, false},
	auLeadFromTheFront:   {"lead_from_the_front", 472743, false, false},
	auSummonFenryr:       {"summon_fenryr", 459735, false, false},
	auSummonHati:         {"summon_hati", 459738, false, false},
	auWitheringFire:      {"withering_fire", 466991, false, false},
	auTheBellTolls:       {"the_bell_tolls", 1232992, false, false},
	auDeathblow:          {"deathblow", 378770, false, false},
	auRazorFragments:     {"razor_fragments", 388998, false, false},
	auTrueshot:           {"trueshot", 288613, false, false},
	auPreciseShots:       {"precise_shots", 260242, false, false},
	auStreamline:         {"streamline", 342076, false, false},
	auLockAndLoad:        {"lock_and_load", 194594, false, false},
	auTrickShots:         {"trick_shots", 257622, false, false},
	auInTheRhythm:        {"in_the_rhythm", 407405, false, false},
	auOnTarget:           {"on_target", 474257, false, false},
	auMovingTarget:       {"moving_target", 474293, false, false},
	auBulletstorm:        {"bulletstorm", 389020, false, false},
	auDoubleTap:          {"double_tap", 260402, false, false},
	auVolley:             {"volley", 260243, false, false},
	auBullseye:           {"bullseye", 204090, false, false},
	auLunarStormReady:    {"lunar_storm_ready", 451805, false, false},
	auLunarStormCooldown: {"lunar_storm_cooldown", 451803, false, false},
	auEyesClosed:         {"eyes_closed", 451180, false, false},
	auBoonOfElune:        {"boon_of_elune", 1236644, false, false},
	auBoonOfEluneStorm:   {"boon_of_elune_storm", 1249464, false, false},
	auBlightedQuiver:     {"blighted_quiver", 1236975, false, false},
	auGrizzledFur:        {"grizzled_fur", 1236564, false, false},
	auHastedHooves:       {"hasted_hooves", 1236565, false, false},
	auSharpenedFangs:     {"sharpened_fangs", 1236566, false, false},
	auBloodlust:          {"bloodlust", 2825, false, false},
	auHuntmastersCall:    {"huntmasters_call", 459731, false, false},
	auSpottersMark:       {"spotters_mark", 466872, false, true},
	auSentinel:           {"sentinel", 450387, false, true},
	auWildInstincts:      {"wild_instincts", 424567, false, true},
	auKillZone:           {"kill_zone", 393480, false, true},
	auLunarStormDebuff:   {"lunar_storm", 450884, false, true},
	auBarbedShot:         {"barbed_shot", 217200, false, true},
	auBloodshedDot:       {"bloodshed", 321538, false, true},
	auBlackArrowDot:      {"black_arrow", 468572, false, true},
	auLaceration:         {"laceration", 459560, false, true},
	auRendFlesh:          {"rend_flesh", 471999, false, true},
	auMurderOfCrows:      {"a_murder_of_crows", 131894, false, true},
	auRazorBleed:         {"razor_fragments_bleed", 385638, false, true},
	auMasterMarksman:     {"master_marksman", 269576, false, true},
	auRavenousLeap:       {"ravenous_leap", 459753, false, true},
	auExplosiveShot:      {"explosive_shot", 212431, false, true},
}

// touch notes that aura a is about to change: pets and lazily ticked
// effects that read it are first brought up to now.
func (st *state) touch(a auraID) {
	st.changed = true
	if settleBefore[a] {
		st.settle()
		st.invalidate()
	}
}

// settleBefore marks the auras that pets' swings or lazily ticked
// periodic effects read: a change of one must find them settled.
var settleBefore = [numAuras]bool{
	auBestialWrath: true, auFrenzy: true, auBeastCleave: true, auThrill: true, auSerpentineBlessing: true,
	auWyvernsCry: true, auLeadFromTheFront: true, auSummonHati: true, auTrueshot: true, auBullseye: true,
	auSharpenedFangs: true, auWildInstincts: true, auLunarStormDebuff: true, auKillZone: true, auTheBellTolls: true,
	auGrizzledFur: true, auSummonFenryr: true, auHastedHooves: true, auBloodlust: true, auOnTarget: true,
}

// auraSpell is the spell data of an aura.
func auraSpell(a auraID) *hd.Spell { return hd.Get(auras[a].gameID) }

// --- aura bookkeeping ---------------------------------------------------

func (st *state) auraActive(a auraID) bool { return st.auras[a].end > st.now }

func (st *state) auraStacks(a auraID) int {
	if st.auras[a].end > st.now {
		return int(st.auras[a].stacks)
	}
	return 0
}

func (st *state) auraRemaining(a auraID) int64 {
	if r := st.auras[a].end - st.now; r > 0 {
		return r
	}
	return 0
}

// applyAura applies or refreshes a: a refresh adds stacks up to the
// maximum and restarts the duration.
func (st *state) applyAura(a auraID, stacks int8) {
	st.applyAuraFor(a, stacks, st.sim.auraDur[a])
}

// applyAuraFor is applyAura with a duration other than the aura's own.
//
// Refreshing an active aura without changing its stacks leaves it as it
// was up to now, so what has not been settled yet need not be: only its
// end moves, and a pet window ending at the old end merely recomputes
// there.
func (st *state) applyAuraFor(a auraID, stacks int8, dur int64) {
	au := &st.auras[a]
	maxStacks := st.sim.auraMax[a]
	if au.end > st.now {
		if n := min(au.stacks+stacks, maxStacks); n != au.stacks {
			st.touch(a)
			au.stacks = n
		} else {
			st.changed = true
		}
	} else {
		st.touch(a)
		au.stacks = min(stacks, maxStacks)
		au.gen++
	}
	if dur >= never-st.now {
		au.end = never
	} else {
		au.end = st.now + dur
	}
}

// addStacks adds stacks to an active aura without refreshing it.
func (st *state) addStacks(a auraID, stacks int8) {
	au := &st.auras[a]
	if n := min(au.stacks+stacks, st.sim.auraMax[a]); au.end > st.now && n != au.stacks {
		st.touch(a)
		au.stacks = n
	}
}

// expireAura ends a now.
func (st *state) expireAura(a auraID) {
	if st.auras[a].end > st.now {
		st.touch(a)
		st.auras[a].end = st.now
		st.auras[a].stacks = 0
	}
}

// consumeStack removes one stack of a, ending it at the last.
func (st *state) consumeStack(a auraID) {
	au := &st.auras[a]
	if au.end > st.now {
		st.touch(a)
		au.stacks--
		if au.stacks <= 0 {
			au.end = st.now
		}
	}
}

// applyTimedAura applies an aura whose start and end change haste, mastery
// or recharge rates, with an expiry event.
func (st *state) applyTimedAura(a auraID, dur int64) {
	st.settle()
	au := &st.auras[a]
	was := au.end > st.now
	st.touch(a)
	au.gen++
	au.stacks = 1
	au.end = st.now + dur
	st.schedule(au.end, event{kind: evAuraExpire, a: uint8(a), gen: au.gen})
	if !was {
		st.ratesChanged(a, true)
	}
}

// startTimedAt starts timed aura a at time t, which may lie before now
// when settle finds it: haste catches up at once after the current event.
func (st *state) startTimedAt(a auraID, t, dur int64) {
	au := &st.auras[a]
	st.touch(a)
	au.gen++
	au.stacks = 1
	au.end = t + dur
	if au.end > st.now {
		st.schedule(au.end, event{kind: evAuraExpire, a: uint8(a), gen: au.gen})
	}
	st.schedule(st.now, event{kind: evOnTargetEnd})
}

// extendTimedAura lengthens an active timed aura by d.
func (st *state) extendTimedAura(a auraID, d int64) {
	au := &st.auras[a]
	if au.end <= st.now || d <= 0 {
		return
	}
	st.touch(a)
	au.gen++
	au.end += d
	st.schedule(au.end, event{kind: evAuraExpire, a: uint8(a), gen: au.gen})
}

func (st *state) auraExpired(a auraID) {
	st.changed = true
	st.invalidate()
	st.ratesChanged(a, false)
	switch a {
	case auWitheringFire:
		st.blighted = 0
	}
}

// ratesChanged updates what a timed aura's start or end changes.
func (st *state) ratesChanged(a auraID, started bool) {
	switch a {
	case auTrueshot:
		f := st.sim.p.trueshotRecharge
		if !started {
			f = 1 / f
			st.tensileExtended = 0
		}
		// Recharges in progress speed up or slow down with the rate.
		st.scaleCd(spAimedShot, 1/f)
		st.scaleCd(spRapidFire, 1/f)
		st.recomputeHaste()
	case auGrizzledFur:
		st.settle()
		st.invalidate()
		if started {
			st.mastery += st.sim.p.pl2pcStat * 100
		} else {
			st.mastery -= st.sim.p.pl2pcStat * 100
		}
	case auBloodlust, auSummonFenryr, auHastedHooves, auOnTarget:
		st.recomputeHaste()
	}
}
