package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"wowlab/engine"
)

func (a *app) newSpecsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "specs",
		Short: "List the simulated specs with their spells and talents",
		Long: "specs lists every specialisation the engine simulates: its name as written in a config\n" +
			"(\"player.spec\"), the other accepted spellings, the spells a rotation can cast, and the talents\n" +
			"a config can select in \"player.talents\", with what each does.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return writeSpecs(a.stdout, engine.Specs()) },
	}
}

// writeSpecs prints specs for people, one block per spec.
func writeSpecs(w io.Writer, specs []engine.Spec) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, s := range specs {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s (also: %s)\n", s.Name, strings.Join(s.Aliases, ", "))
		fmt.Fprintf(tw, "  spells: %s\n", strings.Join(s.SpellNames(), ", "))
		fmt.Fprintln(tw, "  talents:")
		for _, t := range s.Talents() {
			fmt.Fprintf(tw, "    %s\t%s\n", t.Name, t.Description)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write specs: %w", err)
	}
	return nil
}
