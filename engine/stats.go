// This file compiles a config into the fight's constants: the character's
// stats at level 80, every spell's numbers from package hunterdata, and the
// multipliers that do not change during a fight.

package engine

import (
	"fmt"
	"math"
	"sync"

	hd "wowlab/engine/hunterdata"
	"wowlab/engine/rotation"
)

// Sim is a compiled config: everything fixed for the whole batch. It is
// safe for concurrent use; each Run builds its own fight states.
type Sim struct {
	cfg           *Config
	spec          specMask
	specName      string
	rotation      *rotation.Rotation
	translation   *rotation.Translation // the rotation was saved by the original portal
	warnings      rotation.Problems
	trinkets      [maxTrinkets]trinketSpec
	trinketProcs  bool // a worn trinket procs on casts
	rank          [numTalents]int8
	pickedNames   []string  // every talent entry selected, simulated or not
	hero          hd.Tree   // 0: no hero tree
	ohnahranWinds float64   // Ohn'ahran Winds' mark on a second target
	overwatchAt   int64     // when the targets fall below Overwatch's and Crescent Steel's health
	petAuras      []auraID  // the auras of petAuras this build can have
	hastedCds     []spellID // known spells whose cooldowns haste shortens
	rateCds       []spellID // known spells whose recharge haste or Trueshot changes
	tier          int       // pieces of the Season 3 set

	known       [idSpace]bool
	charges     [idSpace]int8
	baseCd      [idSpace]float64 // seconds, before haste
	cost        [idSpace]float64
	dynamicCost [idSpace]bool // cost is not cost[sp]: costOf works it out

	durationMs int64
	targets    int
	focusMax   float64
	regenBase  float64 // focus per second before haste

	ap, petAp  float64
	crit       float64 // critical strike chance, a fraction
	critDmg    float64 // the critical damage multiplier of every hit (1)
	haste      float64 // 1 + haste from rating
	masteryPts float64 // mastery points from rating, base and raid buffs
	vers       float64 // 1 + versatility

	// Per breakdown line: what never changes in a fight, modifier flags,
	// mastery coefficient (percent per point), extra critical strike chance.
	static    [idSpace]float64
	mods      [idSpace]uint16
	class     [idSpace]uint8 // hitClass: which of the targets' debuffs apply
	mastCoef  [idSpace]float64
	critBonus [idSpace]float64

	markEnd          int64   // Hunter's Mark applies before this time (above 80% health)
	executeAt        int64   // the targets fall below 20% health at this time
	huntersMark      float64 // Hunter's Mark's multiplier
	unnaturalExecute float64 // Unnatural Causes' extra multiplier below 20%
	// executeMult is each line's multiplier below 20% health: Unnatural
	// Causes' on the lines it lists, else 1 (a product that changes nothing).
	executeMult [idSpace]float64

	petStatic, guardianStatic float64 // the owner's constant pet and guardian multipliers
	solitary                  float64 // Solitary Companion on the main pet
	petSpeed                  float64 // Trigger Finger on the main pets' swings
	mainBasic                 bool    // the main pet uses its basic attack
	kcMult, kcMultPack        float64 // Kill Command's multipliers (with Pack Mentality)
	direFrenzyDmg             float64
	bearMult                  float64 // the Bear's buff without Lead From the Front
	bearMs                    int64
	boarMult                  float64
	autoShotBase              float64 // Auto Shot's interval before haste, seconds
	autoShotSpeed             float64 // the attack speed divisor of the interval
	autoShotMult              float64
	firstAutoShot             int64
	streamlineCast            float64
	rapidFireShots            int
	rapidFireTick             float64
	preciseDmg                float64 // Precise Shots' bonus per stack
	headshot                  float64
	hydra                     float64
	spottersMark              float64
	trickAimedTargets         int
	trickRapidTargets         int
	aimedDeathblow            float64
	executeCritBonus          float64
	bleakPowderCoef           float64
	bleakArrowsDeathblow      float64
	dr4pcChance               float64

	auraDur   [idSpace]int64
	auraMax   [idSpace]int8
	dotDur    [idSpace]int64
	dotPeriod [idSpace]int64
	dotRate   [idSpace]float64 // 1/dotPeriod

	p params

	states sync.Pool
}

