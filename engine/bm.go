// This file is what the beast mastery hunter's spells do.

package engine

import "math/bits"

// startFight sets up what is there at the pull: the pets, Pack Leader's
// first cooldown, Lunar Storm, Bloodlust.
func (st *state) startFight() {
	s := st.sim
	if s.spec == bm || s.has(tUnbreakableBond) {
		st.summonPet(petMain, 0, 0)
		if s.has(tAnimalCompanion) {
			st.summonPet(petCompanion, 0, 0)
		}
	}
	if s.has(tHowlOfThePackLeader) {
		st.startHowlCooldown()
	}
	if s.has(tLunarStorm) {
		st.applyAuraFor(auLunarStormReady, 1, never)
	}
	if s.has(tCrescentSteel) {
		st.schedule(s.overwatchAt+s.p.crescentSteelMs, event{kind: evCrescentSteel})
	}
	if s.cfg.Raid.Bloodlust {
		st.schedule(ms(s.cfg.Raid.BloodlustAt), event{kind: evBloodlust})
	}
}

// killCommand is the hunter's Kill Command: the pets strike.
func (st *state) killCommand() {
	s := st.sim
	p := &s.p
	st.howlSync()
	mult := s.kcMult
	if st.howlReadyAny() {
		mult = s.kcMultPack
	}
	st.mainPets(func(slot int) {
		ab := abPetKillCommand
		if slot == slotCompanion {
			ab = abCompanionKillCommand
			st.ab[ab].casts++
		}
		cleave := abilityID(0)
		if s.has(tKillCleave) {
			cleave = abKillCleave
		}
		bonus := 1.0
		if s.has(tGoForTheThroat) {
			bonus += p.goForTheThroat * st.petCritAt(st.now, true)
		}
		d, _ := st.petAbility(slot, ab, cleave, p.kcCoef*s.petAp*mult, bonus)
		if slot == slotMain && s.has(tWildInstincts) && st.auras[auCallOfTheWild].end > st.now {
			st.applyAura(auWildInstincts, 1)
		}
		if s.has(tPhantomPain) {
			st.phantomPain(d, p.phantomPainBM)
		}
	})
	if s.has(tWildspeaker) {
		st.wildspeakerCommand()
	}
	if beasts := st.consumeHowl(); beasts > 0 {
		if s.has(tPackMentality) {
			st.reduceCd(spBarbedShot, int64(beasts)*p.packMentalityMs)
		}
		if s.tier >= 4 && s.hero == hdPackLeader && st.auras[auLeadFromTheFront].end > st.now {
			st.stampede()
		}
	}
	if s.has(tDireCommand) && st.rng.chance(p.direCommand) {
		st.summonDireBeast(st.now)
	}
	if s.has(tDeathblow) && st.rng.chance(p.deathblowKC) {
		st.deathblow()
	}
	if s.has(tDireSummons) {
		st.shortenHowl(p.direSummonsKC)
	}
	if s.has(tFuryOfTheWyvern) && st.auras[auWyvernsCry].end > st.now && st.wyvernExtended < p.furyCapMs {
		// Only the end moves (see applyAuraFor): nothing to settle.
		st.changed = true
		st.auras[auWyvernsCry].end += p.furyExtendMs
		st.wyvernExtended += p.furyExtendMs
	}
}

// wildspeakerCommand makes every Dire Beast (and Hati, Fenryr, the Bear)
// use Kill Command.
func (st *state) wildspeakerCommand() {
	s := st.sim
	t := st.now
	// What every beast's Kill Command shares: the owner's multiplier on
	// guardians with Wildspeaker's share of Bestial Wrath and the critical
	// strike chance. Go for the Throat is the pets' Kill Command's (83381).
	owner, crit := 0.0, 0.0
	for live := st.live &^ (1<<slotCotwFirst - 1); live != 0; live &= live - 1 {
		p := &st.pets[bits.TrailingZeros16(live)]
		if !p.guardian || p.kind == petDarkHound || p.expires <= t {
			continue
		}
		if owner == 0 {
			owner = st.petOwnerMultAt(t, true)
			if st.auras[auBestialWrath].end > t {
				owner *= s.p.wildspeakerBW
			}
			crit = st.petCritAt(t, false)
		}
		base := s.p.wildspeakerCoef * p.hit / (p.swing * petWeaponPower) * p.mult * owner
		if p.kind == petBear {
			base /= s.p.bearAutoMult
		}
		st.deal(abDireBeastKillCommand, t, base, crit, critMul(1, 1))
		st.ab[abDireBeastKillCommand].casts++
		if s.has(tKillCleave) && s.targets > 1 && p.cleave > t {
			st.dealPlain(abBeastCleave, t, st.lastPre*s.p.killCleave, aoe(s.targets-1, s.p.killCleaveFull))
		}
	}
}

