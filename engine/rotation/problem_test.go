package rotation_test

import (
	"testing"

	"wowlab/engine/rotation"
)

func TestSuggest(t *testing.T) {
	spells := []string{"kill_command", "barbed_shot", "cobra_shot", "bestial_wrath"}
	actions := []string{"cast", "call", "run", "set", "modify", "wait", "wait_until", "pool"}
	tests := []struct {
		name       string
		in         string
		candidates []string
		want       string
	}{
		{"missing letter", "kil_command", spells, "kill_command"},
		{"swap", "cats", actions, "cast"},
		{"tie prefers shared prefix", ">==", []string{"==", ">=", "<="}, ">="},
		{"tie alphabetical", "bat", []string{"cat", "bar"}, "bar"},
		{"exact", "wait", actions, "wait"},
		{"long name allows 3", "kilcommnd", spells, "kill_command"},
		{"long name refuses 4", "klcommnd_x", spells, ""},
		{"short name allows 2", "rdy", []string{"ready", "remaining"}, "ready"},
		{"short name refuses 3", "fr", []string{"frenzy"}, ""},
		{"distance equal to length refused", "a", []string{"b"}, ""},
		{"nothing close", "shoot", actions, ""},
		{"no candidates", "cast", nil, ""},
		{"empty name", "", []string{"a"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rotation.Suggest(tt.in, tt.candidates); got != tt.want {
				t.Errorf("Suggest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// Suggest must not reorder the caller's slice.
	c := []string{"z", "a"}
	rotation.Suggest("b", c)
	if c[0] != "z" || c[1] != "a" {
		t.Errorf("Suggest changed its candidates: %v", c)
	}
}

func TestUnknownNameError(t *testing.T) {
	tests := []struct {
		err  rotation.UnknownNameError
		want string
	}{
		{rotation.UnknownNameError{Kind: "spell", Name: "kil_command", Candidates: []string{"kill_command", "cobra_shot"}},
			`unknown spell "kil_command"; did you mean "kill_command"?`},
		{rotation.UnknownNameError{Kind: "aura", Name: "zzz", Candidates: []string{"frenzy"}}, `unknown aura "zzz"`},
		{rotation.UnknownNameError{Kind: "talent", Name: "x"}, `unknown talent "x"`},
		{rotation.UnknownNameError{Kind: "cd field", Name: "redy", In: "cd.kill_command.redy", Candidates: []string{"ready"}},
			`unknown cd field "redy" in "cd.kill_command.redy"; did you mean "ready"?`},
		{rotation.UnknownNameError{Kind: "variable", Name: "x", In: "x"}, `unknown variable "x"`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestProblemsError(t *testing.T) {
	tests := []struct {
		ps   rotation.Problems
		want string
	}{
		{nil, "no problems"},
		{rotation.Problems{{Msg: "invalid JSON: x"}}, "invalid JSON: x"},
		{rotation.Problems{{Path: "actions[0].cast", Msg: "m"}}, "actions[0].cast: m"},
		{rotation.Problems{{Path: "a", Msg: "x"}, {Msg: "y"}}, "2 problems: a: x; y"},
	}
	for _, tt := range tests {
		if got := tt.ps.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
