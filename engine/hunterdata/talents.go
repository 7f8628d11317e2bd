package hunterdata

// Tree is the talent tree a talent belongs to.
type Tree uint8

// The hunter's talent trees: the class tree, the spec tree and the three
// hero trees a beast mastery or marksmanship hunter can choose from.
const (
	ClassTree Tree = iota
	SpecTree
	HeroPackLeader
	HeroDarkRanger
	HeroSentinel
)

func (t Tree) String() string {
	switch t {
	case ClassTree:
		return "class"
	case SpecTree:
		return "spec"
	case HeroPackLeader:
		return "pack_leader"
	case HeroDarkRanger:
		return "dark_ranger"
	case HeroSentinel:
		return "sentinel"
	}
	return "tree?"
}

// Hero reports whether t is a hero tree.
func (t Tree) Hero() bool { return t >= HeroPackLeader }

// SpecMask is a set of specializations.
type SpecMask uint8

// The simulated specializations.
const (
	BM SpecMask = 1 << iota // Beast Mastery (spec id 253)
	MM                      // Marksmanship (spec id 254)
)

// Talent is one talent entry of a tree (a choice node has one entry per
// choice). Name is the config spelling: lower case, words joined by "_".
type Talent struct {
	Name    string
	Display string
	Tree    Tree
	Specs   SpecMask
	SpellID int
	MaxRank int
	Row     int
	Col     int
	NodeID  int
	EntryID int
	// Choice is the entry's selection index on a choice node (100, 200,
	// 300), 0 on a plain node.
	Choice int
}

// Talents returns every talent entry of the beast mastery and marksmanship
// trees (class, spec and hero), from the trait data (source "trait"), in
// tree, row and column order. Harmonize, which build 11.2.5 added beside
// Explosive Shot, is left out: the 11.2.0 spell data has no such talent.
func Talents() []Talent { return append([]Talent(nil), talents...) }

