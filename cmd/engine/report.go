// The sim command's result, and its text, JSON and CSV forms.
package main

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"

	"wowlab/engine"
)

// report is what sim prints. Every field except WallSeconds and
// IterationsPerSecond is the same for the same input whatever --threads is.
type report struct {
	Spec               string                `json:"spec"`
	Patch              string                `json:"patch"`
	Seed               int64                 `json:"seed"`
	Duration           float64               `json:"duration"`
	Threads            int                   `json:"threads"`
	Iterations         int                   `json:"iterations"`
	MeanDps            float64               `json:"meanDps"`
	StdDps             float64               `json:"stdDps"`
	MinDps             float64               `json:"minDps"`
	MaxDps             float64               `json:"maxDps"`
	EventsPerIteration float64               `json:"eventsPerIteration"`
	Abilities          []engine.AbilityStats `json:"abilities"`
	WallSeconds        float64               `json:"wallSeconds"`
	IterationsPerSec   float64               `json:"iterationsPerSecond"`
}

// newReport builds the report of res, a run of sim on threads goroutines
// that took wall seconds. Abilities are sorted by damage, highest first.
func newReport(sim *engine.Sim, res *engine.Result, threads int, wall float64) *report {
	cfg := sim.Config()
	abilities := slices.Clone(res.Abilities)
	slices.SortStableFunc(abilities, func(x, y engine.AbilityStats) int { return cmp.Compare(y.Damage, x.Damage) })
	if abilities == nil {
		abilities = []engine.AbilityStats{}
	}
	r := &report{
		Spec:               sim.SpecName(),
		Patch:              res.Patch,
		Seed:               cfg.Seed,
		Duration:           cfg.Duration,
		Threads:            threads,
		Iterations:         res.Iterations,
		MeanDps:            res.MeanDps,
		StdDps:             res.StdDps,
		MinDps:             res.MinDps,
		MaxDps:             res.MaxDps,
		EventsPerIteration: float64(res.Events) / float64(res.Iterations),
		Abilities:          abilities,
		WallSeconds:        wall,
	}
	if wall > 0 {
		r.IterationsPerSec = float64(res.Iterations) / wall
	}
	return r
}

// writerFor returns the function that prints a report in format, or nil
// for an unknown format.
func writerFor(format string) func(io.Writer, *report) error {
	switch format {
	case "text":
		return writeText
	case "json":
		return writeJSON
	case "csv":
		return writeCSV
	}
	return nil
}

// writeJSON prints r as one JSON object on one line.
func writeJSON(w io.Writer, r *report) error {
	if err := json.NewEncoder(w).Encode(r); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// writeText prints r as aligned summary lines and an ability table.
func writeText(w io.Writer, r *report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "spec\t%s (patch %s)\n", r.Spec, r.Patch)
	fmt.Fprintf(tw, "fight\t%s s, seed %d\n", num(r.Duration, -1), r.Seed)
	fmt.Fprintf(tw, "iterations\t%d on %d threads\n", r.Iterations, r.Threads)
	fmt.Fprintf(tw, "dps\t%s ± %s\n", num(r.MeanDps, 1), num(r.StdDps, 1))
	fmt.Fprintf(tw, "min dps\t%s\n", num(r.MinDps, 1))
	fmt.Fprintf(tw, "max dps\t%s\n", num(r.MaxDps, 1))
	fmt.Fprintf(tw, "events/iteration\t%s\n", num(r.EventsPerIteration, 1))
	fmt.Fprintf(tw, "iterations/s\t%s (%s s)\n", num(r.IterationsPerSec, 0), num(r.WallSeconds, 3))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write text: %w", err)
	}
	fmt.Fprintln(w)
	// Numbers align right; padding the names to one width keeps them
	// aligned left in the same right-aligning table.
	nameW, actorW := len("ability"), len("actor")
	for _, a := range r.Abilities {
		nameW, actorW = max(nameW, len(a.Name)), max(actorW, len(a.Actor))
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\t%-*s\tdps\tdamage/iteration\tcasts/iteration\tshare\t\n", nameW, "ability", actorW, "actor")
	for _, a := range r.Abilities {
		fmt.Fprintf(tw, "%-*s\t%-*s\t%s\t%s\t%s\t%s%%\t\n", nameW, a.Name, actorW, a.Actor, num(r.MeanDps*a.DamageShare, 1),
			num(a.DamagePerIteration, 0), num(a.CastsPerIteration, 2), num(a.DamageShare*100, 2))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write text: %w", err)
	}
	return nil
}

// writeCSV prints r as CSV: a header, one row per ability, then a summary
// row named "total" that also carries the DPS statistics.
func writeCSV(w io.Writer, r *report) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"ability", "actor", "dps", "damage_per_iteration", "casts_per_iteration", "damage_share",
		"std_dps", "min_dps", "max_dps", "iterations"}}
	var dmg float64
	for _, a := range r.Abilities {
		dmg += a.DamagePerIteration
		rows = append(rows, []string{a.Name, a.Actor, num(r.MeanDps*a.DamageShare, -1), num(a.DamagePerIteration, -1),
			num(a.CastsPerIteration, -1), num(a.DamageShare, -1), "", "", "", ""})
	}
	rows = append(rows, []string{"total", "", num(r.MeanDps, -1), num(dmg, -1), "", "1",
		num(r.StdDps, -1), num(r.MinDps, -1), num(r.MaxDps, -1), strconv.Itoa(r.Iterations)})
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// num formats v with prec decimals (-1: as few as represent v exactly).
func num(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