// params are the spell data numbers the mechanics read, converted to the
// engine's units (fractions, multipliers, milliseconds).
type params struct {
	gcdBase, gcdMin                                 float64
	petSwing, bearSwing, bearAutoMult               float64
	hatiApShare, darkHoundAp                        float64
	petRegenShare, basicCost, basicMult             float64
	basicCdMs, basicDelayMs                         int64
	wildHunt, wildHuntCost, wildHuntAbove           float64
	clawCoef, kcCoef, bwHitCoef                     float64
	stompCoef, stompCleaveCoef                      float64
	bloodshedCoef, bloodshedDireBeast               float64
	barbedCoef, cobraCoef, multiShotCoef            float64
	killShotCoef, blackArrowCoef, blackArrowDotCoef float64
	witheringCoef, explosiveCoef                    float64
	aimedCoef, rapidFireCoef, arcaneCoef            float64
	steadyCoef, multiShotMMCoef, volleyCoef         float64
	sentinelCoef, symphonicCoef                     float64
	lunarInitialCoef, lunarCoef                     float64
	boarCoef, boarCleaveCoef, stampedeCoef          float64
	rendFleshCoef, crowsCoef, ravenousLeapCoef      float64
	poisonedBarbsCoef, wildspeakerCoef              float64

	masteryPet, masteryBeast float64

	bwPlayer, bwPet, wildspeakerBW        float64
	wyvernStack, bellTolls                float64
	thrillCrit, bullseyeCrit              float64
	trueshotCrit, trueshotCritDmg         float64
	trueshotRecharge, penetrating         float64
	pl2pcStat, bloodlust, fenryrHaste     float64
	onTargetHaste, hati                   float64
	serpentineBlessing, lftfPet, lftfBear float64
	piercingFangs, frenzySpeed            float64
	beastCleave, killCleave               float64
	beastCleaveFull, killCleaveFull       int
	laceration, goForTheThroat            float64
	lunarDebuff                           [3]float64 // by hit class
	killZone                              float64
	wildInstincts                         float64

	barbedFocus                         float64
	barbedFocusPeriod, barbedFocusTicks int64
	preciseCost, preciseGcd             float64
	streamlineCost, tensileStreamline   float64

	direCleaveMs, darkHoundMs                       int64
	shadowHoundsChance, direBeastChance             float64
	direBeastDur                                    float64
	rendFleshTargets                                int
	ursineFuryChance                                float64
	ursineFuryMs, masterHandlerMs, packMentalityMs  int64
	direSummonsKC, direSummonsCobra                 int64
	furyCapMs, furyExtendMs                         int64
	phantomPainBM, phantomPainMM                    float64
	phantomPainTargets                              int
	direCommand, deathblowKC, warOrdersReset        float64
	barbedWrathMs, cobraKCMs, barbedScalesMs        int64
	brutalStacks                                    int
	brutalCompanion                                 float64
	poisonedBarbs                                   float64
	poisonedBarbsFull, multiShotFull, explosiveFull int
	serpentineRhythm, hogstrider                    float64
	cotwPets, cotwTicks                             int
	cotwCut                                         float64
	cotwPeriodMs, cotwPetMs                         int64
	huntmasterStacks                                int
	wyvernStacks                                    int8
	boarCharges, boarCleaveTargets                  int
	boarPeriodMs                                    int64
	stampedeHits, stampedeTargets                   int

	razorFragmentsDmg, razorFragmentsBleed float64
	razorFragmentsTargets                  int
	huntersPrey                            float64
	huntersPreyMax                         int
	ebonBowstring                          float64
	witheringArrows                        int
	witheringPeriodMs                      int64
	bleakPowderFull, umbralReachTargets    int
	bansheesMark                           float64

	sentinelChance, sentinelImplode, releaseAndReload float64
	extrapolated, sentinelMax, sentinelImplodeAbove   int
	invigoratingChance, invigoratingFocus             float64
	overwatchCdMs, crescentSteelMs                    int64
	sentinelWatchMs, sentinelWatchCapMs               int64
	sentinelPeriodMs                                  int64
	lunarTicks                                        int
	lunarDurMs, lunarPeriodMs                         int64
	symphonicTargets                                  int
	boonOfElune                                       float64

	masterMarksman, snakeskin, lockAndLoad, wildCall float64
	inTheRhythm                                      float64
	magneticPreciseMs, magneticLnLMs                 int64
	focusedAimMs, tensileMs, tensileCapMs            int64
	eyesInTheSky, featheredFrenzy                    float64
	trickShotsNeed                                   int
	trickShotsAimed, trickShotsRapid                 float64
	bulletHellMs                                     int64
	steadyFocus                                      float64
	steadyAimedMs                                    int64
	bulletstorm, movingTarget, incendiary            float64
	surgingShotsReset, windrunnerSecond              float64
	doubleTapAimed, doubleTapShots, doubleTapTick    float64
	precisionDetonation                              float64
	targetAcqMs, targetAcqIcdMs                      int64
	rapidFireDeathblow, rapidFireFocus               float64
	volleyTicks, salvoTargets                        int
	volleyPeriodMs                                   int64
	thunderingHooves                                 float64
	aimedCast, steadyCast                            float64
}

