package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"wowlab/engine"
	"wowlab/examples"
)

func (a *app) newSpecsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "specs",
		Short: "List the simulated specs with their spells, talents and data sources",
		Long: "specs lists what the engine simulates and where its numbers come from: the game patch, the\n" +
			"public sources the spell data cites, and per specialisation its name as written in a config\n" +
			"(\"player.spec\") with the other accepted spellings, the bundled profiles (engine sim --spec),\n" +
			"the spells a rotation can cast, the damage breakdown's lines, the auras, every talent of its\n" +
			"class, spec and hero trees that a config can select in \"player.talents\" (\"name\" or\n" +
			"\"name:rank\") and the Season 3 set bonuses (\"player.tier_set\"). Each comes with its spell id\n" +
			"and the key of its source; \"sim\" marks the talents that change damage, the others are\n" +
			"accepted and change nothing.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return writeSpecs(a.stdout, engine.Specs()) },
	}
}

// writeSpecs prints the engine's content for people.
func writeSpecs(w io.Writer, specs []engine.Spec) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "patch %s (The War Within Season 3)\n", engine.Patch())
	fmt.Fprintln(tw, "sources:")
	for _, s := range engine.Sources() {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Key, s.Description)
	}
	for _, s := range specs {
		fmt.Fprintln(tw)
		fmt.Fprintf(tw, "%s (also: %s)\n", s.Name, strings.Join(s.Aliases, ", "))
		var profiles []string
		for _, p := range examples.Profiles() {
			if p.Spec == s.Name {
				name := p.Name
				if p.Default {
					name += " (default)"
				}
				profiles = append(profiles, name)
			}
		}
		fmt.Fprintf(tw, "  profiles: %s\n", strings.Join(profiles, ", "))
		fmt.Fprintln(tw, "  spells:")
		for _, sp := range s.Spells() {
			needs := ""
			if sp.Talent != "" {
				needs = "talent " + sp.Talent
			}
			fmt.Fprintf(tw, "    %s\t%d\t%s\t%s\n", sp.Name, sp.SpellID, sp.Source, needs)
		}
		fmt.Fprintln(tw, "  damage lines:")
		for _, l := range s.Lines() {
			id := "-"
			if l.SpellID != 0 {
				id = fmt.Sprint(l.SpellID)
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", l.Name, id, l.Source, l.Actor, l.School)
		}
		fmt.Fprintln(tw, "  auras:")
		for _, a := range engine.Auras() {
			fmt.Fprintf(tw, "    %s\t%d\t%s\ton the %s\n", a.Name, a.SpellID, a.Source, a.On)
		}
		tree := ""
		for _, t := range s.Talents() {
			if t.Tree != tree {
				tree = t.Tree
				label := tree + " tree"
				if tree != "class" && tree != "spec" {
					label = "hero tree " + tree
				}
				fmt.Fprintf(tw, "  talents, %s:\n", label)
			}
			mark := ""
			if t.Simulated {
				mark = "sim"
			}
			if t.Granted {
				mark += ", granted with the tree"
			}
			fmt.Fprintf(tw, "    %s\t%d\t%s\t%d rank%s\t%s\t%s\n", t.Name, t.SpellID, t.Source, t.MaxRank, plural(t.MaxRank), mark, t.Description)
		}
		fmt.Fprintln(tw, "  set bonuses (player.tier_set, of the talents' hero tree):")
		for _, b := range s.SetBonuses() {
			fmt.Fprintf(tw, "    %s %d-piece\t%d\t%s\t%s\n", b.Hero, b.Pieces, b.SpellID, b.Source, b.Effect)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write specs: %w", err)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
