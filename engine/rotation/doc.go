// Package rotation implements the rotation language (docs/rotation-language.md
// in the repository): a JSON document of variables, named action lists, a
// precombat list and a main action list, whose conditions are small
// expressions over the fight's state. TranslatePortal reads the rotations
// the original portal's editor saved into this language.
//
// Parse turns the JSON into a syntax tree and reports every structural
// problem with its JSON path. Compile resolves every name against an Env
// supplied by the simulator (spells, auras, talents, resources), checks types
// (a number used as a condition is an error), folds constants, drops branches
// that are false at compile time, and produces a Program whose Decide method
// does no map look-ups, string comparisons or allocations.
package rotation