func g(id int) *hd.Spell { return hd.Get(id) }

// pctMult is 1 plus effect n of spell id as a fraction.
func pctMult(id, n int) float64 { return 1 + g(id).Pct(n) }

func msOf(v float64) int64 { return int64(math.Round(v)) }

// loadParams reads the spell data.
func loadParams(p *params) {
	p.gcdBase, p.gcdMin = 1.5, 0.75 // the ranged global cooldown and its hasted floor (sc_hunter.cpp base_gcd, min_gcd)
	p.petSwing, p.bearSwing, p.bearAutoMult = 2, 1.5, 7
	p.hatiApShare, p.darkHoundAp = 2, 3
	p.petRegenShare = 1.25 // the main pet regenerates 125% of the owner's focus (sc_hunter.cpp)
	claw := g(16827)
	p.basicCost, p.basicCdMs, p.clawCoef = claw.Cost, ms(claw.Cooldown), claw.AP(1)
	p.basicDelayMs = 150 // the pet's reaction delay (sc_hunter.cpp pet_basic_attack_delay)
	p.basicMult = 1
	p.wildHunt, p.wildHuntCost, p.wildHuntAbove = pctMult(62762, 1), pctMult(62762, 2), g(62762).Eff(3)
	p.kcCoef, p.bwHitCoef = g(83381).AP(1), g(344572).AP(1)
	p.stompCoef, p.stompCleaveCoef = g(1217528).AP(1), g(201754).AP(1)
	p.bloodshedCoef, p.bloodshedDireBeast = g(321538).AP(1), 0.10 // 10% per tick (sc_hunter.cpp, from logs)
	p.barbedCoef, p.cobraCoef, p.multiShotCoef = g(217200).AP(1), g(193455).AP(1), g(2643).AP(2)
	p.killShotCoef, p.blackArrowCoef, p.blackArrowDotCoef = g(53351).AP(1), g(466930).AP(1), g(468572).AP(1)
	p.witheringCoef, p.explosiveCoef = g(468037).AP(1), g(212680).AP(1)
	p.aimedCoef, p.rapidFireCoef, p.arcaneCoef = g(19434).AP(1), g(257045).AP(1), g(185358).AP(1)
	p.steadyCoef, p.multiShotMMCoef, p.volleyCoef = g(56641).AP(1), g(257620).AP(1), g(260247).AP(1)
	p.sentinelCoef, p.symphonicCoef = g(450412).AP(1), g(451194).AP(1)
	p.lunarInitialCoef, p.lunarCoef = g(1217459).AP(1), g(450883).AP(1)
	p.boarCoef, p.boarCleaveCoef, p.stampedeCoef = g(471936).AP(1), g(471938).AP(1), g(201594).AP(1)
	p.rendFleshCoef, p.crowsCoef = g(471999).AP(1), g(131900).AP(1)
	leap := g(459753)
	p.ravenousLeapCoef = leap.AP(1) / (leap.Duration / leap.Period)
	p.poisonedBarbsCoef, p.wildspeakerCoef = g(1217549).AP(1), g(1232922).AP(1)
	p.masteryPet, p.masteryBeast = g(76657).Pct(1), g(76657).Pct(3)

	p.bwPlayer, p.bwPet, p.wildspeakerBW = pctMult(19574, 1), pctMult(186254, 1), pctMult(1235388, 1)
	p.wyvernStack = g(471881).Pct(1)
	p.thrillCrit, p.bullseyeCrit = g(257946).Pct(1), g(204090).Pct(1)
	p.trueshotCrit, p.trueshotCritDmg = g(288613).Pct(4), pctMult(288613, 5)
	p.trueshotRecharge = pctMult(288613, 3)
	p.penetrating = g(459783).Pct(2)
	p.pl2pcStat = g(1236566).Pct(1)
	p.bloodlust, p.fenryrHaste = pctMult(2825, 1), pctMult(459735, 2)
	p.onTargetHaste, p.hati = g(474257).Pct(1), pctMult(459738, 2)
	p.serpentineBlessing, p.lftfPet, p.lftfBear = pctMult(468704, 1), pctMult(472743, 4), g(472743).Pct(3)
	p.piercingFangs, p.frenzySpeed = pctMult(392054, 1), g(272790).Pct(1)
	p.beastCleave, p.killCleave = g(115939).Pct(1), g(378207).Pct(1)
	p.beastCleaveFull, p.killCleaveFull = int(g(118459).Eff(2)), int(g(389448).Eff(2))
	p.laceration, p.goForTheThroat = g(459555).Pct(1), g(459550).Pct(2)
	ls := g(450884)
	p.lunarDebuff = [3]float64{classPlayer: 1 + ls.Pct(1), classPet: 1 + ls.Pct(2), classGuardian: 1 + ls.Pct(3)}
	p.killZone, p.wildInstincts = pctMult(393480, 2), g(424567).Pct(1)

	bf := g(246152)
	p.barbedFocus, p.barbedFocusPeriod = bf.Eff(1), ms(bf.Period)
	p.barbedFocusTicks = ms(bf.Duration) / p.barbedFocusPeriod
	p.preciseCost, p.preciseGcd = pctMult(260242, 3), pctMult(260242, 6)
	p.streamlineCost = g(342076).Pct(2)

	p.direCleaveMs = msOf(g(1217524).Eff(2))
	p.darkHoundMs = ms(g(442419).Duration)
	p.shadowHoundsChance = 0 // set from RPPM per tick in derive
	p.direBeastChance, p.direBeastDur = g(120679).Pct(1), g(219199).Duration
	p.rendFleshTargets = int(g(471999).Eff(2))
	p.ursineFuryChance, p.ursineFuryMs = g(472478).Chance/100, msOf(g(472476).Eff(2))
	p.masterHandlerMs, p.packMentalityMs = msOf(g(424558).Eff(1)), msOf(g(472358).Eff(2))
	p.direSummonsKC, p.direSummonsCobra = msOf(g(472352).Eff(1)), msOf(g(472352).Eff(3))
	p.furyExtendMs, p.furyCapMs = msOf(g(472550).Eff(2)), ms(g(472550).Eff(4))
	pp := g(467941)
	p.phantomPainBM = pp.Pct(1) + g(137015).Pct(13)
	p.phantomPainMM, p.phantomPainTargets = pp.Pct(2), int(pp.Eff(3))
	p.direCommand, p.deathblowKC, p.warOrdersReset = g(378743).Pct(1), g(343248).Pct(2), g(393933).Pct(3)
	p.barbedWrathMs, p.cobraKCMs, p.barbedScalesMs = msOf(g(231548).Eff(1)), ms(g(193455).Eff(3)), msOf(g(469880).Eff(1))
	p.brutalStacks, p.brutalCompanion = int(g(386870).Eff(1)), pctMult(386870, 2)
	p.poisonedBarbs, p.poisonedBarbsFull = g(1217535).Pct(1), int(g(1217535).Eff(2))
	p.multiShotFull, p.explosiveFull = int(g(2643).Eff(1)), int(g(212431).Eff(2))
	p.serpentineRhythm, p.hogstrider = g(468703).Pct(1), g(472640).Pct(1)
	cotw := g(359844)
	p.cotwPets, p.cotwCut = int(cotw.Eff(1)), cotw.Pct(3)
	p.cotwPeriodMs, p.cotwPetMs = ms(cotw.Period), ms(g(361582).Duration)
	p.cotwTicks = int(cotw.Duration / cotw.Period)
	p.huntmasterStacks = g(459731).MaxStack
	p.wyvernStacks = int8(g(471876).Eff(3))
	p.boarCharges, p.boarCleaveTargets = int(g(471876).Eff(2)), int(g(471938).Eff(2))
	p.boarPeriodMs = 500 // the time between the Boar's charges
	p.stampedeHits, p.stampedeTargets = int(g(1236373).Eff(3)), int(g(1236373).Eff(4))

	rf := g(388998)
	p.razorFragmentsDmg, p.razorFragmentsTargets, p.razorFragmentsBleed = 1+rf.Pct(1), int(rf.Eff(2)), rf.Pct(3)
	p.huntersPrey, p.huntersPreyMax = g(468219).Pct(1), g(468219).MaxStack
	p.ebonBowstring = g(467897).Pct(1)
	p.witheringArrows, p.witheringPeriodMs = int(g(466990).Eff(3)), ms(g(466991).Period)
	p.bleakPowderFull, p.umbralReachTargets = int(g(467911).Eff(2)), int(g(1235397).Eff(2))
	p.bansheesMark = g(467902).Pct(2)

	p.sentinelChance, p.sentinelImplode = 0.22, 0.32 // estimates of SimulationCraft (sc_hunter.cpp)
	p.releaseAndReload, p.extrapolated = g(450376).Pct(1), int(g(450374).Eff(1))
	p.sentinelMax, p.sentinelImplodeAbove = g(450387).MaxStack, int(g(450369).Eff(1))
	p.invigoratingChance, p.invigoratingFocus = g(450379).Pct(2), g(450379).Eff(1)
	p.sentinelWatchMs, p.sentinelWatchCapMs = ms(g(451546).Eff(1)), ms(g(451546).Eff(2))
	p.sentinelPeriodMs = ms(g(450412).Period)
	p.overwatchCdMs, p.crescentSteelMs = ms(g(450384).Eff(2)), ms(g(451531).Period)
	storm := g(450978)
	p.lunarDurMs, p.lunarPeriodMs = ms(storm.Duration), ms(storm.Period)
	p.lunarTicks = int(storm.Duration / storm.Period)
	p.symphonicTargets = int(g(450383).Eff(1))
	p.boonOfElune = pctMult(1236644, 1)

	p.masterMarksman, p.snakeskin = g(260309).Pct(1), g(468695).Pct(1)
	p.lockAndLoad, p.wildCall = g(194595).Pct(1), g(185789).Pct(1)
	p.inTheRhythm = g(407405).Eff(1) / 1000
	p.magneticPreciseMs, p.magneticLnLMs = msOf(g(473522).Eff(1)), msOf(g(473522).Eff(2))
	p.focusedAimMs = msOf(g(378767).Eff(1))
	p.tensileMs, p.tensileCapMs = msOf(g(471366).Eff(1)), msOf(g(471366).Eff(3))
	p.eyesInTheSky, p.featheredFrenzy = g(1219616).Pct(1), pctMult(470943, 1)
	ts := g(257621)
	p.trickShotsNeed, p.trickShotsAimed, p.trickShotsRapid = int(ts.Eff(2)), ts.Pct(4), ts.Pct(5)
	p.bulletHellMs = msOf(g(473378).Eff(1))
	p.steadyFocus, p.steadyAimedMs = g(77443).Eff(1), msOf(g(56641).Eff(2))
	p.bulletstorm, p.movingTarget = g(389020).Pct(1), pctMult(474293, 1)
	p.incendiary = g(471428).Pct(1)
	p.surgingShotsReset, p.windrunnerSecond = g(391559).Chance/100, g(473523).Pct(6)
	p.doubleTapAimed = g(473370).Pct(3)
	p.doubleTapShots, p.doubleTapTick = pctMult(260402, 3), pctMult(260402, 1)
	p.precisionDetonation = pctMult(474199, 1)
	p.targetAcqMs, p.targetAcqIcdMs = msOf(g(473379).Eff(1)), 1500
	p.rapidFireDeathblow, p.rapidFireFocus = g(378769).Pct(1), g(263585).Eff(1)
	vl := g(260243)
	p.volleyTicks, p.volleyPeriodMs = int(vl.Duration/vl.Period), ms(vl.Period)
	p.salvoTargets = int(g(400456).Eff(1))
	p.thunderingHooves = g(459693).Pct(1)
	p.aimedCast, p.steadyCast = g(19434).Cast, g(56641).Cast
}