// barbedShot applies the bleed, Frenzy, focus and the talents around them.
func (st *state) barbedShot() {
	s := st.sim
	p := &s.p
	st.barbedApply()
	st.grantFocusOverTime()
	if s.has(tThrillOfTheHunt) {
		st.applyAura(auThrill, 1)
	}
	if s.has(tBarbedWrath) {
		st.reduceCd(spBestialWrath, p.barbedWrathMs)
	}
	if s.has(tWarOrders) && st.rng.chance(p.warOrdersReset) {
		st.gainCharge(spKillCommand)
	}
	st.mainPets(func(slot int) {
		if s.has(tStomp) {
			st.stomp(slot, 1)
		}
	})
	st.applyAura(auFrenzy, 1)
	if s.has(tBrutalCompanion) && st.live&1 != 0 && int(st.auras[auFrenzy].stacks) == p.brutalStacks {
		st.petFocusTo(st.now)
		m := p.basicMult
		st.basicAttackMult(m * p.brutalCompanion)
	}
	if s.has(tPoisonedBarbs) && st.rng.chance(p.poisonedBarbs) {
		base := st.playerHit(abPoisonedBarbs, p.poisonedBarbsCoef*s.ap)
		chance, critM := st.playerRoll(abPoisonedBarbs, 1)
		st.dealTargets(abPoisonedBarbs, st.now, base, chance, critM, s.targets, p.poisonedBarbsFull)
	}
}

// basicAttackMult is a free Claw with multiplier m (Brutal Companion).
func (st *state) basicAttackMult(m float64) {
	s := st.sim
	pt := &st.pets[slotMain]
	t := st.now
	d, crit := st.deal(abPetClaw, t, s.p.clawCoef*s.petAp*m*st.petMultAt(pt, t), st.petCritAt(t, true), st.petCritMulAt(t, true))
	st.ab[abPetClaw].casts++
	st.petHitEffects(pt, t, d, crit)
}

// cobraShot is Cobra Shot; free is Snakeskin Quiver's copy.
func (st *state) cobraShot(free bool) {
	s := st.sim
	p := &s.p
	m := 1.0
	if a := &st.auras[auSerpentineRhythm]; a.end > st.now {
		m *= 1 + p.serpentineRhythm*float64(a.stacks)
	}
	targets := 1
	if a := &st.auras[auHogstrider]; a.end > st.now {
		m *= 1 + p.hogstrider*float64(a.stacks)
		targets += int(a.stacks)
	}
	base := st.playerHit(abCobraShot, p.cobraCoef*s.ap*m)
	chance, critM := st.playerRoll(abCobraShot, 1)
	st.dealTargets(abCobraShot, st.now, base, chance, critM, min(targets, s.targets), 0)
	if free {
		st.ab[abCobraShot].casts++
	}
	st.reduceCd(spKillCommand, p.cobraKCMs)
	if s.has(tKillerCobra) && st.auras[auBestialWrath].end > st.now {
		st.gainCharge(spKillCommand)
	}
	if s.has(tSerpentineRhythm) {
		st.applyAura(auSerpentineRhythm, 1)
		if st.auras[auSerpentineRhythm].stacks >= s.auraMax[auSerpentineRhythm] {
			st.expireAura(auSerpentineRhythm)
			st.applyAura(auSerpentineBlessing, 1)
		}
	}
	if s.has(tBarbedScales) {
		st.reduceCd(spBarbedShot, p.barbedScalesMs)
	}
	if s.has(tDireSummons) {
		st.shortenHowl(p.direSummonsCobra)
	}
	st.expireAura(auHogstrider)
}

// multiShotBM is beast mastery's Multi-Shot: every target, and Beast
// Cleave for the pets.
func (st *state) multiShotBM() {
	s := st.sim
	base := st.playerHit(abMultiShot, s.p.multiShotCoef*s.ap)
	chance, critM := st.playerRoll(abMultiShot, 1)
	st.dealTargets(abMultiShot, st.now, base, chance, critM, s.targets, s.p.multiShotFull)
	if s.has(tBeastCleave) {
		st.beastCleave(s.auraDur[auBeastCleave])
	}
}

// beastCleave gives the hunter and the main pets Beast Cleave for d.
func (st *state) beastCleave(d int64) {
	st.settle()
	if st.auraRemaining(auBeastCleave) < d {
		st.applyAuraFor(auBeastCleave, 1, d)
	}
	end := st.auras[auBeastCleave].end
	st.mainPets(func(slot int) { st.pets[slot].cleave = max(st.pets[slot].cleave, end) })
}

