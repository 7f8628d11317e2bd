package engine

import hd "wowlab/engine/hunterdata"

// deriveAbilities sets each breakdown line's constant multiplier, modifier
// flags, mastery coefficient and extra critical strike chance.
func (s *Sim) deriveAbilities() {
	c := s.cfg
	armor := c.Target.Armor
	level := hd.LevelArmor(hd.PlayerLevel + c.Target.LevelDiff)
	a := level.Armor
	if armor != nil {
		a = *armor
	}
	k := hd.LevelArmor(hd.PlayerLevel).Constant
	armorMult := 1 - a/(a+k)
	physTaken, magicTaken := 1.0, 1.0
	if c.Raid.MysticTouch {
		physTaken = pctMult(113746, 1)
	}
	if c.Raid.ChaosBrand {
		magicTaken = pctMult(1490, 1)
	}
	bleeds := map[abilityID]bool{
		abBarbedShot: true, abBloodshedBleed: true, abLaceration: true, abRendFlesh: true,
		abRavenousLeap: true, abRazorFragments: true, abMasterMarksman: true,
	}
	periodic := map[abilityID]bool{
		abBarbedShot: true, abBloodshedBleed: true, abBlackArrowDot: true, abRendFlesh: true,
		abRavenousLeap: true, abLaceration: true, abRazorFragments: true, abMasterMarksman: true, abMurderOfCrows: true,
	}
	plain := map[abilityID]bool{
		abBeastCleave: true, abKillCleave: true, abLaceration: true, abRazorFragments: true,
		abMasterMarksman: true, abPhantomPain: true,
	}
	// Unnatural Causes' list (459529 and its label).
	unnatural := map[abilityID]bool{
		abBarbedShot: true, abMurderOfCrows: true, abVolley: true, abMasterMarksman: true, abRazorFragments: true,
		abSentinel: true, abLaceration: true, abRavenousLeap: true, abBlackArrowDot: true, abRendFlesh: true,
	}
	bmAura, mmAura := g(137015), g(137016)
	for ab := range numAbilities {
		info := abilities[ab]
		m := 1.0
		var f uint16
		switch info.actor {
		case actPlayer:
			f |= modPlayer
		case actPet:
			f |= modPet
		case actGuardian:
			f |= modGuardian
		}
		if !plain[ab] {
			m *= s.vers
		} else {
			f |= modNoCrit
		}
		if info.school == hd.Physical {
			if !bleeds[ab] {
				m *= armorMult
			}
			if !plain[ab] || ab == abBeastCleave || ab == abKillCleave {
				m *= physTaken
			}
		} else if !plain[ab] {
			m *= magicTaken
		}
		if info.actor == actPlayer && !plain[ab] {
			aura := bmAura
			if s.spec == mm {
				aura = mmAura
			}
			if periodic[ab] {
				m *= 1 + aura.Pct(2)
			} else {
				m *= 1 + aura.Pct(1)
			}
			if s.has(tPenetratingShots) {
				f |= modPenetrate
			}
			if s.spec == bm {
				f |= modThrill
			} else {
				f |= modBullseye | modTrueshot
			}
		}
		if s.has(tUnnaturalCauses) && unnatural[ab] {
			m *= pctMult(459527, 1)
			f |= modUnnatural
		}
		s.static[ab] = m
		s.mods[ab] = f
		s.executeMult[ab] = 1
		if f&modUnnatural != 0 {
			s.executeMult[ab] = s.unnaturalExecute
		}
		switch {
		case f&modPet != 0:
			s.class[ab] = classPet
		case f&modGuardian != 0:
			s.class[ab] = classGuardian
		}
	}
	// Spec auras and passive talents on single lines.
	mul := func(ab abilityID, v float64) { s.static[ab] *= v }
	if s.spec == bm {
		for _, ab := range []abilityID{abKillShot, abBlackArrow} {
			mul(ab, pctMult(137015, 7)*pctMult(137015, 8))
		}
		mul(abBlackArrow, pctMult(137015, 10))
		mul(abWitheringFire, pctMult(137015, 10))
		mul(abBlackArrowDot, pctMult(137015, 11))
		mul(abStampede, pctMult(137015, 12))
		mul(abVolley, pctMult(137015, 6))
	} else {
		for _, ab := range []abilityID{abKillShot, abBlackArrow} {
			mul(ab, pctMult(137016, 9))
		}
		mul(abBlackArrow, pctMult(137016, 13))
		mul(abWitheringFire, pctMult(137016, 13))
		mul(abBlackArrowDot, pctMult(137016, 14))
		mul(abExplosiveShot, pctMult(137016, 10))
		mul(abArcaneShot, pctMult(137016, 11))
		mul(abSymphonicArsenal, pctMult(137016, 12))
	}
	if s.has(tSpecializedArsenal) && s.spec == mm {
		mul(abAimedShot, pctMult(459542, 2))
	}
	if s.has(tBlackrockMunitions) {
		mul(abExplosiveShot, pctMult(462036, 1))
	}
	if s.has(tWarOrders) {
		mul(abBarbedShot, pctMult(393933, 1))
	}
	if s.has(tCobraSenses) {
		mul(abCobraShot, pctMult(378244, 2))
	}
	if s.has(tSmallGameHunter) {
		mul(abMultiShot, pctMult(459802, 1))
		mul(abExplosiveShot, pctMult(459802, 2))
	}
	if s.has(tStreamline) {
		mul(abRapidFire, pctMult(260367, 1))
	}
	if s.has(tSurgingShots) {
		mul(abRapidFire, pctMult(391559, 1))
	}
	if s.has(tEaglesAccuracy) {
		share := s.rankShare(tEaglesAccuracy, 2)
		mul(abAimedShot, 1+g(473369).Pct(1)*share)
		mul(abRapidFire, 1+g(473369).Pct(1)*share)
	}
	if s.has(tSentinelPrecision) {
		mul(abAimedShot, pctMult(450375, 1))
		mul(abRapidFire, pctMult(450375, 1))
	}
	if s.has(tObsidianArrowhead) {
		mul(abAutoShot, pctMult(471350, 1))
		s.critBonus[abAutoShot] += g(471350).Pct(2)
	}
	s.autoShotMult = 1
	if s.has(tPreciseShots) {
		s.autoShotMult = pctMult(260240, 2)
	}
	if s.has(tBleakArrows) {
		// Bleak Arrows: Auto Shot deals shadow damage, which armor does not reduce.
		s.static[abAutoShot] *= magicTaken / (armorMult * physTaken)
	}
	if s.has(tSoulDrinker) {
		mul(abBlackArrow, pctMult(469638, 1))
		mul(abWitheringFire, pctMult(469638, 1))
		mul(abBlackArrowDot, pctMult(469638, 2))
		mul(abBleakPowder, pctMult(469638, 3))
	}
	if s.has(tUmbralReach) {
		mul(abBlackArrowDot, pctMult(1235397, 1))
	}
	if s.set(hd.HeroDarkRanger, 2) {
		mul(abBlackArrow, pctMult(1236370, 1))
		mul(abWitheringFire, pctMult(1236370, 1))
		mul(abBleakPowder, pctMult(1236370, 2))
		mul(abBlackArrowDot, pctMult(1236370, 5))
	}
	if s.set(hd.HeroDarkRanger, 4) {
		mul(abWitheringFire, pctMult(1236371, 1))
	}
	if s.set(hd.HeroSentinel, 2) {
		mul(abRapidFire, pctMult(1236374, 2))
	}
	if s.set(hd.HeroSentinel, 4) {
		mul(abSentinel, 1+g(1236375).Pct(2)+g(137016).Pct(15))
	}

	// Mastery: Master of Beasts (76657) on the shots it lists (#5/#6, 1% a
	// point, kept as a fraction) and on the beasts' own (#3); Sniper Training (193468) on
	// marksmanship's shots.
	if s.spec == bm {
		shot := g(76657).Pct(5)
		for _, ab := range []abilityID{abMultiShot, abKillShot, abCobraShot, abExplosiveShot, abBarbedShot,
			abBlackArrow, abBlackArrowDot, abWitheringFire, abBleakPowder} {
			s.mastCoef[ab] = shot
		}
		for _, ab := range []abilityID{abBoarCharge, abStampede, abMurderOfCrows} {
			s.mastCoef[ab] = g(76657).Pct(3)
		}
	} else {
		st := g(193468).Pct(2)
		for _, ab := range []abilityID{abMultiShot, abAimedShot, abKillShot, abSteadyShot, abArcaneShot, abExplosiveShot,
			abRapidFire, abVolley, abSentinel, abLunarStorm, abSymphonicArsenal, abBlackArrow, abBlackArrowDot,
			abWitheringFire, abMurderOfCrows, abBleakPowder} {
			s.mastCoef[ab] = st
		}
	}
	s.p.bellTolls = g(1232992).Pct(1)
	if s.spec == bm {
		s.p.bellTolls += g(137015).Pct(14)
	}
}