// rated converts a rating to its stat percentage at level 80 with
// diminishing returns.
func rated(rating, perPct float64) float64 { return hd.Diminish(rating / perPct) }

// derive computes the per-batch constants from the config and talents.
func (s *Sim) derive() {
	loadParams(&s.p)
	s.deriveTrinkets()
	c := s.cfg
	st := c.Player.Stats
	s.tier = c.Player.TierSet

	// --- stats ---------------------------------------------------------
	agility := st.Agility * pctMult(86538, 1)
	apMult := 1.0
	if c.Raid.BattleShout {
		apMult *= pctMult(6673, 1)
	}
	s.ap = agility * apMult
	s.petAp = s.ap * 0.6 // pets inherit 60% of the hunter's attack power (sc_hunter.cpp stable_pet_t)
	if st.CritPct != nil {
		s.crit = *st.CritPct / 100
	} else {
		rating := st.CritRating
		if s.has(tSerratedTips) {
			rating *= pctMult(459502, 1)
		}
		s.crit = (rated(rating, hd.CritRatingPerPct) + g(157443).Eff(1)) / 100
	}
	s.crit += float64(s.rank[tKeenEyesight]) * g(378004).Pct(1)
	s.critDmg = 1
	if st.HastePct != nil {
		s.haste = 1 + *st.HastePct/100
	} else {
		s.haste = 1 + rated(st.HasteRating, hd.HasteRatingPerPct)/100
	}
	mastCoef := g(76657).Eff(1)
	if s.spec == mm {
		mastCoef = g(193468).Eff(2)
	}
	if st.MasteryPct != nil {
		s.masteryPts = *st.MasteryPct / mastCoef
	} else {
		s.masteryPts = hd.BaseMasteryPoints + rated(st.MasteryRating, hd.MasteryRatingPerPct)
	}
	if c.Raid.Skyfury {
		s.masteryPts += g(462854).Eff(1)
	}
	if st.VersatilityPct != nil {
		s.vers = 1 + *st.VersatilityPct/100
	} else {
		s.vers = 1 + rated(st.VersatilityRating, hd.VersRatingPerPct)/100
	}
	if c.Raid.MarkOfTheWild {
		s.vers += g(1126).Pct(1)
	}

	s.durationMs = ms(c.Duration)
	s.targets = c.Target.Count
	s.focusMax = c.Player.Resources.Max
	s.regenBase = c.Player.Resources.RegenPerSecond
	if s.has(tPackTactics) {
		s.regenBase *= pctMult(321014, 1)
	}
	s.markEnd = -1
	if c.Raid.HuntersMark {
		s.markEnd = ms(c.Duration * 0.2) // above 80% health (257284 #3)
	}
	s.huntersMark = pctMult(428402, 1)
	s.executeAt = ms(c.Duration * (1 - g(53351).Pct(2)))
	s.overwatchAt = ms(c.Duration * (1 - g(450384).Pct(1))) // Overwatch and Crescent Steel (451530 #1)
	s.unnaturalExecute = 1.0476                             // Unnatural Causes below 20% (sc_hunter.cpp)

	if s.has(tUnerringVision) {
		// Unerring Vision adds to Trueshot's critical strike chance and to
		// its critical damage bonus (sc_hunter.cpp adds the two bonuses).
		s.p.trueshotCrit += g(474738).Pct(1)
		s.p.trueshotCritDmg += g(474738).Pct(2)
	}
	s.ohnahranWinds = 0
	if s.has(tOhnahranWinds) {
		s.ohnahranWinds = g(1215057).Pct(1)
		if s.has(tAvianSpecialization) {
			s.ohnahranWinds += g(466867).Pct(1)
		}
	}

	s.deriveSpells()
	s.derivePets()
	s.deriveAbilities()
	s.deriveAuras()
	s.derivePetAuras()
	s.deriveRateCds()
}

