package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"wowlab/engine"
	"wowlab/internal/cli"
)

// convertFlags are the settings of the convert command.
type convertFlags struct {
	file string
	spec string
}

func (a *app) newConvertCmd() *cobra.Command {
	var f convertFlags
	cmd := &cobra.Command{
		Use:   "convert --file FILE [--spec SPEC]",
		Short: "Print a rotation saved by the original portal in the engine's rotation language",
		Long: "convert translates a rotation saved by the original portal's editor ({defaultListId, lists,\n" +
			"variables} with query-builder conditions and spell ids) into the engine's rotation language and\n" +
			"prints it. What cannot be translated is printed as \"<json path>: <message>\", one per line, with\n" +
			"exit status 1. When FILE is a config document (it has a \"player\" field) its rotation is\n" +
			"translated with its spec and trinkets, and --spec is ignored. docs/rotation-language.md lists\n" +
			"what each portal field becomes.",
		Example: "  engine convert --file saved_rotation.json --spec bm",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return a.convert(f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.file, "file", "f", "", "portal rotation or config document to translate (JSON file; required)")
	fs.StringVar(&f.spec, "spec", "beast_mastery", "spec the rotation is for (beast_mastery, marksmanship or an alias)")
	if err := cmd.MarkFlagRequired("file"); err != nil {
		panic(err) // the flag is declared just above
	}
	return cmd
}

// convert runs the convert command.
func (a *app) convert(f convertFlags) error {
	spec, err := engine.LookupSpec(f.spec)
	if err != nil {
		return cli.Usagef("--spec: %w", err)
	}
	data, err := os.ReadFile(f.file)
	if err != nil {
		return cli.Usagef("read --file: %w", err)
	}
	script, problems := engine.TranslateRotation(data, spec.Name)
	if len(problems) > 0 {
		return a.printProblems(problems)
	}
	if _, err := fmt.Fprintln(a.stdout, string(script)); err != nil {
		return fmt.Errorf("write the translation: %w", err)
	}
	return nil
}
