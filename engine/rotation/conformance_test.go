package rotation_test

import (
	"strconv"
	"strings"
	"testing"

	"wowlab/engine/rotation"
)

// The conformance suite re-expresses, as facts (a rotation, the decision or
// error it must give), the behaviour the original's 136 rotation tests
// check: legacy3/wowlab crates/engine/src/rotation/tests.rs at 6948a2ae
// (the issue names commit 6bd74ccc; the stored copy read is that file's
// version 6948a2ae). Each case carries the original test's name. The
// tests of the original's internals (serde round trips, its context schema,
// its result constructors) have no counterpart here and are listed, with
// the reason, in notPorted; the cases where this engine deliberately
// decides otherwise say why in differs.

// conformance outcomes: "cast:<spell>" (or several joined by |), "idle",
// "wait:<seconds>", "ok" (parses and compiles), "error:<text>" (a problem
// whose message contains text), "warning:<text>" (compiles, with a warning
// containing text).
type conformanceCase struct {
	name    string
	script  string
	want    string
	differs string
}

var conformance = []conformanceCase{
	// Parser
	{"test_parse_simple_rotation", `{"name":"Test","actions":[{"cast":"spell_a"},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_parse_conditional_cast", `{"name":"Test","actions":[{"cast":"spell_a","if":"cd.spell_a.ready"}]}`, "cast:spell_a", ""},
	{"test_parse_variables", `{"name":"Test","variables":{"need_refresh":{"and":["buff.buff_a.active",{"<":["buff.buff_a.remaining",2]}]}},"actions":[{"cast":"spell_a","if":"need_refresh"}]}`, "idle", ""},
	{"test_parse_lists", `{"name":"Test","lists":{"cooldowns":[{"cast":"spell_a","if":"cd.spell_a.ready"}]},"actions":[{"call":"cooldowns"}]}`, "cast:spell_a", ""},
	{"test_parse_arithmetic", `{"name":"Test","actions":[{"cast":"spell_a","if":{">=":[{"+":["resource.focus",10]},50]}}]}`, "cast:spell_a", ""},
	{"test_parse_functions", `{"name":"Test","variables":{"floored":{"floor":{"/":["resource.focus",10]}},"min_val":{"min":["resource.focus",100]},"max_val":{"max":["resource.focus",0]}},"actions":[{"cast":"spell_a"}]}`, "warning:never read", ""},
	{"test_parse_resource_paths", `{"name":"Test","actions":[{"cast":"spell_a","if":{"and":[{">=":["resource.focus",30]},{"<=":["resource.focus.percent",80]},{">=":["resource.focus.deficit",20]}]}}]}`, "idle", ""},
	{"test_parse_resource_extended_paths", `{"name":"Test","actions":[{"cast":"spell_a","if":{"and":[{">=":["resource.focus.current",30]},{"<=":["resource.focus.max",100]},{">=":["resource.focus.deficit",20]},{"<=":["resource.focus.percent",80]},{">=":["resource.focus.deficit_percent",10]},{">":["resource.focus.regen",0]},{"<":["resource.focus.time_to_max",10]}]}}]}`, "idle", ""},
	{"test_parse_cooldown_paths", `{"name":"Test","actions":[{"cast":"spell_a","if":{"and":["cd.spell_a.ready",{"<":["cd.spell_a.remaining",1]},{">=":["cd.barbed_shot.charges",1]}]}}]}`, "cast:spell_a", ""},
	{"test_parse_buff_paths", `{"name":"Test","actions":[{"cast":"spell_a","if":{"and":["buff.buff_a.active",{"not":"buff.buff_b.inactive"},{">=":["buff.buff_a.stacks",3]},{"<":["buff.buff_a.remaining",5]}]}}]}`, "idle", ""},
	{"test_parse_dot_paths", `{"name":"Test","actions":[{"cast":"spell_a","if":{"or":[{"not":"dot.dot_a.ticking"},"dot.dot_a.refreshable",{"<":["dot.dot_a.remaining",3]}]}}]}`, "cast:spell_a", ""},
	{"test_parse_combat_paths", `{"name":"Test","actions":[{"cast":"spell_a","if":{"and":[{">":["combat.time",5]},{">":["combat.remaining",30]}]}}]}`, "idle", ""},
	{"test_parse_target_paths", `{"name":"Test","actions":[{"cast":"spell_a","if":{"<":["target.health_percent",35]}}]}`, "idle", ""},
	{"test_parse_talent_path", `{"name":"Test","actions":[{"cast":"spell_a","if":"talent.talent_a"}]}`, "cast:spell_a", ""},
	// Resolver
	{"test_resolver_spells", `{"actions":[{"cast":"unknown"}]}`, `error:unknown spell "unknown"`, ""},
	{"test_resolver_auras", `{"actions":[{"cast":"spell_a","if":"buff.unknown.active"}]}`, `error:unknown aura "unknown"`, ""},
	{"test_resolver_dots", `{"actions":[{"cast":"spell_a","if":"dot.dot_a.ticking"}]}`, "idle", ""},
	{"test_resolver_talents", `{"actions":[{"cast":"spell_a","if":"talent.unknown"}]}`, `error:unknown talent "unknown"`, ""},
	{"test_resolver_charged_cooldowns", `{"actions":[{"cast":"barbed_shot","if":{">":["cd.barbed_shot.charges_max",1]}},{"cast":"spell_a"}]}`, "cast:barbed_shot", ""},
	// Compilation
	{"test_compile_simple", `{"name":"Test","actions":[{"cast":"spell_a"}]}`, "cast:spell_a", ""},
	{"test_compile_conditional", `{"name":"Test","actions":[{"cast":"spell_a","if":{">=":["resource.focus",50]}},{"cast":"spell_b"}]}`, "cast:spell_a|spell_b", ""},
	{"test_compile_with_user_variables", `{"name":"Test","variables":{"should_cast":{">=":["resource.focus",30]}},"actions":[{"cast":"spell_a","if":"should_cast"},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_compile_with_lists", `{"name":"Test","lists":{"sub":[{"cast":"spell_a","if":"cd.spell_a.ready"}]},"actions":[{"call":"sub"},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_compile_talent_constant_folding", `{"name":"Test","actions":[{"cast":"spell_a","if":"talent.talent_a"},{"cast":"spell_b","if":"talent.talent_b"},{"cast":"spell_c"}]}`, "cast:spell_a", ""},
	{"test_compile_unknown_spell_error", `{"name":"Test","actions":[{"cast":"unknown_spell"}]}`, `error:unknown spell "unknown_spell"`, ""},
	{"test_compile_unknown_aura_error", `{"name":"Test","actions":[{"cast":"spell_a","if":"buff.unknown_buff.active"}]}`, `error:unknown aura "unknown_buff"`, ""},
	// Cooldowns
	{"test_cooldown_ready_with_charges", `{"name":"Test","actions":[{"cast":"barbed_shot","if":"cd.barbed_shot.ready"},{"cast":"spell_a"}]}`, "cast:barbed_shot", ""},
	{"test_parse_cooldown_base_duration", `{"name":"Test","actions":[{"cast":"spell_a","if":{">":["cd.spell_a.base_duration",5]}}]}`, "idle", ""},
	{"test_parse_cooldown_charges_fractional", `{"name":"Test","actions":[{"cast":"spell_a","if":{">=":["cd.barbed_shot.charges_fractional",1.5]}}]}`, "cast:spell_a", ""},
	{"test_parse_cooldown_full_recharge_time", `{"name":"Test","actions":[{"cast":"spell_a","if":{"<":["cd.barbed_shot.full_recharge_time",10]}}]}`, "cast:spell_a", ""},
	{"test_cooldown_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":["cd.spell_a.ready",{">=":[{"+":["cd.spell_a.charges","cd.spell_a.charges_max","cd.spell_a.remaining","cd.spell_a.duration","cd.spell_a.base_duration","cd.spell_a.charges_fractional","cd.spell_a.recharge_time","cd.spell_a.full_recharge_time"]},0]}]}}]}`, "cast:spell_a", ""},
	// Combat and target
	{"test_target_time_to_die", `{"actions":[{"cast":"spell_a","if":{">":["target.time_to_die",9.9]}}]}`, "cast:spell_a",
		"the original estimates time to die from recent DPS; here the target's health falls evenly to 0 at the end of the fight, so time_to_die is the time left"},
	{"test_target_time_to_percent", `{"actions":[{"cast":"spell_a","if":{">=":["target.time_to_percent.30",0]}}]}`, "cast:spell_a",
		"as time_to_die: the time at which the evenly falling health reaches the percent"},
	{"test_enemy_count_returns_alive_count", `{"actions":[{"cast":"spell_a","if":{"==":["enemy.count",1]}}]}`, "cast:spell_a",
		"every target lives the whole fight here, so enemy.count is the configured count"},
	{"test_parse_target_health_expressions", `{"name":"Test","actions":[{"cast":"spell_a","if":{">":["target.health",5000000]}},{"cast":"spell_b","if":{">":["target.health_max",9000000]}}]}`, "cast:spell_a", ""},
	{"test_parse_target_casting_moving", `{"name":"Test","actions":[{"cast":"spell_a","if":"target.casting"},{"cast":"spell_b","if":{"not":"target.moving"}}]}`, "cast:spell_b", ""},
	{"test_parse_combat_time_expressions", `{"name":"Test","actions":[{"cast":"spell_a","if":{">":["combat.time",5.0]}},{"cast":"spell_b","if":{"<":["combat.remaining",30.0]}}]}`, "cast:spell_b", ""},
	{"test_enemy_fields", `{"actions":[{"cast":"spell_a","if":{"and":[{"not":"target.casting"},{"not":"target.moving"},{">=":["target.distance",0]}]}}]}`, "cast:spell_a",
		"the original's enemy stands at 5 yards; the engine's at 0 (every spell is in range)"},
	// Spells
	{"test_spell_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":["spell.spell_a.in_range","spell.spell_a.usable",{">=":[{"+":["spell.spell_a.cost","spell.spell_a.cast_time","spell.spell_a.range"]},0]}]}}]}`, "cast:spell_a", ""},
	{"test_spell_usable_parse", `{"name":"Test Spell Usable","actions":[{"cast":"kill_command","if":"spell.kill_command.usable"}]}`, "cast:kill_command", ""},
	{"test_spell_in_range_parse", `{"name":"Test Spell In Range","actions":[{"cast":"kill_command","if":"spell.kill_command.in_range"}]}`, "cast:kill_command", ""},
	{"test_spell_range_parse", `{"name":"Test Spell Range","actions":[{"cast":"kill_command","if":{"<":["spell.kill_command.range",50]}}]}`, "cast:kill_command", ""},
	// Talents
	{"test_talent_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":["talent.talent_a.enabled",{"==":["talent.talent_a.rank",1]},{"==":["talent.talent_a.max_rank",1]}]}}]}`, "cast:spell_a", ""},
	{"test_talent_rank_default_for_enabled", `{"actions":[{"cast":"spell_a","if":{"and":[{"==":["talent.talent_a.rank",1]},{"==":["talent.talent_b.rank",0]}]}}]}`, "cast:spell_a", ""},
	{"test_talent_rank_explicit", `{"actions":[{"cast":"spell_a","if":{"==":["talent.ranked_talent.rank",2]}}]}`, "cast:spell_a", ""},
	{"test_talent_rank_parse", `{"name":"Test Talent Rank","actions":[{"cast":"spell_a","if":{"==":["talent.ranked_talent.rank",2]}}]}`, "cast:spell_a", ""},
	{"test_talent_max_rank_parse", `{"name":"Test Talent Max Rank","actions":[{"cast":"spell_a","if":{"==":["talent.ranked_talent.max_rank",3]}}]}`, "cast:spell_a", ""},
	// GCD
	{"test_gcd_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":[{"not":"gcd.active"},{">=":[{"+":["gcd.remaining","gcd.duration"]},0]}]}}]}`, "cast:spell_a", ""},
	{"test_gcd_active_parse", `{"name":"Test GCD Active","actions":[{"cast":"kill_command","if":{"not":"gcd.active"}}]}`, "cast:kill_command", ""},
	// Pets
	{"test_pet_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":["pet.active",{"not":"pet.buff.frenzy.active"},{">=":[{"+":["pet.count","pet.remaining"]},0]}]}}]}`, "cast:spell_a", ""},
	{"test_pet_count_parse", `{"name":"Test Pet Count","actions":[{"cast":"kill_command","if":{">":["pet.count",0]}}]}`, "cast:kill_command", ""},
	{"test_talent_info_new", `{"actions":[{"cast":"spell_a","if":{"and":["talent.talent_a",{"not":"talent.talent_b"},{"==":["talent.talent_b.max_rank",1]}]}}]}`, "cast:spell_a", ""},
	{"test_talent_info_ranked", `{"actions":[{"cast":"spell_a","if":{"and":["talent.ranked_talent.enabled",{"==":["talent.ranked_talent.max_rank",3]}]}}]}`, "cast:spell_a", ""},
	// Expressions
	{"test_division_by_zero_returns_zero", `{"name":"Test Div Zero","variables":{"div_result":{"/":[10,0]}},"actions":[{"cast":"spell_a","if":{"==":["div_result",0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_division_by_zero_float", `{"name":"Test Div Zero Float","variables":{"div_result":{"/":[10.5,0.0]}},"actions":[{"cast":"spell_a","if":{"==":["div_result",0.0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_true_modulo_negative_dividend", `{"name":"Test True Mod","variables":{"mod_result":{"%":[-7,3]}},"actions":[{"cast":"spell_a","if":{"==":["mod_result",2]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_true_modulo_positive", `{"name":"Test True Mod Positive","variables":{"mod_result":{"%":[7,3]}},"actions":[{"cast":"spell_a","if":{"==":["mod_result",1]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_modulo_by_zero_returns_zero", `{"name":"Test Mod Zero","variables":{"mod_result":{"%":[7,0]}},"actions":[{"cast":"spell_a","if":{"==":["mod_result",0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_float_equality_with_epsilon", `{"name":"Test Float Eq","actions":[{"cast":"spell_a","if":{"==":[1.0000001,1.0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_float_inequality_with_epsilon", `{"name":"Test Float Ne","actions":[{"cast":"spell_a","if":{"!=":[1.0,2.0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_validate_depth_shallow", `{"actions":[{"cast":"spell_a","if":{"and":[true,false]}},{"cast":"spell_b"}]}`, "cast:spell_b", ""},
	{"test_validate_depth_nested", `{"actions":[{"cast":"spell_a","if":` + nested("not", 50, "true") + `}]}`, "cast:spell_a", ""},
	{"test_validate_depth_exceeds_max", `{"actions":[{"cast":"spell_a","if":` + nested("not", 110, "true") + `}]}`, "error:nested deeper than 64 levels",
		"the limit is 64 levels here, the original's 100: both refuse 110 and accept 50"},
	{"test_short_circuit_and_early_exit", `{"name":"Test Short Circuit And","actions":[{"cast":"spell_a","if":{"and":[false,{">":[1,0]}]}},{"cast":"spell_b"}]}`, "cast:spell_b", ""},
	{"test_short_circuit_or_early_exit", `{"name":"Test Short Circuit Or","actions":[{"cast":"spell_a","if":{"or":[true,false]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_short_circuit_and_all_true", `{"name":"Test And All True","actions":[{"cast":"spell_a","if":{"and":[true,true,true]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_short_circuit_or_all_false", `{"name":"Test Or All False","actions":[{"cast":"spell_a","if":{"or":[false,false,false]}},{"cast":"spell_b"}]}`, "cast:spell_b", ""},
	{"test_arithmetic_operations", `{"name":"Test Arithmetic","variables":{"sum":{"+":[10,5]},"diff":{"-":[10,3]},"prod":{"*":[4,3]},"quot":{"/":[10,2]}},"actions":[{"cast":"spell_a","if":{"and":[{"==":["sum",15]},{"==":["diff",7]},{"==":["prod",12]},{"==":["quot",5]}]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_math_functions", `{"name":"Test Math Functions","variables":{"floored":{"floor":3.7},"ceiled":{"ceil":3.2},"absolute":{"abs":-5.0},"minimum":{"min":[3,7]},"maximum":{"max":[3,7]}},"actions":[{"cast":"spell_a","if":{"and":[{"==":["floored",3.0]},{"==":["ceiled",4.0]},{"==":["absolute",5.0]},{"==":["minimum",3]},{"==":["maximum",7]}]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_comparison_operators", `{"name":"Test Comparisons","actions":[{"cast":"spell_a","if":{"and":[{">":[5,3]},{">=":[5,5]},{"<":[3,5]},{"<=":[5,5]},{"==":[5,5]},{"!=":[5,3]}]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_not_operator", `{"name":"Test Not","actions":[{"cast":"spell_a","if":{"not":false}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	// Actions
	{"test_set_var_continues_to_next_action", `{"name":"Test SetVar","variables":{"my_var":10},"actions":[{"set":"my_var","value":20},{"cast":"spell_a"}]}`, "cast:spell_a", ""},
	{"test_set_var_with_condition_false", `{"name":"Test SetVar Conditional","variables":{"my_var":10},"actions":[{"set":"my_var","value":20,"if":false},{"cast":"spell_a"}]}`, "cast:spell_a", ""},
	{"test_modify_var_add_continues", `{"name":"Test ModifyVar Add","variables":{"counter":0},"actions":[{"modify":"counter","op":"add","value":5},{"cast":"spell_a"}]}`, "cast:spell_a", ""},
	{"test_modify_var_operations", `{"name":"Test ModifyVar Operations","variables":{"val":100},"actions":[{"modify":"val","op":"add","value":10},{"modify":"val","op":"sub","value":5},{"modify":"val","op":"mul","value":2},{"modify":"val","op":"div","value":4},{"modify":"val","op":"min","value":50},{"modify":"val","op":"max","value":25},{"modify":"val","op":"reset","value":0},{"cast":"spell_a"}]}`, "cast:spell_a", ""},
	{"test_pool_action_returns_pool_result", `{"name":"Test Pool","actions":[{"pool":true,"extra":20.0}]}`, "idle",
		"the original returns a pool result for the simulator to act on; here pool waits in the walk itself until the next cast's cost plus extra is there, and a rotation with nothing after it has nothing to do"},
	{"test_pool_action_default_extra", `{"name":"Test Pool Default","actions":[{"pool":true}]}`, "idle",
		"as above: pool with no cast after it and full focus lets the walk go on, and it ends with nothing to do"},
	{"test_pool_with_condition_false", `{"name":"Test Pool Conditional","actions":[{"pool":true,"extra":20.0,"if":false},{"cast":"spell_a"}]}`, "cast:spell_a", ""},
	{"test_use_trinket_stub_continues", `{"name":"Test UseTrinket","actions":[{"use_trinket":1},{"cast":"spell_a"}]}`, "cast:spell_a", ""},
	{"test_use_item_stub_continues", `{"name":"Test UseItem","actions":[{"use_item":"potion_of_power"},{"cast":"spell_a"}]}`, "cast:spell_a", ""},
	{"test_modify_var_type_check_valid", `{"name":"Test ModifyVar Type Check","variables":{"counter":0},"actions":[{"modify":"counter","op":"add","value":10}]}`, "idle", ""},
	{"test_modify_var_type_check_bool_error", `{"name":"Test ModifyVar Type Check","variables":{"counter":0},"actions":[{"modify":"counter","op":"add","value":true}]}`, "error:needs a number, got a condition", ""},
	{"test_modify_var_set_allows_bool", `{"name":"Test ModifyVar Set Bool","variables":{"flag":false},"actions":[{"modify":"flag","op":"set","value":true}]}`, "idle", ""},
	{"test_modify_var_reset_allows_any_type", `{"name":"Test ModifyVar Reset","variables":{"flag":false},"actions":[{"modify":"flag","op":"reset","value":true}]}`, "idle", ""},
	// Integration
	{"test_bm_hunter_st_rotation_json_roundtrip", bmST, "cast:bestial_wrath", ""},
	{"test_bm_hunter_st_rotation_with_paths_compiles", bmSTPaths, "cast:bestial_wrath", ""},
	{"test_bm_hunter_st_rotation_validation", bmST, "warning:never read", ""},
	{"test_bm_hunter_st_rotation_compilation", bmST, "cast:bestial_wrath|barbed_shot|kill_command|cobra_shot", ""},
	{"test_bm_hunter_st_rotation_execution", bmST, "cast:bestial_wrath", ""},
	{"test_all_expr_variants_have_value_type", `{"variables":{"x":0},"actions":[{"cast":"spell_a","if":{"and":[true,{">=":[{"+":[42,3.5,"x","resource.focus"]},0]},"cd.spell_a.ready","buff.buff_a.inactive",{"not":"debuff.buff_a.active"},{"not":"dot.dot_a.ticking"},{">=":["combat.time",0]},{">=":["target.health_percent",0]},{">=":["enemy.count",1]},{">=":["player.health",0]},{">=":["spell.spell_a.cost",0]},"talent.talent_a",{"not":"gcd.active"},"pet.active",{"not":"equipped.test"},{"not":"trinket.1.ready"},{">=":["trinket.1.remaining",0]}]}}]}`, "cast:spell_a", ""},
	{"test_all_expr_variants_validate_depth", `{"actions":[{"cast":"spell_a","if":{"and":[true,` + nested("not", 60, "true") + `]}}]}`, "cast:spell_a", ""},
	{"test_all_resource_expr_field_types", `{"actions":[{"cast":"spell_a","if":{">=":[{"+":["resource.focus.current","resource.focus.max","resource.focus.deficit","resource.focus.percent","resource.focus.deficit_percent","resource.focus.regen","resource.focus.time_to_max"]},0]}}]}`, "cast:spell_a", ""},
	{"test_all_buff_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":[{"not":"buff.buff_a.active"},"buff.buff_a.inactive",{">=":[{"+":["buff.buff_a.remaining","buff.buff_a.stacks","buff.buff_a.stacks_max","buff.buff_a.duration"]},0]}]}}]}`, "cast:spell_a", ""},
	{"test_all_debuff_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":[{"not":"debuff.buff_a.active"},"debuff.buff_a.inactive","debuff.buff_a.refreshable",{">=":[{"+":["debuff.buff_a.remaining","debuff.buff_a.stacks"]},0]}]}}]}`, "cast:spell_a", ""},
	{"test_all_dot_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":[{"not":"dot.dot_a.ticking"},"dot.dot_a.refreshable",{">=":[{"+":["dot.dot_a.remaining","dot.dot_a.ticks_remaining"]},0]}]}}]}`, "cast:spell_a", ""},
	{"test_all_target_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":[{"not":"target.casting"},{"not":"target.moving"},{">=":[{"+":["target.health","target.health_max","target.health_percent","target.time_to_die","target.time_to_percent.30","target.distance","enemy.count"]},0]}]}}]}`, "cast:spell_a", ""},
	{"test_all_player_expr_field_types", `{"actions":[{"cast":"spell_a","if":{"and":[{"not":"player.moving"},"player.alive","player.in_combat",{"not":"player.stealthed"},{"not":"player.mounted"},{">=":[{"+":["player.health","player.health.max","player.health.percent","player.health.deficit","player.haste","player.crit","player.mastery","player.versatility","player.attack_power","player.spell_power","player.armor","player.stamina","player.primary_stat","player.movement_remaining","player.level"]},0]}]}}]}`, "cast:spell_a", ""},
	{"test_all_combat_expr_field_types", `{"actions":[{"cast":"spell_a","if":{">=":[{"+":["combat.time","combat.remaining"]},0]}}]}`, "cast:spell_a", ""},
	{"test_all_enemy_expr_field_types", `{"actions":[{"cast":"spell_a","if":{">=":[{"+":["enemy.count","enemy.spell_targets_hit.spell_a"]},2]}}]}`, "cast:spell_a", ""},
	{"test_action_json_roundtrip", `{"variables":{"test":0},"lists":{"cooldowns":[{"cast":"spell_a","if":"test_flag"}],"st":[{"cast":"spell_b"}]},"actions":[{"cast":"spell_c","if":false},{"call":"cooldowns"},{"set":"test","value":10},{"modify":"test","op":"add","value":5},{"set":"test_flag","value":false},{"pool":true,"extra":20.0},{"pool":true},{"use_trinket":1},{"use_item":"potion"},{"wait_until":true},{"run":"st"}]}`, "cast:spell_b", ""},
	{"test_deeply_nested_and_or", `{"name":"Test Nested Logic","actions":[{"cast":"spell_a","if":{"and":[{"or":[true,false]},{"and":[true,{"or":[false,true]}]},{"not":false}]}}]}`, "cast:spell_a", ""},
	{"test_complex_arithmetic_expression", `{"name":"Test Complex Arithmetic","variables":{"result":{"+":[{"*":[10,2]},{"+":[{"/":[20,4]},{"-":[15,10]}]}]}},"actions":[{"cast":"spell_a","if":{"==":["result",30]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_mixed_comparison_chain", `{"name":"Test Mixed Comparisons","actions":[{"cast":"spell_a","if":{"and":[{">":[10,5]},{">=":[10,10]},{"<":[5,10]},{"<=":[10,10]},{"==":[5,5]},{"!=":[5,10]}]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	// Validation
	{"test_validation_circular_variable_reference", `{"name":"Test Circular Ref","variables":{"a":"b","b":"a"},"actions":[{"cast":"spell_a"}]}`, "error:defined in terms of itself", ""},
	{"test_validation_undefined_list", `{"name":"Test Undefined List","actions":[{"call":"nonexistent"}]}`, `error:unknown list "nonexistent"`, ""},
	{"test_validation_empty_actions", `{"name":"Test Empty Actions","actions":[]}`, "error:must hold at least one action", ""},
	{"test_validation_unused_variable_warning", `{"name":"Test Unused Variable","variables":{"unused_var":true},"actions":[{"cast":"spell_a"}]}`, `warning:variable "unused_var" is never read`, ""},
	// Runtime variable mutation
	{"test_set_var_bool_runtime_modification", `{"name":"Test","variables":{"should_cast":false},"actions":[{"set":"should_cast","value":true},{"cast":"spell_a","if":"should_cast"},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_set_var_with_condition_false_no_modification", `{"name":"Test","variables":{"should_cast":false},"actions":[{"set":"should_cast","value":true,"if":false},{"cast":"spell_a","if":"should_cast"},{"cast":"spell_b"}]}`, "cast:spell_b", ""},
	{"test_modify_var_add_runtime", `{"name":"Test","variables":{"counter":10},"actions":[{"modify":"counter","op":"add","value":5},{"cast":"spell_a","if":{">=":["counter",15]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_modify_var_sub_runtime", `{"name":"Test","variables":{"counter":20},"actions":[{"modify":"counter","op":"sub","value":15},{"cast":"spell_a","if":{"<":["counter",10]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_modify_var_mul_runtime", `{"name":"Test","variables":{"counter":5.0},"actions":[{"modify":"counter","op":"mul","value":3.0},{"cast":"spell_a","if":{"==":["counter",15.0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_modify_var_div_runtime", `{"name":"Test","variables":{"counter":20.0},"actions":[{"modify":"counter","op":"div","value":4.0},{"cast":"spell_a","if":{"==":["counter",5.0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_modify_var_min_runtime", `{"name":"Test","variables":{"counter":100.0},"actions":[{"modify":"counter","op":"min","value":50.0},{"cast":"spell_a","if":{"==":["counter",50.0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_modify_var_max_runtime", `{"name":"Test","variables":{"counter":10.0},"actions":[{"modify":"counter","op":"max","value":50.0},{"cast":"spell_a","if":{"==":["counter",50.0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_modify_var_reset_runtime", `{"name":"Test","variables":{"counter":42.0},"actions":[{"set":"counter","value":999.0},{"modify":"counter","op":"reset","value":0},{"cast":"spell_a","if":{"==":["counter",42.0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_multiple_set_var_in_sequence", `{"name":"Test","variables":{"x":0,"y":0},"actions":[{"set":"x","value":10},{"set":"y","value":20},{"cast":"spell_a","if":{"and":[{"==":["x",10]},{"==":["y",20]}]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_variable_in_arithmetic_expression", `{"name":"Test","variables":{"base":10.0},"actions":[{"set":"base","value":25.0},{"cast":"spell_a","if":{">":[{"+":["base",5.0]},20.0]}},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
	{"test_set_var_without_initial_definition", `{"name":"Test","variables":{},"actions":[{"set":"dynamic_var","value":true},{"cast":"spell_a","if":"dynamic_var"},{"cast":"spell_b"}]}`, "cast:spell_a", ""},
}

// notPorted are the original tests of its own internals, which this
// implementation has no counterpart of.
var notPorted = map[string]string{
	"test_eval_result_none":                         "the original's result constructors; a zero Decision is Idle here",
	"test_eval_result_cast":                         "the original's result constructors",
	"test_eval_result_wait":                         "the original's result constructors; wait is covered by TestDecide",
	"test_eval_result_pool":                         "the original's result constructors; there is no pool result here (see the pool cases)",
	"test_schema_builder":                           "the original's context schema; expressions are closures here",
	"test_schema_alignment":                         "the original's context schema layout",
	"test_bm_hunter_minimal_rotation":               "the original's shipped BM rotation; the engine's own default rotations are tested in package engine",
	"test_bm_hunter_example_rotation":               "the original's shipped BM rotation, as above",
	"test_cooldown_expr_json_roundtrip":             "serde round trip of the original's expression types",
	"test_cooldown_expr_camel_case_deserialization": "serde tags of the original's expression types",
	"test_dps_window_calculation":                   "the original's DPS window for time to die; see test_target_time_to_die",
	"test_expr_json_roundtrip_literals":             "serde round trip",
	"test_expr_json_roundtrip_logical":              "serde round trip",
	"test_expr_json_roundtrip_comparison":           "serde round trip",
	"test_expr_json_roundtrip_arithmetic":           "serde round trip",
	"test_expr_json_roundtrip_functions":            "serde round trip",
	"test_expression_variant_count":                 "counts the original's enum variants; docs/rotation-language.md lists every expression",
}

func nested(op string, n int, leaf string) string {
	return strings.Repeat(`{"`+op+`":`, n) + leaf + strings.Repeat("}", n)
}

// bmST and bmSTPaths are the two integration rotations of the original's
// tests (BM_HUNTER_ST_ROTATION and BM_HUNTER_ST_ROTATION_WITH_PATHS).
const bmST = `{"name":"BM Hunter ST","variables":{"pooling":false,"high_focus":{">=":[100,80]}},
	"lists":{"cooldowns":[{"cast":"bestial_wrath","if":true}],
	"st":[{"cast":"barbed_shot","if":true},{"cast":"kill_command","if":{"and":[true,{">=":[100,30]}]}},{"cast":"cobra_shot","if":{">=":[100,35]}}]},
	"actions":[{"call":"cooldowns"},{"run":"st"}]}`

const bmSTPaths = `{"name":"BM Hunter ST With Paths","variables":{"pooling":false,"frenzy_up":"buff.frenzy.active",
	"frenzy_low":{"<":["buff.frenzy.stacks",3]},
	"need_barbed":{"and":["cd.barbed_shot.ready",{"or":[{"not":"frenzy_up"},"frenzy_low",{"<":["buff.frenzy.remaining",2]}]}]}},
	"lists":{"cooldowns":[{"cast":"bestial_wrath","if":"cd.bestial_wrath.ready"}],
	"st":[{"cast":"barbed_shot","if":"need_barbed"},{"cast":"kill_command","if":{"and":["cd.kill_command.ready",{">=":["resource.focus",30]}]}},{"cast":"cobra_shot","if":{">=":["resource.focus",35]}}]},
	"actions":[{"call":"cooldowns"},{"run":"st"}]}`

func TestConformanceCoversEveryOriginalTest(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range conformance {
		if seen[c.name] {
			t.Errorf("%s is listed twice", c.name)
		}
		seen[c.name] = true
	}
	for name := range notPorted {
		if seen[name] {
			t.Errorf("%s is both ported and not", name)
		}
		seen[name] = true
	}
	if len(seen) != 136 {
		t.Errorf("%d of the original's 136 rotation tests are accounted for", len(seen))
	}
}

func TestConformance(t *testing.T) {
	for _, c := range conformance {
		t.Run(c.name, func(t *testing.T) {
			kind, want, _ := strings.Cut(c.want, ":")
			r, err := rotation.Parse([]byte(c.script))
			var p *rotation.Program
			if err == nil {
				p, err = rotation.Compile(r, newSpecEnv())
			}
			if kind == "error" {
				if err == nil {
					t.Fatalf("compiled; want a problem containing %q", want)
				}
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("problems %q; want one containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			p.Reset()
			d := p.Decide()
			switch kind {
			case "warning":
				if !strings.Contains(p.Warnings.Error(), want) {
					t.Errorf("warnings %q; want one containing %q", p.Warnings.Error(), want)
				}
			case "idle":
				if d.Kind != rotation.Idle {
					t.Errorf("decision %+v; want idle", d)
				}
			case "wait":
				if s, _ := strconv.ParseFloat(want, 64); d.Kind != rotation.Wait || d.Seconds != s {
					t.Errorf("decision %+v; want a wait of %s s", d, want)
				}
			case "cast":
				env := newSpecEnv()
				if d.Kind != rotation.Cast || !contains(strings.Split(want, "|"), env.spells[d.Spell]) {
					t.Errorf("decision %+v; want a cast of %s", d, want)
				}
			default:
				t.Fatalf("bad expectation %q", c.want)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
