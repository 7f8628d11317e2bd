package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"wowlab/internal/cli"
	"wowlab/sentinel"
)

// rotationRow is a rotations row as the commands show it.
type rotationRow struct {
	ID             string  `json:"id"`
	UserID         *string `json:"user_id"`
	Slug           string  `json:"slug"`
	Name           string  `json:"name"`
	Script         string  `json:"script,omitempty"`
	Description    *string `json:"description"`
	IsPublic       bool    `json:"is_public"`
	CurrentVersion int     `json:"current_version"`
	Checksum       string  `json:"checksum"`
	UpdatedAt      string  `json:"updated_at"`
}

const rotationListColumns = "id,user_id,slug,name,description,is_public,current_version,checksum,updated_at"

// newRotationsCommand is `sentinel rotations`: a user's rotations over
// the REST surface.
func newRotationsCommand(o *options, user func(*cobra.Command)) *cobra.Command {
	rotations := &cobra.Command{Use: "rotations", Short: "Write, list and remove rotations (over HTTP, as a user)"}
	var name, file, slug, desc string
	var public bool
	add := &cobra.Command{
		Use:   "add --name NAME --file FILE",
		Short: "Store a rotation script; the sentinel checks it with the engine first",
		Long: "add stores a rotation script (the JSON rotation language, see docs/rotation-language.md) as a\n" +
			"rotation of yours and prints its id, which a config names as \"rotationId\". The script must\n" +
			"run for a spec the engine simulates: otherwise every problem is printed with its JSON path.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" || file == "" {
				return cli.Usagef("--name and --file are required")
			}
			script, err := os.ReadFile(file)
			if err != nil {
				return cli.Usagef("read --file: %v", err)
			}
			s := string(script)
			f := sentinel.RotationFields{Name: &name, Script: &s, IsPublic: &public}
			if slug != "" {
				f.Slug = &slug
			}
			if desc != "" {
				f.Description = &desc
			}
			body, err := json.Marshal(f)
			if err != nil {
				return err
			}
			var rows []rotationRow
			if err := o.client().do(cmd.Context(), "POST", "/rest/v1/rotations?select="+rotationListColumns, body, &rows); err != nil {
				return err
			}
			if len(rows) != 1 {
				return fmt.Errorf("the sentinel answered %d rows for one rotation", len(rows))
			}
			return printJSON(cmd.OutOrStdout(), rows[0])
		},
	}
	user(add)
	add.Flags().StringVar(&name, "name", "", "name of the rotation (required)")
	add.Flags().StringVar(&file, "file", "", "rotation script, a JSON file (required)")
	add.Flags().StringVar(&slug, "slug", "", "short name of lower-case letters, digits, - and _ (default: from the name)")
	add.Flags().StringVar(&desc, "description", "", "what the rotation is for")
	add.Flags().BoolVar(&public, "public", false, "let everyone's jobs use it (default: only yours)")

	list := &cobra.Command{
		Use: "list", Short: "List your rotations and the public ones", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rows []rotationRow
			if err := o.client().do(cmd.Context(), "GET", "/rest/v1/rotations?select="+rotationListColumns+"&order=updated_at.desc", nil, &rows); err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tSLUG\tPUBLIC\tVERSION\tOWNER\tUPDATED")
			p := cli.Printable
			for _, r := range rows {
				owner := "-"
				if r.UserID != nil {
					owner = *r.UserID
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%d\t%s\t%s\n", p(r.ID), p(r.Name), p(r.Slug), r.IsPublic, r.CurrentVersion, p(owner), p(r.UpdatedAt))
			}
			return w.Flush()
		},
	}
	user(list)

	show := &cobra.Command{
		Use: "show ID", Short: "Print a rotation with its script", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rows []rotationRow
			if err := o.client().do(cmd.Context(), "GET", "/rest/v1/rotations?select="+rotationListColumns+",script&id=eq."+url.QueryEscape(args[0]), nil, &rows); err != nil {
				return err
			}
			if len(rows) == 0 {
				return fmt.Errorf("rotation %s not found (not yours and not public?)", args[0])
			}
			return printJSON(cmd.OutOrStdout(), rows[0])
		},
	}
	user(show)

	rm := &cobra.Command{
		Use: "rm ID", Short: "Remove a rotation of yours", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rows []rotationRow
			if err := o.client().do(cmd.Context(), "DELETE", "/rest/v1/rotations?select=id&id=eq."+url.QueryEscape(args[0]), nil, &rows); err != nil {
				return err
			}
			if len(rows) == 0 {
				return fmt.Errorf("rotation %s not found among yours", args[0])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rotation %s removed\n", args[0])
			return nil
		},
	}
	user(rm)
	rotations.AddCommand(add, list, show, rm)
	return rotations
}
