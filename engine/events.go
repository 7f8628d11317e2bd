package engine

func (st *state) handle(e *event) {
	switch e.kind {
	case evCastDone:
		st.castEnd = st.now
		st.execute(spellID(e.a))
	case evChannelTick:
		if e.gen == st.channelGen {
			st.channelShot(int(e.b))
		}
	case evAuraExpire:
		if a := &st.auras[e.a]; a.gen == e.gen && a.end <= st.now {
			st.auraExpired(auraID(e.a))
		}
	case evCotwTick:
		if st.auras[auCallOfTheWild].gen == e.gen {
			st.cotwTick(e.b)
		}
	case evBarbedTick:
		st.barbedTickEvent(e.gen)
	case evBoarCharge:
		st.boarCharge()
	case evExplosive:
		st.explosiveEvent(e.gen)
	case evVolleyTick:
		st.volleyTick()
	case evLunarStorm:
		st.lunarStormTick()
	case evLunarReady:
		st.lunarStormReady()
	case evSentinel:
		st.sentinelImplodeTick()
	case evCrescentSteel:
		st.crescentSteel()
	case evWitheringTick:
		if st.auras[auWitheringFire].gen == e.gen && st.auras[auWitheringFire].end > st.now {
			st.witheringTick()
		}
	case evBloodlust:
		st.applyTimedAura(auBloodlust, st.sim.auraDur[auBloodlust])
	case evOnTargetEnd:
		st.changed = true
		st.recomputeHaste()
	case evAimedEcho:
		st.aimedEcho(e.a == 1)
	case evTrinketEnd:
		st.trinketStat(int(e.a), -1)
	}
}
