package engine

import (
	"testing"

	hd "wowlab/engine/hunterdata"
)

// quietPets stops the main pets' own swings and basic attacks, so that
// only what a test casts makes them deal damage.
func (r *rig) quietPets() *rig {
	r.st.pets[slotMain].next = never
	r.st.pets[slotCompanion].next = never
	r.st.petDue = r.st.nextPetDue()
	return r
}

// clearSummons sends away every pet but the main pet and the companion.
func (r *rig) clearSummons() {
	r.st.live &= 1<<slotCotwFirst - 1
}

// drain empties sp's charges with a recharge far off.
func (r *rig) drain(sp spellID) {
	c := &r.st.cds[sp]
	c.charges, c.end = 0, r.st.now+1<<40
}

// armorMult is the damage a physical hit keeps against c's target, from
// the level table of package hunterdata.
func armorMult(c *Config) float64 {
	a := hd.LevelArmor(hd.PlayerLevel + c.Target.LevelDiff).Armor
	if c.Target.Armor != nil {
		a = *c.Target.Armor
	}
	k := hd.LevelArmor(hd.PlayerLevel).Constant
	return 1 - a/(a+k)
}

// bmMoreTests are the beast mastery tree's talents.
var bmMoreTests = map[string]func(t *testing.T){
	"animal_companion": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "animal_companion")
		if w.st.live&(1<<slotCompanion) == 0 || o.st.live&(1<<slotCompanion) != 0 {
			t.Fatal("the Animal Companion is out without the talent, or not with it")
		}
		w.noCrits().cast(spKillCommand)
		near(t, "companion's Kill Command / the pet's", w.dmg(abCompanionKillCommand)/w.dmg(abPetKillCommand), 1, exact)
	},
	"solitary_companion": func(t *testing.T) {
		base := bmBase(t).without("animal_companion")
		w, o := pair(t, base, "solitary_companion")
		w.noCrits().cast(spKillCommand)
		o.noCrits().cast(spKillCommand)
		ratio(t, w, o, abPetKillCommand, 1+pct(474751, 2))
	},
	"pack_tactics": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "pack_tactics")
		near(t, "focus regeneration", w.s.regenBase/o.s.regenBase, 1+pct(321014, 1), exact)
	},
	"aspect_of_the_beast": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "aspect_of_the_beast")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.st.basicAttack(0, true)
		}
		ratio(t, w, o, abPetClaw, 1+pct(191384, 1))
	},
	"war_orders": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "war_orders")
		w.noCrits().st.barbedTick()
		o.noCrits().st.barbedTick()
		ratio(t, w, o, abBarbedShot, 1+pct(393933, 1))
		// Barbed Shot's chance to reset Kill Command.
		r := newRig(t, bmBase(t).with("war_orders").without("barbed_wrath", "scent_of_blood"))
		const n = 6000
		resets := count(n, func() bool {
			r.drain(spKillCommand)
			r.cast(spBarbedShot)
			return r.st.syncCd(spKillCommand).charges > 0
		})
		rate(t, "kill command resets", resets, n, pct(393933, 3))
	},
	"thrill_of_the_hunt": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "thrill_of_the_hunt")
		top := int(eff(257944, 2))
		for range top + 1 {
			w.cast(spBarbedShot)
			o.cast(spBarbedShot)
		}
		if got := w.st.auraStacks(auThrill); got != top {
			t.Fatalf("thrill stacks %d, want %d", got, top)
		}
		near(t, "pet crit added", w.st.petCritAt(0, true)-o.st.petCritAt(0, true), float64(top)*pct(257946, 1), exact)
		near(t, "cobra shot crit added", w.st.critAt(abCobraShot, 0)-o.st.critAt(abCobraShot, 0), float64(top)*pct(257946, 1), exact)
	},
	"go_for_the_throat": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "go_for_the_throat")
		w.allCrits().cast(spKillCommand)
		o.allCrits().cast(spKillCommand)
		// At a crit chance of 1 the critical damage bonus grows by #2.
		ratio(t, w, o, abPetKillCommand, (2+pct(459550, 2))/2)
	},
	"laceration": func(t *testing.T) {
		base := bmBase(t).without("unnatural_causes")
		w, o := pair(t, base, "laceration")
		for _, r := range []*rig{w.allCrits().quietPets(), o.allCrits().quietPets()} {
			r.cast(spKillCommand)
			r.at(20_000)
		}
		kc := w.dmg(abPetKillCommand) + w.dmg(abCompanionKillCommand)
		near(t, "laceration / critical Kill Commands", w.dmg(abLaceration)/kc, pct(459555, 1), exact)
		if o.dmg(abLaceration) != 0 {
			t.Error("laceration without the talent")
		}
	},
	"snakeskin_quiver": func(t *testing.T) {
		r := newRig(t, bmBase(t).with("snakeskin_quiver"))
		const n = 6000
		for range n {
			r.st.autoShot()
		}
		rate(t, "free cobra shots per auto shot", int(r.st.ab[abCobraShot].casts), n, pct(468695, 1))
	},
	"cobra_senses": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "cobra_senses")
		w.noCrits().cast(spCobraShot)
		o.noCrits().cast(spCobraShot)
		ratio(t, w, o, abCobraShot, 1+pct(378244, 2))
		near(t, "cobra shot cost added", w.s.cost[spCobraShot]-o.s.cost[spCobraShot], eff(378244, 1), exact)
	},
	"alpha_predator": func(t *testing.T) {
		base := bmBase(t).without("pack_mentality")
		w, o := pair(t, base, "alpha_predator")
		if d := w.s.charges[spKillCommand] - o.s.charges[spKillCommand]; int(d) != int(eff(269737, 3)) {
			t.Errorf("kill command charges added %d, want %v", d, eff(269737, 3))
		}
		w.noCrits().cast(spKillCommand)
		o.noCrits().cast(spKillCommand)
		ratio(t, w, o, abPetKillCommand, 1+pct(269737, 4))
	},
	"beast_cleave": func(t *testing.T) {
		base := targets(bmBase(t).with("multi_shot").without("bloody_frenzy"), 3)
		w, o := pair(t, base, "beast_cleave")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.cast(spMultiShot)
			r.at(3000)
		}
		melee := w.dmg(abPetMelee) + w.dmg(abCompanionMelee) + w.dmg(abPetClaw)
		want := pct(115939, 1) * aoe(2, int(eff(118459, 2))) * armorMult(base)
		near(t, "beast cleave / pets' melee and claws", w.dmg(abBeastCleave)/melee, want, exact)
		if o.dmg(abBeastCleave) != 0 {
			t.Error("beast cleave without the talent")
		}
		if got := w.st.auras[auBeastCleave].end; got != ms(eff(115939, 2)/1000) {
			t.Errorf("beast cleave ends at %d", got)
		}
	},
	"training_expert": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "training_expert")
		w.noCrits().cast(spKillCommand)
		o.noCrits().cast(spKillCommand)
		ratio(t, w, o, abPetKillCommand, 1+pct(378209, 1))
	},
	"hunters_prey": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "hunters_prey")
		w.noCrits().cast(spKillShot)
		o.noCrits().cast(spKillShot)
		// The main pet and the Animal Companion are out.
		ratio(t, w, o, abKillShot, 1+2*pct(468219, 1))
	},
	"stomp": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "stomp")
		w.noCrits().cast(spBarbedShot)
		o.noCrits().cast(spBarbedShot)
		if w.st.ab[abPetStomp].casts != 2 || o.dmg(abPetStomp) != 0 {
			t.Errorf("stomps: %d with, damage %v without", w.st.ab[abPetStomp].casts, o.dmg(abPetStomp))
		}
	},
	"master_handler": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "master_handler")
		if d := cut(w, o, spKillCommand, func(r *rig) { r.st.barbedTick() }); d != ms(eff(424558, 1)/1000) {
			t.Errorf("kill command cooldown cut by %d ms per bleed tick, want %v", d, eff(424558, 1))
		}
	},
	"kill_cleave": func(t *testing.T) {
		base := targets(bmBase(t).with("multi_shot", "beast_cleave"), 3)
		w, o := pair(t, base, "kill_cleave")
		for _, r := range []*rig{w.noCrits().quietPets(), o.noCrits().quietPets()} {
			r.cast(spMultiShot)
			r.st.ab[abBeastCleave].dmg = 0
			r.cast(spKillCommand)
		}
		kc := w.dmg(abPetKillCommand) + w.dmg(abCompanionKillCommand)
		want := pct(378207, 1) * aoe(2, int(eff(389448, 2))) * armorMult(base)
		near(t, "kill cleave / pets' Kill Commands", w.dmg(abKillCleave)/kc, want, exact)
		if o.dmg(abKillCleave) != 0 {
			t.Error("kill cleave without the talent")
		}
	},
	"wild_call": func(t *testing.T) {
		r := newRig(t, bmBase(t).with("wild_call").without("snakeskin_quiver")).allCrits()
		const n = 6000
		resets := count(n, func() bool {
			r.drain(spBarbedShot)
			r.st.autoShot()
			return r.st.syncCd(spBarbedShot).charges > 0
		})
		rate(t, "barbed shot charges from critical auto shots", resets, n, pct(185789, 1))
	},
	"dire_beast": func(t *testing.T) {
		r := newRig(t, bmBase(t).with("dire_beast").without("huntmasters_call"))
		const n = 20000
		beasts := count(n, func() bool {
			r.st.barbedTick()
			out := r.liveKind(petDireBeast) > 0
			r.clearSummons()
			return out
		})
		rate(t, "dire beasts per bleed tick", beasts, n, pct(120679, 1))
		o := newRig(t, bmBase(t).without("dire_beast"))
		for range 500 {
			o.st.barbedTick()
		}
		if o.liveKind(petDireBeast) != 0 {
			t.Error("dire beasts without the talent")
		}
	},
	"savagery": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "savagery")
		w.noCrits().cast(spKillCommand)
		o.noCrits().cast(spKillCommand)
		ratio(t, w, o, abPetKillCommand, 1+pct(424557, 1))
		ext := ms(eff(424557, 2) / 1000)
		for _, a := range []auraID{auFrenzy, auThrill} {
			if d := w.s.auraDur[a] - o.s.auraDur[a]; d != ext {
				t.Errorf("%s lasts %d ms longer, want %d", auras[a].name, d, ext)
			}
		}
		if d := w.s.dotDur[dotBarbed] - o.s.dotDur[dotBarbed]; d != ext {
			t.Errorf("barbed shot's bleed lasts %d ms longer, want %d", d, ext)
		}
	},
	"barbed_scales": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "barbed_scales")
		if d := cut(w, o, spBarbedShot, func(r *rig) { r.cast(spCobraShot) }); d != ms(eff(469880, 1)/1000) {
			t.Errorf("barbed shot cooldown cut by %d ms per cobra shot, want %v", d, eff(469880, 1))
		}
	},
	"poisoned_barbs": func(t *testing.T) {
		r := newRig(t, bmBase(t).with("poisoned_barbs"))
		const n = 6000
		for range n {
			r.cast(spBarbedShot)
		}
		rate(t, "poisoned barbs per barbed shot", int(r.st.ab[abPoisonedBarbs].hits), n, pct(1217535, 1))
	},
	"dire_command": func(t *testing.T) {
		r := newRig(t, bmBase(t).with("dire_command").without("huntmasters_call", "deathblow"))
		const n = 6000
		beasts := count(n, func() bool {
			r.cast(spKillCommand)
			out := r.liveKind(petDireBeast) > 0
			r.clearSummons()
			return out
		})
		rate(t, "dire beasts per kill command", beasts, n, pct(378743, 1))
	},
	"dire_cleave": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "dire_cleave")
		for _, r := range []*rig{w, o} {
			r.st.summonDireBeast(0)
		}
		slot := func(r *rig) *pet {
			for i := range maxPets {
				if r.st.live&(1<<i) != 0 && r.st.pets[i].kind == petDireBeast {
					return &r.st.pets[i]
				}
			}
			t.Fatal("no dire beast")
			return nil
		}
		if got := slot(w).cleave; got != msOf(eff(1217524, 2)) {
			t.Errorf("dire beast cleaves until %d, want %v", got, eff(1217524, 2))
		}
		if slot(o).cleave != 0 {
			t.Error("dire beast cleaves without the talent")
		}
	},
	"killer_instinct": func(t *testing.T) {
		for rank := 1; rank <= 2; rank++ {
			w := newRig(t, bmBase(t).with("killer_instinct:"+itoa(rank))).noCrits()
			o := newRig(t, bmBase(t).without("killer_instinct")).noCrits()
			w.cast(spKillCommand)
			o.cast(spKillCommand)
			ratio(t, w, o, abPetKillCommand, 1+pct(273887, 1)*float64(rank)/2)
		}
	},
	"serpentine_rhythm": func(t *testing.T) {
		r := newRig(t, bmBase(t).with("serpentine_rhythm")).noCrits()
		r.cast(spCobraShot)
		first := r.dmg(abCobraShot)
		r.cast(spCobraShot)
		near(t, "second cobra shot / first", (r.dmg(abCobraShot)-first)/first, 1+pct(468703, 1), exact)
		top := int(r.s.auraMax[auSerpentineRhythm])
		for range top {
			r.cast(spCobraShot)
		}
		if !r.st.auraActive(auSerpentineBlessing) {
			t.Fatal("no serpentine blessing at the rhythm's top stack")
		}
		near(t, "pet multiplier in the blessing", r.st.petOwnerMultAt(r.st.now, false)/newRig(t, bmBase(t)).st.petOwnerMultAt(0, false), 1+pct(468704, 1), exact)
	},
	"barbed_wrath": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "barbed_wrath")
		if d := cut(w, o, spBestialWrath, func(r *rig) { r.cast(spBarbedShot) }); d != ms(eff(231548, 1)/1000) {
			t.Errorf("bestial wrath cooldown cut by %d ms per barbed shot, want %v", d, eff(231548, 1))
		}
	},
	"thundering_hooves": func(t *testing.T) {
		base := bmBase(t).with("explosive_shot").without("stomp")
		w, o := pair(t, base, "thundering_hooves")
		for _, r := range []*rig{w.noCrits().quietPets(), o.noCrits().quietPets()} {
			r.cast(spExplosiveShot)
			r.at(r.s.auraDur[auExplosiveShot])
		}
		one := newRig(t, base.with("stomp")).noCrits().quietPets()
		one.cast(spBarbedShot)
		near(t, "hooves' stomps / a stomp", w.dmg(abPetStomp)/one.dmg(abPetStomp), pct(459693, 1), exact)
		if o.dmg(abPetStomp) != 0 {
			t.Error("stomps without the talent")
		}
	},
	"dire_frenzy": func(t *testing.T) {
		w, o := pair(t, bmBase(t).without("dire_cleave"), "dire_frenzy")
		near(t, "dire beast damage", w.s.direFrenzyDmg/o.s.direFrenzyDmg, 1+2*pct(385810, 2), exact)
		near(t, "dire beast duration added", w.s.p.direBeastDur-o.s.p.direBeastDur, 2*eff(385810, 1)/1000, exact)
	},
	"killer_cobra": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "killer_cobra")
		for _, r := range []*rig{w, o} {
			r.cast(spBestialWrath)
			r.spendAll(spKillCommand)
			r.cast(spCobraShot)
		}
		if w.st.syncCd(spKillCommand).charges != 1 || o.st.syncCd(spKillCommand).charges != 0 {
			t.Error("cobra shot in bestial wrath does not reset kill command with the talent only")
		}
	},
	"scent_of_blood": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "scent_of_blood")
		for _, r := range []*rig{w, o} {
			r.spendAll(spBarbedShot)
			r.cast(spBestialWrath)
		}
		if got := w.st.syncCd(spBarbedShot).charges; int(got) != 2 {
			t.Errorf("barbed shot charges after bestial wrath %d, want the 2 ranks' 2", got)
		}
		if o.st.syncCd(spBarbedShot).charges != 0 {
			t.Error("charges without the talent")
		}
	},
	"brutal_companion": func(t *testing.T) {
		w, o := pair(t, bmBase(t), "brutal_companion")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			for range int(eff(386870, 1)) {
				r.cast(spBarbedShot)
			}
		}
		one := newRig(t, bmBase(t)).noCrits()
		one.st.basicAttack(0, true)
		near(t, "brutal companion's claw / a claw", (w.dmg(abPetClaw)-o.dmg(abPetClaw))/one.dmg(abPetClaw), 1+pct(386870, 2), exact)
	},
	"huntmasters_call": func(t *testing.T) {
		r := newRig(t, bmBase(t).with("huntmasters_call"))
		need := hd.Get(459731).MaxStack
		for i := range need {
			r.st.summonDireBeast(0)
			hati, fenryr := r.liveKind(petHati), r.liveKind(petFenryr)
			if i < need-1 && hati+fenryr != 0 || i == need-1 && hati+fenryr != 1 {
				t.Fatalf("after %d dire beasts: %d Hati, %d Fenryr", i+1, hati, fenryr)
			}
		}
		if r.liveKind(petFenryr) == 1 {
			near(t, "haste in fenryr's buff", r.st.haste/r.s.haste, 1+pct(459735, 2), exact)
		} else {
			near(t, "pet damage in hati's buff", r.st.petOwnerMultAt(0, false)/newRig(t, bmBase(t)).st.petOwnerMultAt(0, false), 1+pct(459738, 2), exact)
		}
	},
	"bloody_frenzy": func(t *testing.T) {
		base := targets(bmBase(t).with("call_of_the_wild"), 3)
		w, o := pair(t, base, "bloody_frenzy")
		for _, r := range []*rig{w, o} {
			r.cast(spCallOfTheWild)
		}
		if w.st.auras[auBeastCleave].end != w.s.auraDur[auCallOfTheWild] || o.st.auraActive(auBeastCleave) {
			t.Errorf("beast cleave ends at %d with the talent, active %v without", w.st.auras[auBeastCleave].end, o.st.auraActive(auBeastCleave))
		}
		w.at(w.s.p.cotwPeriodMs)
		o.at(o.s.p.cotwPeriodMs)
		// Each periodic summon makes every stable pet stomp.
		if w.st.ab[abPetStomp].casts == 0 || o.st.ab[abPetStomp].casts != 0 {
			t.Errorf("stomps on the summon: %d with, %d without", w.st.ab[abPetStomp].casts, o.st.ab[abPetStomp].casts)
		}
	},
	"wild_instincts": func(t *testing.T) {
		base := bmBase(t).with("call_of_the_wild")
		w, o := pair(t, base, "wild_instincts")
		for _, r := range []*rig{w.noCrits().quietPets(), o.noCrits().quietPets()} {
			r.cast(spCallOfTheWild)
			r.cast(spKillCommand)
			r.st.ab[abPetKillCommand].dmg = 0
			r.cast(spKillCommand)
		}
		ratio(t, w, o, abPetKillCommand, 1+pct(424567, 1))
	},
	"piercing_fangs": func(t *testing.T) {
		w, o := pair(t, bmBase(t).without("go_for_the_throat"), "piercing_fangs")
		for _, r := range []*rig{w.allCrits(), o.allCrits()} {
			r.cast(spBestialWrath)
			r.st.ab[abPetKillCommand].dmg = 0
			r.cast(spKillCommand)
		}
		pf := 1 + pct(392054, 1)
		ratio(t, w, o, abPetKillCommand, critMul(1, pf)/critMul(1, 1))
	},
	"wildspeaker": func(t *testing.T) {
		w, o := pair(t, bmBase(t).without("dire_frenzy"), "wildspeaker")
		for _, r := range []*rig{w.noCrits(), o.noCrits()} {
			r.st.summonDireBeast(0)
			r.cast(spKillCommand)
		}
		if o.dmg(abDireBeastKillCommand) != 0 || w.st.ab[abDireBeastKillCommand].casts != 1 {
			t.Fatalf("dire beast kill commands: %d with, damage %v without", w.st.ab[abDireBeastKillCommand].casts, o.dmg(abDireBeastKillCommand))
		}
		// A beast's Kill Command: 1232922's coefficient of the beast's
		// attack power (the hunter's).
		got := w.dmg(abDireBeastKillCommand) / (w.s.static[abDireBeastKillCommand] * w.st.petOwnerMultAt(0, true))
		near(t, "dire beast kill command / attack power", got/w.s.ap, hd.Get(1232922).AP(1), exact)
		w.cast(spBestialWrath)
		before := w.dmg(abDireBeastKillCommand)
		w.cast(spKillCommand)
		near(t, "in bestial wrath", (w.dmg(abDireBeastKillCommand)-before)/before, 1+pct(1235388, 1), exact)
	},
}