// derivePetAuras keeps the auras of petAuras the build can have, so that
// working out where a pet window ends looks at no others.
func (s *Sim) derivePetAuras() {
	can := map[auraID]bool{
		auBestialWrath: s.spec == bm, auFrenzy: s.spec == bm, auThrill: s.has(tThrillOfTheHunt),
		auWildInstincts: s.has(tWildInstincts), auSerpentineBlessing: s.has(tSerpentineRhythm),
		auLeadFromTheFront: s.hero == hd.HeroPackLeader, auSummonHati: s.has(tHuntmastersCall),
		auSharpenedFangs: s.pl2pc(), auTrueshot: s.spec == mm,
		auKillZone: s.has(tKillZone), auLunarStormDebuff: s.has(tLunarStorm),
	}
	s.petAuras = s.petAuras[:0]
	for _, a := range petAuras {
		if can[a] {
			s.petAuras = append(s.petAuras, a)
		}
	}
}

// hastedCd reports whether haste shortens sp's cooldown.
func (s *Sim) hastedCd(sp spellID) bool {
	return castables[sp].hasted || (sp == spAimedShot && s.spec == mm)
}

// deriveRateCds lists the known spells whose cooldowns change with haste
// or Trueshot, which recomputeHaste works out again.
func (s *Sim) deriveRateCds() {
	s.hastedCds, s.rateCds = s.hastedCds[:0], s.rateCds[:0]
	for sp := range numSpells {
		if !s.known[sp] {
			continue
		}
		if s.hastedCd(sp) {
			s.hastedCds = append(s.hastedCds, sp)
		}
		if s.hastedCd(sp) || sp == spAimedShot || sp == spRapidFire {
			s.rateCds = append(s.rateCds, sp)
		}
	}
}