// deriveAuras sets the durations and stack limits of the auras and dots,
// with the talents that change them.
func (s *Sim) deriveAuras() {
	for a := range numAuras {
		sp := auraSpell(a)
		s.auraDur[a] = ms(sp.Duration)
		if sp.Duration == 0 {
			s.auraDur[a] = never
		}
		s.auraMax[a] = int8(max(1, sp.MaxStack))
	}
	set := func(a auraID, seconds float64) { s.auraDur[a] = ms(seconds) }
	set(auBeastCleave, g(115939).Eff(2)/1000)
	set(auDeathblow, g(378770).Duration)
	set(auRazorFragments, g(378770).Duration)
	set(auVolley, g(260243).Duration)
	set(auKillZone, g(260243).Duration)
	set(auLunarStormCooldown, g(451803).Duration)
	set(auSentinel, 1200)
	set(auBullseye, g(204090).Duration)
	if s.has(tSavagery) {
		ext := g(424557).Eff(2) / 1000
		for _, a := range []auraID{auFrenzy, auThrill} {
			s.auraDur[a] += ms(ext)
		}
	}
	dire := float64(s.rank[tDireFrenzy]) * g(385810).Eff(1) / 1000
	set(auSummonFenryr, g(459735).Duration+dire)
	set(auSummonHati, g(459738).Duration+dire)
	s.auraMax[auThrill] = int8(g(257944).Eff(2))
	if s.has(tWindrunnerQuiver) {
		s.auraMax[auPreciseShots]++
	}
	if s.has(tIncendiaryAmmunition) {
		s.auraMax[auBulletstorm] += int8(g(471428).Eff(2))
	}
	s.auraMax[auTheBellTolls] = int8(g(1232992).MaxStack)
	if s.has(tFuryOfTheWyvern) {
		s.auraMax[auWyvernsCry] = int8(g(471881).MaxStack)
	} else {
		s.auraMax[auWyvernsCry] = int8(g(471876).Eff(3))
	}
	s.auraMax[auSentinel] = int8(g(450387).MaxStack)
	s.auraMax[auLockAndLoad] = 1

	dot := func(d dotID, id int) {
		sp := g(id)
		s.dotDur[d], s.dotPeriod[d] = ms(sp.Duration), ms(sp.Period)
		s.dotRate[d] = 1 / float64(s.dotPeriod[d])
	}
	dot(dotBarbed, 217200)
	if s.has(tSavagery) {
		s.dotDur[dotBarbed] += ms(g(424557).Eff(2) / 1000)
	}
	dot(dotBloodshed, 321538)
	dot(dotBlackArrow, 468572)
	dot(dotLaceration, 459560)
	dot(dotRendFlesh, 471999)
	dot(dotCrows, 131894)
	dot(dotRazor, 385638)
	dot(dotMasterMarksman, 269576)
	dot(dotRavenousLeap, 459753)
}