var talents = []Talent{
	{"kill_shot", "Kill Shot", ClassTree, BM, 53351, 1, 1, 3, 102378, 126441, 0},
	{"counter_shot", "Counter Shot", ClassTree, BM, 147362, 1, 4, 3, 102292, 126352, 0},
	{"intimidation", "Intimidation", ClassTree, BM, 19577, 1, 6, 1, 102397, 126461, 0},
	{"natural_mending", "Natural Mending", ClassTree, BM | MM, 270581, 1, 1, 1, 102401, 126465, 0},
	{"posthaste", "Posthaste", ClassTree, BM | MM, 109215, 1, 1, 2, 102411, 126475, 0},
	{"rejuvenating_wind", "Rejuvenating Wind", ClassTree, BM | MM, 385539, 1, 2, 1, 102381, 126444, 0},
	{"hunters_avoidance", "Hunter's Avoidance", ClassTree, BM | MM, 384799, 1, 2, 2, 102423, 126489, 0},
	{"deathblow", "Deathblow", ClassTree, BM | MM, 343248, 1, 2, 3, 102410, 126474, 0},
	{"wilderness_medicine", "Wilderness Medicine", ClassTree, BM | MM, 343242, 1, 3, 1, 102383, 126446, 0},
	{"tar_trap", "Tar Trap", ClassTree, BM | MM, 187698, 1, 3, 2, 102393, 126457, 0},
	{"tranquilizing_shot", "Tranquilizing Shot", ClassTree, BM | MM, 19801, 1, 3, 3, 102380, 126443, 0},
	{"concussive_shot", "Concussive Shot", ClassTree, BM | MM, 5116, 1, 3, 4, 102407, 126471, 0},
	{"survival_of_the_fittest", "Survival of the Fittest", ClassTree, BM | MM, 264735, 1, 4, 1, 102422, 126488, 0},
	{"entrapment", "Entrapment", ClassTree, BM | MM, 393344, 1, 4, 2, 102403, 126467, 0},
	{"kodo_tranquilizer", "Kodo Tranquilizer", ClassTree, BM | MM, 459983, 1, 4, 4, 102415, 126480, 100},
	{"devilsaur_tranquilizer", "Devilsaur Tranquilizer", ClassTree, BM | MM, 459991, 1, 4, 4, 102415, 126479, 200},
	{"misdirection", "Misdirection", ClassTree, BM | MM, 34477, 1, 4, 5, 102419, 126484, 0},
	{"scouts_instincts", "Scout's Instincts", ClassTree, BM | MM, 459455, 1, 5, 1, 102424, 126490, 0},
	{"padded_armor", "Padded Armor", ClassTree, BM | MM, 459450, 1, 5, 2, 102406, 126470, 0},
	{"lone_survivor", "Lone Survivor", ClassTree, BM | MM, 388039, 1, 5, 3, 102391, 126454, 0},
	{"specialized_arsenal", "Specialized Arsenal", ClassTree, BM | MM, 459542, 1, 5, 4, 102390, 126453, 0},
	{"disruptive_rounds", "Disruptive Rounds", ClassTree, BM | MM, 343244, 1, 5, 5, 102395, 126459, 0},
	{"no_hard_feelings", "No Hard Feelings", ClassTree, BM | MM, 459546, 1, 5, 6, 102412, 126476, 0},
	{"scare_beast", "Scare Beast", ClassTree, BM | MM, 1513, 1, 5, 7, 102382, 126445, 0},
	{"explosive_shot", "Explosive Shot", ClassTree, BM | MM, 212431, 1, 6, 2, 102420, 126485, 100},
	{"binding_shot", "Binding Shot", ClassTree, BM | MM, 109248, 1, 6, 3, 102386, 126449, 0},
	{"bursting_shot", "Bursting Shot", ClassTree, BM | MM, 186387, 1, 7, 1, 102421, 126487, 100},
	{"scatter_shot", "Scatter Shot", ClassTree, BM | MM, 213691, 1, 7, 1, 102421, 126486, 200},
	{"territorial_instincts", "Territorial Instincts", ClassTree, BM | MM, 459507, 1, 7, 2, 102394, 126458, 0},
	{"trigger_finger", "Trigger Finger", ClassTree, BM | MM, 459534, 2, 7, 3, 102396, 126460, 0},
	{"blackrock_munitions", "Blackrock Munitions", ClassTree, BM | MM, 462036, 1, 7, 4, 102392, 126456, 0},
	{"keen_eyesight", "Keen Eyesight", ClassTree, BM | MM, 378004, 2, 7, 5, 102409, 126473, 0},
	{"tar_coated_bindings", "Tar-Coated Bindings", ClassTree, BM | MM, 459460, 1, 7, 6, 102417, 126482, 0},
	{"scrappy", "Scrappy", ClassTree, BM | MM, 459533, 1, 7, 7, 102408, 126472, 0},
	{"quick_load", "Quick Load", ClassTree, BM | MM, 378771, 1, 8, 1, 102413, 126477, 0},
	{"pathfinding", "Pathfinding", ClassTree, BM | MM, 378002, 1, 8, 2, 102404, 126468, 0},
	{"binding_shackles", "Binding Shackles", ClassTree, BM | MM, 321468, 1, 8, 3, 102388, 126451, 0},
	{"camouflage", "Camouflage", ClassTree, BM | MM, 199483, 1, 8, 4, 102414, 126478, 0},
	{"kindling_flare", "Kindling Flare", ClassTree, BM | MM, 459506, 1, 8, 5, 102425, 126491, 0},
	{"trailblazer", "Trailblazer", ClassTree, BM | MM, 199921, 1, 9, 1, 102400, 126464, 0},
	{"roar_of_sacrifice", "Roar of Sacrifice", ClassTree, BM | MM, 53480, 1, 9, 2, 102405, 126469, 0},
	{"serrated_tips", "Serrated Tips", ClassTree, BM | MM, 459502, 1, 9, 3, 102384, 126447, 0},
	{"moment_of_opportunity", "Moment of Opportunity", ClassTree, BM | MM, 459488, 1, 9, 4, 102426, 126492, 0},
	{"born_to_be_wild", "Born To Be Wild", ClassTree, BM | MM, 266921, 1, 9, 5, 102416, 126481, 0},
	{"ghillie_suit", "Ghillie Suit", ClassTree, BM | MM, 459466, 1, 9, 6, 102385, 126448, 0},
	{"improved_traps", "Improved Traps", ClassTree, BM | MM, 343247, 1, 9, 7, 102418, 126483, 0},
	{"emergency_salve", "Emergency Salve", ClassTree, BM | MM, 459517, 1, 10, 1, 102389, 126452, 0},
	{"high_explosive_trap", "High Explosive Trap", ClassTree, BM | MM, 236776, 1, 10, 2, 102739, 126830, 100},
	{"implosive_trap", "Implosive Trap", ClassTree, BM | MM, 462031, 1, 10, 2, 102739, 126829, 200},
	{"unnatural_causes", "Unnatural Causes", ClassTree, BM | MM, 459527, 1, 10, 3, 102387, 126450, 0},
	{"kill_shot", "Kill Shot", ClassTree, MM, 53351, 1, 1, 3, 102399, 126463, 0},
	{"counter_shot", "Counter Shot", ClassTree, MM, 147362, 1, 4, 3, 102402, 126466, 0},
	{"intimidation", "Intimidation", ClassTree, MM, 474421, 1, 6, 1, 103990, 128413, 0},
	{"kill_command", "Kill Command", SpecTree, BM, 34026, 1, 1, 1, 102346, 126408, 0},
	{"cobra_shot", "Cobra Shot", SpecTree, BM, 193455, 1, 2, 1, 102354, 126416, 0},
	{"animal_companion", "Animal Companion", SpecTree, BM, 267116, 1, 2, 2, 102361, 126423, 100},
	{"solitary_companion", "Solitary Companion", SpecTree, BM, 474746, 1, 2, 2, 102361, 128415, 200},
	{"barbed_shot", "Barbed Shot", SpecTree, BM, 217200, 1, 2, 3, 102377, 126440, 0},
	{"pack_tactics", "Pack Tactics", SpecTree, BM, 321014, 1, 3, 1, 102374, 126437, 0},
	{"aspect_of_the_beast", "Aspect of the Beast", SpecTree, BM, 191384, 1, 3, 2, 102351, 126413, 0},
	{"war_orders", "War Orders", SpecTree, BM, 393933, 1, 3, 3, 102343, 126405, 0},
	{"thrill_of_the_hunt", "Thrill of the Hunt", SpecTree, BM, 257944, 1, 3, 4, 102345, 126407, 0},
	{"go_for_the_throat", "Go for the Throat", SpecTree, BM, 459550, 1, 4, 1, 102357, 126419, 0},
	{"multi_shot", "Multi-Shot", SpecTree, BM, 2643, 1, 4, 2, 102363, 126425, 0},
	{"laceration", "Laceration", SpecTree, BM, 459552, 1, 4, 3, 102369, 126432, 0},
	{"snakeskin_quiver", "Snakeskin Quiver", SpecTree, BM, 468695, 1, 5, 1, 102344, 126406, 100},
	{"cobra_senses", "Cobra Senses", SpecTree, BM, 378244, 1, 5, 1, 102344, 128265, 200},
	{"alpha_predator", "Alpha Predator", SpecTree, BM, 269737, 1, 5, 2, 102368, 126431, 0},
	{"beast_cleave", "Beast Cleave", SpecTree, BM, 115939, 1, 5, 3, 102341, 126403, 0},
	{"training_expert", "Training Expert", SpecTree, BM, 378209, 1, 5, 4, 102338, 126399, 0},
	{"hunters_prey", "Hunter's Prey", SpecTree, BM, 378210, 1, 5, 5, 102360, 126422, 0},
	{"stomp", "Stomp", SpecTree, BM, 199530, 1, 6, 1, 102347, 126409, 0},
	{"master_handler", "Master Handler", SpecTree, BM, 424558, 1, 6, 2, 102359, 126421, 0},
	{"kill_cleave", "Kill Cleave", SpecTree, BM, 378207, 1, 6, 3, 102355, 126417, 0},
	{"wild_call", "Wild Call", SpecTree, BM, 185789, 1, 6, 4, 102348, 126410, 0},
	{"dire_beast", "Dire Beast", SpecTree, BM, 120679, 1, 6, 5, 102376, 126439, 0},
	{"savagery", "Savagery", SpecTree, BM, 424557, 1, 7, 1, 102356, 126418, 0},
	{"bloodshed", "Bloodshed", SpecTree, BM, 321530, 1, 7, 2, 102362, 126424, 0},
	{"barbed_scales", "Barbed Scales", SpecTree, BM, 469880, 1, 7, 3, 102353, 126415, 0},
	{"bestial_wrath", "Bestial Wrath", SpecTree, BM, 19574, 1, 7, 4, 102340, 126402, 0},
	{"poisoned_barbs", "Poisoned Barbs", SpecTree, BM, 1217535, 1, 7, 5, 102358, 126420, 0},
	{"dire_command", "Dire Command", SpecTree, BM, 378743, 1, 7, 6, 102365, 126427, 0},
	{"dire_cleave", "Dire Cleave", SpecTree, BM, 1217524, 1, 7, 7, 102337, 126398, 0},
	{"killer_instinct", "Killer Instinct", SpecTree, BM, 273887, 2, 8, 1, 102364, 126426, 0},
	{"serpentine_rhythm", "Serpentine Rhythm", SpecTree, BM, 468701, 1, 8, 2, 102372, 126435, 0},
	{"barbed_wrath", "Barbed Wrath", SpecTree, BM, 231548, 1, 8, 3, 102373, 126436, 0},
	{"thundering_hooves", "Thundering Hooves", SpecTree, BM, 459693, 1, 8, 4, 102370, 126433, 0},
	{"dire_frenzy", "Dire Frenzy", SpecTree, BM, 385810, 2, 8, 5, 102367, 126430, 0},
	{"call_of_the_wild", "Call of the Wild", SpecTree, BM, 359844, 1, 9, 1, 102336, 126397, 0},
	{"killer_cobra", "Killer Cobra", SpecTree, BM, 199532, 1, 9, 2, 102375, 126438, 0},
	{"scent_of_blood", "Scent of Blood", SpecTree, BM, 193532, 2, 9, 3, 102342, 126404, 0},
	{"brutal_companion", "Brutal Companion", SpecTree, BM, 386870, 1, 9, 4, 102350, 126412, 0},
	{"huntmasters_call", "Huntmaster's Call", SpecTree, BM, 459730, 1, 9, 5, 107286, 132189, 0},
	{"wild_instincts", "Wild Instincts", SpecTree, BM, 378442, 1, 10, 1, 102339, 126401, 100},
	{"bloody_frenzy", "Bloody Frenzy", SpecTree, BM, 407412, 1, 10, 1, 102339, 126400, 200},
	{"piercing_fangs", "Piercing Fangs", SpecTree, BM, 392053, 1, 10, 2, 102371, 126434, 0},
	{"wildspeaker", "Wildspeaker", SpecTree, BM, 1232739, 1, 10, 3, 107285, 132188, 0},
	{"aimed_shot", "Aimed Shot", SpecTree, MM, 19434, 1, 1, 1, 103982, 128404, 0},
	{"rapid_fire", "Rapid Fire", SpecTree, MM, 257044, 1, 2, 1, 103961, 128383, 0},
	{"precise_shots", "Precise Shots", SpecTree, MM, 260240, 1, 2, 2, 103977, 128399, 0},
	{"streamline", "Streamline", SpecTree, MM, 260367, 1, 3, 1, 103983, 128405, 0},
	{"lock_and_load", "Lock and Load", SpecTree, MM, 194595, 1, 3, 2, 107289, 132193, 0},
	{"ammo_conservation", "Ammo Conservation", SpecTree, MM, 459794, 1, 3, 3, 103975, 128397, 0},
	{"penetrating_shots", "Penetrating Shots", SpecTree, MM, 459783, 1, 4, 1, 104130, 128717, 0},
	{"avian_specialization", "Avian Specialization", SpecTree, MM, 466867, 1, 4, 2, 104127, 128710, 100},
	{"unbreakable_bond", "Unbreakable Bond", SpecTree, MM, 1223323, 1, 4, 2, 104127, 129619, 200},
	{"trick_shots", "Trick Shots", SpecTree, MM, 257621, 1, 4, 3, 103957, 128378, 100},
	{"aspect_of_the_hydra", "Aspect of the Hydra", SpecTree, MM, 470945, 1, 4, 3, 103957, 128377, 200},
	{"in_the_rhythm", "In the Rhythm", SpecTree, MM, 407404, 1, 5, 1, 103948, 128368, 0},
	{"surging_shots", "Surging Shots", SpecTree, MM, 391559, 1, 5, 2, 103964, 128386, 0},
	{"tenacious", "Tenacious", SpecTree, MM, 474456, 1, 5, 3, 103986, 128408, 100},
	{"cunning", "Cunning", SpecTree, MM, 474440, 1, 5, 3, 103986, 128411, 200},
	{"master_marksman", "Master Marksman", SpecTree, MM, 260309, 1, 5, 4, 103974, 128396, 0},
	{"light_ammo", "Light Ammo", SpecTree, MM, 378913, 1, 5, 5, 107288, 132192, 0},
	{"improved_deathblow", "Improved Deathblow", SpecTree, MM, 378769, 1, 6, 1, 103969, 128391, 0},
	{"obsidian_arrowhead", "Obsidian Arrowhead", SpecTree, MM, 471350, 1, 6, 2, 103959, 128380, 100},
	{"on_target", "On Target", SpecTree, MM, 471348, 1, 6, 2, 103959, 128714, 200},
	{"trueshot", "Trueshot", SpecTree, MM, 288613, 1, 6, 3, 103947, 128367, 0},
	{"moving_target", "Moving Target", SpecTree, MM, 474296, 1, 6, 4, 103980, 128402, 0},
	{"precision_detonation", "Precision Detonation", SpecTree, MM, 471369, 1, 6, 5, 103949, 128369, 0},
	{"razor_fragments", "Razor Fragments", SpecTree, MM, 384790, 1, 7, 1, 103965, 128387, 0},
	{"headshot", "Headshot", SpecTree, MM, 471363, 1, 7, 2, 103972, 128394, 100},
	{"deadeye", "Deadeye", SpecTree, MM, 321460, 1, 7, 2, 103972, 128715, 200},
	{"no_scope", "No Scope", SpecTree, MM, 473385, 1, 7, 3, 103955, 128375, 0},
	{"feathered_frenzy", "Feathered Frenzy", SpecTree, MM, 470943, 1, 7, 4, 103984, 128406, 0},
	{"target_acquisition", "Target Acquisition", SpecTree, MM, 473379, 1, 7, 5, 103968, 128390, 0},
	{"shrapnel_shot", "Shrapnel Shot", SpecTree, MM, 473520, 1, 7, 6, 104126, 128709, 0},
	{"magnetic_gunpowder", "Magnetic Gunpowder", SpecTree, MM, 473522, 1, 7, 7, 103981, 128403, 0},
	{"unmatched_precision", "Unmatched Precision", SpecTree, MM, 1232955, 2, 8, 1, 103950, 128370, 0},
	{"bullseye", "Bullseye", SpecTree, MM, 204089, 1, 8, 2, 103985, 128407, 0},
	{"calling_the_shots", "Calling the Shots", SpecTree, MM, 260404, 1, 8, 3, 103958, 128379, 100},
	{"unerring_vision", "Unerring Vision", SpecTree, MM, 474738, 1, 8, 3, 103958, 132194, 200},
	{"small_game_hunter", "Small Game Hunter", SpecTree, MM, 459802, 1, 8, 4, 103978, 128400, 0},
	{"eagles_accuracy", "Eagle's Accuracy", SpecTree, MM, 473369, 2, 8, 5, 103973, 128395, 0},
	{"improved_streamline", "Improved Streamline", SpecTree, MM, 471427, 1, 9, 1, 103987, 128409, 200},
	{"focused_aim", "Focused Aim", SpecTree, MM, 378767, 1, 9, 1, 103987, 128716, 300},
	{"bulletstorm", "Bulletstorm", SpecTree, MM, 389019, 1, 9, 2, 103962, 128384, 0},
	{"tensile_bowstring", "Tensile Bowstring", SpecTree, MM, 471366, 1, 9, 3, 103966, 128388, 0},
	{"volley", "Volley", SpecTree, MM, 260243, 1, 9, 4, 103956, 128376, 0},
	{"ohnahran_winds", "Ohn'ahran Winds", SpecTree, MM, 1215021, 1, 9, 5, 103979, 128401, 0},
	{"windrunner_quiver", "Windrunner Quiver", SpecTree, MM, 473523, 1, 10, 1, 103952, 128372, 0},
	{"incendiary_ammunition", "Incendiary Ammunition", SpecTree, MM, 471428, 1, 10, 2, 107290, 132195, 0},
	{"double_tap", "Double Tap", SpecTree, MM, 473370, 1, 10, 3, 103953, 128373, 0},
	{"kill_zone", "Kill Zone", SpecTree, MM, 459921, 1, 10, 4, 103960, 128382, 100},
	{"salvo", "Salvo", SpecTree, MM, 400456, 1, 10, 4, 103960, 128381, 200},
	{"bullet_hell", "Bullet Hell", SpecTree, MM, 473378, 1, 10, 5, 104095, 128609, 0},
	{"howl_of_the_pack_leader", "Howl of the Pack Leader", HeroPackLeader, BM, 471876, 1, 1, 1, 94991, 117588, 0},
	{"pack_mentality", "Pack Mentality", HeroPackLeader, BM, 472358, 1, 2, 1, 94985, 117582, 0},
	{"dire_summons", "Dire Summons", HeroPackLeader, BM, 472352, 1, 2, 2, 94992, 117589, 0},
	{"better_together", "Better Together", HeroPackLeader, BM, 472357, 1, 2, 3, 94962, 117559, 0},
	{"ursine_fury", "Ursine Fury", HeroPackLeader, BM, 472476, 1, 3, 1, 94972, 117569, 100},
	{"envenomed_fangs", "Envenomed Fangs", HeroPackLeader, BM, 472524, 1, 3, 1, 94972, 128358, 200},
	{"fury_of_the_wyvern", "Fury of the Wyvern", HeroPackLeader, BM, 472550, 1, 3, 2, 94984, 117581, 0},
	{"hogstrider", "Hogstrider", HeroPackLeader, BM, 472639, 1, 3, 3, 94988, 117585, 0},
	{"no_mercy", "No Mercy", HeroPackLeader, BM, 472660, 1, 4, 1, 94969, 117566, 0},
	{"shell_cover", "Shell Cover", HeroPackLeader, BM, 472707, 1, 4, 2, 94967, 117564, 0},
	{"slicked_shoes", "Slicked Shoes", HeroPackLeader, BM, 472719, 1, 4, 3, 94979, 117576, 100},
	{"horsehair_tether", "Horsehair Tether", HeroPackLeader, BM, 472729, 1, 4, 3, 94979, 123781, 200},
	{"lead_from_the_front", "Lead From the Front", HeroPackLeader, BM, 472741, 1, 5, 1, 94966, 117563, 0},
	{"black_arrow", "Black Arrow", HeroDarkRanger, BM | MM, 466932, 1, 1, 1, 94987, 117584, 0},
	{"bleak_arrows", "Bleak Arrows", HeroDarkRanger, BM | MM, 467749, 1, 2, 1, 94961, 117558, 0},
	{"the_bell_tolls", "The Bell Tolls", HeroDarkRanger, BM | MM, 467644, 1, 2, 2, 94968, 117565, 0},
	{"bleak_powder", "Bleak Powder", HeroDarkRanger, BM | MM, 467911, 1, 2, 3, 94974, 117571, 0},
	{"phantom_pain", "Phantom Pain", HeroDarkRanger, BM | MM, 467941, 1, 3, 1, 94986, 117583, 100},
	{"ebon_bowstring", "Ebon Bowstring", HeroDarkRanger, BM | MM, 467897, 1, 3, 1, 94986, 123780, 200},
	{"smoke_screen", "Smoke Screen", HeroDarkRanger, BM | MM, 430709, 1, 3, 2, 94959, 123779, 0},
	{"dark_chains", "Dark Chains", HeroDarkRanger, BM | MM, 430712, 1, 3, 3, 94960, 117557, 100},
	{"shadow_dagger", "Shadow Dagger", HeroDarkRanger, BM | MM, 467741, 1, 3, 3, 94960, 128219, 200},
	{"banshees_mark", "Banshee's Mark", HeroDarkRanger, BM | MM, 467902, 1, 4, 1, 94957, 117554, 0},
	{"shadow_hounds", "Shadow Hounds", HeroDarkRanger, BM | MM, 430707, 1, 4, 2, 94983, 117580, 100},
	{"soul_drinker", "Soul Drinker", HeroDarkRanger, BM | MM, 469638, 1, 4, 2, 94983, 128238, 200},
	{"umbral_reach", "Umbral Reach", HeroDarkRanger, BM | MM, 1235397, 1, 4, 3, 94982, 132888, 0},
	{"withering_fire", "Withering Fire", HeroDarkRanger, BM | MM, 466990, 1, 5, 1, 94993, 117590, 0},
	{"sentinel", "Sentinel", HeroSentinel, MM, 450369, 1, 1, 1, 94976, 117573, 0},
	{"dont_look_back", "Don't Look Back", HeroSentinel, MM, 450373, 1, 2, 1, 94989, 117586, 0},
	{"extrapolated_shots", "Extrapolated Shots", HeroSentinel, MM, 450374, 1, 2, 2, 94973, 117570, 0},
	{"sentinel_precision", "Sentinel Precision", HeroSentinel, MM, 450375, 1, 2, 3, 94981, 117578, 0},
	{"release_and_reload", "Release and Reload", HeroSentinel, MM, 450376, 1, 3, 1, 94958, 117555, 0},
	{"catch_out", "Catch Out", HeroSentinel, MM, 451516, 1, 3, 2, 94990, 117587, 100},
	{"sideline", "Sideline", HeroSentinel, MM, 450378, 1, 3, 2, 94990, 123869, 200},
	{"invigorating_pulse", "Invigorating Pulse", HeroSentinel, MM, 450379, 1, 3, 3, 94971, 117568, 0},
	{"sentinel_watch", "Sentinel Watch", HeroSentinel, MM, 451546, 1, 4, 1, 94970, 117567, 100},
	{"eyes_closed", "Eyes Closed", HeroSentinel, MM, 450381, 1, 4, 1, 94970, 123871, 200},
	{"symphonic_arsenal", "Symphonic Arsenal", HeroSentinel, MM, 450383, 1, 4, 2, 94965, 117562, 0},
	{"overwatch", "Overwatch", HeroSentinel, MM, 450384, 1, 4, 3, 94980, 117577, 100},
	{"crescent_steel", "Crescent Steel", HeroSentinel, MM, 451530, 1, 4, 3, 94980, 123870, 200},
	{"lunar_storm", "Lunar Storm", HeroSentinel, MM, 450385, 1, 5, 1, 94978, 117575, 0}}