// pl2pc reports whether the Pack Leader 2-piece is worn.
func (s *Sim) pl2pc() bool { return s.tier >= 2 && s.hero == hd.HeroPackLeader }

func (s *Sim) set(hero hd.Tree, pieces int) bool { return s.hero == hero && s.tier >= pieces }

// checkTier refuses a set bonus without a hero tree to give it meaning.
func (s *Sim) checkTier() error {
	if s.cfg.Player.TierSet > 0 && s.hero == 0 {
		return &ConfigError{Path: "player.tier_set", Msg: fmt.Sprintf("the Season 3 set's bonuses belong to a hero tree: select the talents of one (the %s config has none)", s.specName)}
	}
	return nil
}

func (s *Sim) deriveSpells() {
	p := &s.p
	for sp := range numSpells {
		d := castables[sp]
		data := g(d.gameID)
		s.known[sp] = d.specs&s.spec != 0 && (d.talent == noTalent || s.has(d.talent))
		s.cost[sp] = data.Cost
		s.baseCd[sp] = data.Cooldown
		s.charges[sp] = int8(data.Charges)
		if data.Cooldown > 0 && data.Charges == 0 {
			s.charges[sp] = 1
		}
	}
	if s.spec == mm {
		s.cost[spMultiShot] = g(257620).Cost
		s.dynamicCost[spMultiShot] = true
		s.dynamicCost[spArcaneShot] = true
		s.dynamicCost[spAimedShot] = true
		s.known[spMultiShot] = true
	} else {
		s.known[spMultiShot] = s.has(tMultiShotBM)
	}
	if s.has(tBlackArrow) {
		s.known[spKillShot] = true // casts Black Arrow, which replaces it
		s.known[spBlackArrow] = true
	} else {
		s.known[spBlackArrow] = false
	}
	if s.has(tCobraSenses) {
		s.cost[spCobraShot] += g(378244).Eff(1)
	}
	if s.has(tAlphaPredator) {
		s.charges[spKillCommand] += int8(g(269737).Eff(3))
	}
	if s.has(tDeadeye) {
		s.charges[spKillShot] += int8(g(321460).Eff(1))
		s.baseCd[spKillShot] += g(321460).Eff(2) / 1000
	}
	s.charges[spBlackArrow] = s.charges[spKillShot]
	s.baseCd[spBlackArrow] = s.baseCd[spKillShot]
	if s.has(tAmmoConservation) {
		s.baseCd[spAimedShot] += g(459794).Eff(5) / 1000
	}
	if s.has(tCallingTheShots) {
		s.baseCd[spTrueshot] -= g(260404).Eff(1) / 1000
	}
	if s.set(hd.HeroDarkRanger, 2) {
		s.baseCd[spTrueshot] += g(1236370).Eff(3) / 1000
		s.baseCd[spCallOfTheWild] += g(1236370).Eff(4) / 1000
	}

	// Rapid Fire's shots: the first at once, the rest spread over the channel.
	rf := g(257044)
	s.rapidFireShots = int(rf.Eff(1))
	s.rapidFireTick = rf.Duration / float64(s.rapidFireShots-1)
	if s.has(tAmmoConservation) {
		s.rapidFireShots += int(g(459794).Eff(1))
		s.rapidFireTick *= pctMult(459794, 2)
	}
	s.streamlineCast = g(342076).Pct(1)
	if s.has(tImprovedStreamline) {
		s.streamlineCast += g(471427).Pct(1)
	}
	p.tensileStreamline = 1
	if s.has(tTensileBowstring) {
		p.tensileStreamline = pctMult(471366, 2)
	}
	ps := g(260242)
	s.preciseDmg = ps.Pct(1)
	if s.has(tWindrunnerQuiver) {
		s.preciseDmg += g(473523).Pct(1)
	}
	s.preciseDmg += float64(s.rank[tUnmatchedPrecision]) * g(1232955).Pct(1)
	s.headshot = g(471363).Pct(1)
	if s.has(tWindrunnerQuiver) {
		s.headshot *= 1 + g(473523).Pct(5)
	}
	s.hydra = g(470945).Pct(1)
	if s.has(tLightAmmo) {
		s.hydra += g(378913).Pct(3)
	}
	s.spottersMark = 1 + g(466872).Pct(1)
	if s.has(tAvianSpecialization) {
		s.spottersMark += g(466867).Pct(1)
	}
	s.trickAimedTargets = int(g(257621).Eff(1))
	s.trickRapidTargets = int(g(257621).Eff(3))
	if s.has(tLightAmmo) {
		s.trickAimedTargets += int(g(378913).Eff(1))
		s.trickRapidTargets += int(g(378913).Eff(2))
	}
	s.aimedDeathblow = g(343248).Pct(1)
	if s.has(tImprovedDeathblow) {
		s.aimedDeathblow = g(378769).Pct(2)
	}
	s.executeCritBonus = 1
	if s.has(tImprovedDeathblow) {
		s.executeCritBonus = pctMult(378769, 3)
	}
	s.bleakPowderCoef = g(472084).AP(1)
	s.bleakArrowsDeathblow = g(467749).Pct(1)
	if s.spec == mm {
		s.bleakPowderCoef = g(467914).AP(1)
		s.bleakArrowsDeathblow = g(467749).Pct(2)
	}
	s.dr4pcChance = g(1236371).Pct(2)
	if s.spec == mm {
		s.dr4pcChance = g(1236371).Pct(3)
	}
	// Shadow Hounds: 1.5 real procs per minute on Black Arrow's one-second
	// ticks (the hasted RPPM approximated at the base rate).
	p.shadowHoundsChance = g(430707).RPPM / 60 * g(468572).Period

	// Auto Shot.
	s.autoShotSpeed = 1
	if s.has(tTriggerFinger) {
		share := s.rankShare(tTriggerFinger, 2)
		tf := g(459534)
		s.autoShotSpeed = (1 + tf.Pct(1)*share)
		if s.spec == bm || s.has(tUnbreakableBond) {
			s.autoShotSpeed *= 1 + tf.Pct(2)*share
		} else {
			s.autoShotSpeed *= 1 + tf.Pct(2)*share*pctMult(459534, 3)
		}
	}
	w := s.cfg.Player.WeaponSpeed
	if s.has(tPreciseShots) {
		w += g(260240).Eff(1) / 1000
	}
	s.autoShotBase = w / s.autoShotSpeed
	s.firstAutoShot = 100 // the first Auto Shot flies 0.1 s after the pull (sc_hunter.cpp)
}

