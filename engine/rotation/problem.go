package rotation

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a rotation, located by its JSON path
// (for example "actions[3].if" or "lists.cooldowns[0].cast").
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Problems is every problem found in a rotation. It is the error type that
// Parse and Compile return.
type Problems []Problem

func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "no problems"
	case 1:
		return ps[0].String()
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return fmt.Sprintf("%d problems: %s", len(ps), strings.Join(lines, "; "))
}

// UnknownNameError is returned by an Env when a path names a spell, aura,
// talent or field that does not exist. Candidates are the names that do, of
// the same kind, so the message can suggest the nearest one.
type UnknownNameError struct {
	Kind       string // "spell", "aura", "talent", "resource", "field", ...
	Name       string
	Candidates []string
	// In is the whole path the name appeared in, when it is not the name itself.
	In string
}

func (e *UnknownNameError) Error() string {
	msg := fmt.Sprintf("unknown %s %q", e.Kind, e.Name)
	if e.In != "" && e.In != e.Name {
		msg += fmt.Sprintf(" in %q", e.In)
	}
	if s := Suggest(e.Name, e.Candidates); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg
}

// Suggest returns the candidate closest to name by edit distance, or "" if
// none is close enough to be a plausible typo.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", 0
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		d := editDistance(name, c)
		// Ties go to the candidate that shares the longer prefix with name
		// (">==" suggests ">=", not "=="), then to the first in sorted order.
		if best == "" || d < bestDist || d == bestDist && commonPrefix(name, c) > commonPrefix(name, best) {
			best, bestDist = c, d
		}
	}
	limit := 2
	if len(name) > 6 {
		limit = 3
	}
	if best == "" || bestDist > limit || bestDist >= len(name) {
		return ""
	}
	return best
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// editDistance is the optimal string alignment distance between a and b:
// the number of single-byte insertions, deletions, substitutions and
// swaps of two adjacent bytes ("cats" is one edit from "cast").
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
