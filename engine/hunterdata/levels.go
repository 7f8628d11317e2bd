package hunterdata

// PlayerLevel is the level of the simulated hunter.
const PlayerLevel = 80

// Rating per percent at level 80 (source "dr"); mastery rating converts to
// mastery points, which each spec's mastery multiplies (76657, 193468).
const (
	CritRatingPerPct    = 700
	HasteRatingPerPct   = 660
	VersRatingPerPct    = 780
	MasteryRatingPerPct = 700
	// BaseMasteryPoints every character has before rating (SimulationCraft
	// player base mastery; source "simc").
	BaseMasteryPoints = 8
)

// Bracket is one diminishing-returns bracket: rating beyond Above percent
// (before diminishing returns) counts only Keep of its value.
type Bracket struct {
	Above float64
	Keep  float64
}

// Brackets are the secondary stats' diminishing returns at level 80, the
// same for crit, haste, versatility and mastery points (source "dr").
func Brackets() []Bracket {
	return []Bracket{{30, 0.9}, {40, 0.8}, {50, 0.7}, {60, 0.6}, {70, 0.5}, {200, 0}}
}

// Diminish applies the diminishing returns to a percentage from rating.
func Diminish(pct float64) float64 {
	out, from, keep := 0.0, 0.0, 1.0
	for _, b := range Brackets() {
		if pct <= b.Above {
			break
		}
		out += (b.Above - from) * keep
		from, keep = b.Above, b.Keep
	}
	return out + (pct-from)*keep
}

// Armor is a creature level's armor and the armor constant K of an attacker
// of that level: a hit loses armor/(armor+K) of its physical damage.
type Armor struct {
	Level    int
	Armor    float64 // of a creature of this level
	Constant float64 // K of an attacker of this level
}

// ArmorByLevel lists creature armor and armor constants for the levels a
// target can have around level 80 (source "stat"; levels 80 to 133 share
// one row).
func ArmorByLevel() []Armor {
	return []Armor{
		{70, 5024, 11722},
		{71, 12297, 28692},
		{72, 13880, 32387},
		{73, 15667, 36557},
		{74, 17521, 40882},
		{75, 19777, 46146},
		{76, 22117, 51606},
		{77, 24965, 58251},
		{78, 28179, 65752},
		{79, 34914, 81466},
		{80, 42857, 100000},
	}
}

// LevelArmor returns the armor row of level, clamped to the table.
func LevelArmor(level int) Armor {
	rows := ArmorByLevel()
	if level <= rows[0].Level {
		return rows[0]
	}
	last := rows[len(rows)-1]
	if level >= last.Level {
		return Armor{Level: level, Armor: last.Armor, Constant: last.Constant}
	}
	return rows[level-rows[0].Level]
}