func (s *Sim) derivePets() {
	p := &s.p
	s.mainBasic = s.spec == bm
	pet := 1.0
	guardian := 1.0
	if s.spec == bm {
		pet *= pctMult(137015, 3)
		guardian *= pctMult(137015, 4)
		if s.has(tTrainingExpert) {
			pet *= pctMult(378209, 1)
		}
		if s.has(tBetterTogether) {
			pet *= pctMult(472357, 1)
		}
		if s.set(hd.HeroPackLeader, 2) {
			pet *= pctMult(1236372, 1)
		}
	} else {
		pet *= pctMult(137016, 4)
		guardian *= pctMult(137016, 3) * pctMult(137016, 8)
		if s.has(tUnbreakableBond) {
			pet *= pctMult(1223323, 1)
		}
		p.masteryPet = 0 // marksmanship's mastery does not touch pets
	}
	s.petStatic, s.guardianStatic = pet, guardian
	s.solitary = 1
	if s.has(tSolitaryCompanion) {
		s.solitary = pctMult(474751, 2)
	}
	s.petSpeed = 1
	if s.has(tTriggerFinger) {
		s.petSpeed = 1 + g(459534).Pct(4)*s.rankShare(tTriggerFinger, 2)
	}
	if s.has(tBetterTogether) {
		p.frenzySpeed += g(472357).Pct(5) / float64(g(272790).MaxStack)
	}
	if s.has(tAspectOfTheBeast) {
		p.basicMult *= pctMult(191384, 1)
	}
	kc := 1.0
	if s.has(tSavagery) {
		kc *= pctMult(424557, 1)
	}
	if s.has(tKillerInstinct) {
		kc *= 1 + g(273887).Pct(1)*s.rankShare(tKillerInstinct, 2)
	}
	if s.has(tSpecializedArsenal) {
		kc *= pctMult(459542, 1)
	}
	bonus := 0.0
	if s.has(tAlphaPredator) {
		bonus += g(269737).Pct(4)
	}
	s.kcMult = kc * (1 + bonus)
	s.kcMultPack = s.kcMult
	if s.has(tPackMentality) {
		// Alpha Predator and Pack Mentality add up before they multiply (sc_hunter.cpp).
		s.kcMultPack = kc * (1 + bonus + g(472358).Pct(1))
	}
	s.direFrenzyDmg = 1 + float64(s.rank[tDireFrenzy])*g(385810).Pct(2)
	p.direBeastDur += float64(s.rank[tDireFrenzy]) * g(385810).Eff(1) / 1000
	s.bearMult = 1
	if s.set(hd.HeroPackLeader, 2) {
		s.bearMult += g(1236372).Pct(3)
	}
	s.bearMs = ms(g(471993).Duration + float64(s.rank[tDireFrenzy])*g(385810).Eff(1)/1000)
	s.boarMult = 1
	if s.set(hd.HeroPackLeader, 2) {
		s.boarMult = pctMult(1236372, 4)
	}
}