// bestialWrath is Bestial Wrath: the hunter and the pets deal more damage,
// the pets strike.
func (st *state) bestialWrath() {
	s := st.sim
	p := &s.p
	st.applyAura(auBestialWrath, 1)
	st.mainPets(func(slot int) {
		ab := abPetBestialWrath
		st.petAbility(slot, ab, 0, p.bwHitCoef*s.petAp, 1)
		st.ab[ab].casts++
	})
	if s.has(tScentOfBlood) {
		for range s.rank[tScentOfBlood] {
			st.gainCharge(spBarbedShot)
		}
	}
	if s.has(tLeadFromTheFront) {
		st.howlSync()
		st.applyAura(auLeadFromTheFront, 1)
		st.howlNextReady()
	}
}

// callOfTheWild summons pets from the stable, now and every period.
func (st *state) callOfTheWild() {
	s := st.sim
	p := &s.p
	st.applyAura(auCallOfTheWild, 1)
	for range p.cotwPets {
		if i := st.summonPet(petCotw, st.now, s.auraDur[auCallOfTheWild]); i >= 0 && s.has(tBloodyFrenzy) {
			st.settle()
			st.pets[i].cleave = st.auras[auCallOfTheWild].end
		}
	}
	cut := p.cotwCut * float64(p.cotwPets)
	st.reduceCd(spKillCommand, ms(s.baseCd[spKillCommand]*cut))
	st.reduceCd(spBarbedShot, ms(s.baseCd[spBarbedShot]*cut))
	if s.has(tBloodyFrenzy) {
		st.beastCleave(st.auraRemaining(auCallOfTheWild))
	}
	if s.has(tWitheringFire) {
		st.witheringFire(s.auraDur[auCallOfTheWild])
	}
	st.schedule(st.now+p.cotwPeriodMs, event{kind: evCotwTick, b: uint8(p.cotwTicks), gen: st.auras[auCallOfTheWild].gen})
}

// cotwTick is one of Call of the Wild's periodic summons; left counts it.
func (st *state) cotwTick(left uint8) {
	s := st.sim
	p := &s.p
	if s.has(tBloodyFrenzy) {
		st.settle()
	}
	if i := st.summonPet(petCotw, st.now, p.cotwPetMs); i >= 0 && s.has(tBloodyFrenzy) {
		st.pets[i].cleave = st.auras[auBeastCleave].end
	}
	st.reduceCd(spKillCommand, ms(s.baseCd[spKillCommand]*p.cotwCut))
	st.reduceCd(spBarbedShot, ms(s.baseCd[spBarbedShot]*p.cotwCut))
	if s.has(tBloodyFrenzy) {
		end := st.auras[auBeastCleave].end
		st.stablePets(func(slot int) {
			st.stomp(slot, 1)
			if end > st.now {
				st.pets[slot].cleave = max(st.pets[slot].cleave, end)
			}
		})
	}
	if left > 1 {
		st.schedule(st.now+p.cotwPeriodMs, event{kind: evCotwTick, b: left - 1, gen: st.auras[auCallOfTheWild].gen})
	}
}

// bloodshed makes the pets bleed the target.
func (st *state) bloodshed() {
	s := st.sim
	pets := 1
	if s.has(tAnimalCompanion) {
		pets = 2
	}
	st.startDot(dotBloodshed, s.dotDur[dotBloodshed], s.dotPeriod[dotBloodshed], pets)
}

// summonDireBeast summons a Dire Beast at time t: it attacks a whole number
// of times, the last one at random by the fraction left (sc_hunter.cpp's
// model of the game).
func (st *state) summonDireBeast(t int64) {
	s := st.sim
	swing := s.p.petSwing / st.haste
	n := s.p.direBeastDur / swing
	attacks := int(n)
	if st.rng.chance(n - float64(attacks)) {
		attacks++
	}
	if attacks < 1 {
		return
	}
	st.summonPet(petDireBeast, t, ms(float64(attacks)*swing))
	if s.has(tHuntmastersCall) {
		st.huntmaster++
		if int(st.huntmaster) >= s.p.huntmasterStacks {
			st.huntmaster = 0
			dur := s.auraDur[auSummonHati]
			if st.rng.chance(0.5) {
				st.summonPet(petFenryr, t, dur)
				st.startTimedAt(auSummonFenryr, t, dur)
				st.dots[dotRavenousLeap] = dot{next: t + s.dotPeriod[dotRavenousLeap], last: t + s.dotDur[dotRavenousLeap], targets: 1}
				st.dotLive |= 1 << dotRavenousLeap
				st.dotDue = min(st.dotDue, t+s.dotPeriod[dotRavenousLeap])
				st.auras[auRavenousLeap].end = t + s.dotDur[dotRavenousLeap]
			} else {
				st.summonPet(petHati, t, dur)
				st.auras[auSummonHati].end = t + dur
				st.invalidate()
			}
		}
		st.auras[auHuntmastersCall].end, st.auras[auHuntmastersCall].stacks = never, st.huntmaster
	}
}
