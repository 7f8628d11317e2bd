package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"wowlab/engine"
	"wowlab/engine/rotation"
	"wowlab/internal/cli"
)

// validateFlags are the settings of the validate command.
type validateFlags struct {
	file string
	spec string
}

func (a *app) newValidateCmd() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate --file FILE [--spec SPEC]",
		Short: "Check a rotation script or a config document",
		Long: "validate checks a rotation script (the engine's language, or a rotation saved by the original\n" +
			"portal, which it translates first) against the spells, auras and talents of a spec and prints\n" +
			"every problem, one per line as \"<json path>: <message>\", with a suggestion for misspelled\n" +
			"names. It prints \"ok\" and exits 0 when there is none, and exits 1 otherwise. Warnings (unused\n" +
			"variables and lists, unreachable actions) are printed as \"warning: <json path>: <message>\" and\n" +
			"do not fail the check.\n" +
			"When FILE is a whole config document (it has a \"player\" field) the config is checked the\n" +
			"way a node would run it, rotation included, and --spec is ignored (the config names its spec).",
		Example: "  engine validate --file my_rotation.json --spec mm",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return a.validate(f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.file, "file", "f", "", "rotation script or config document to check (JSON file; required)")
	fs.StringVar(&f.spec, "spec", "beast_mastery", "spec a rotation script is written for (beast_mastery, marksmanship or an alias)")
	if err := cmd.MarkFlagRequired("file"); err != nil {
		panic(err) // the flag is declared just above
	}
	return cmd
}

// validate runs the validate command.
func (a *app) validate(f validateFlags) error {
	spec, err := engine.LookupSpec(f.spec)
	if err != nil {
		return cli.Usagef("--spec: %w", err)
	}
	data, err := os.ReadFile(f.file)
	if err != nil {
		return cli.Usagef("read --file: %w", err)
	}
	var problems, warnings rotation.Problems
	if isConfig(data) {
		problems, warnings, err = configProblems(data)
		if err != nil {
			return err
		}
	} else {
		problems, warnings = engine.ValidateRotation(data, spec.Name)
	}
	for _, w := range warnings {
		if _, err := fmt.Fprintln(a.stdout, "warning: "+w.String()); err != nil {
			return fmt.Errorf("write warnings: %w", err)
		}
	}
	return a.printProblems(problems)
}

// isConfig reports whether data is a config document rather than a bare
// rotation script: a JSON object with a "player" field.
func isConfig(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false
	}
	_, ok := top["player"]
	return ok
}

// configProblems compiles a config document and returns its problem, if
// any, and its rotation's warnings. Errors that are not about the config
// are returned as errors.
func configProblems(data []byte) (problems, warnings rotation.Problems, err error) {
	s, err := engine.Compile(data)
	if err == nil {
		return nil, s.RotationWarnings(), nil
	}
	var ce *engine.ConfigError
	if !errors.As(err, &ce) {
		return nil, nil, fmt.Errorf("compile config: %w", err)
	}
	return rotation.Problems{{Path: ce.Path, Msg: ce.Msg}}, nil, nil
}

// printProblems prints every problem, or "ok" when there is none, and
// turns problems into exit status 1.
func (a *app) printProblems(ps rotation.Problems) error {
	if len(ps) == 0 {
		_, err := fmt.Fprintln(a.stdout, "ok")
		return err
	}
	if err := writeProblems(a.stdout, ps); err != nil {
		return err
	}
	return &cli.ExitError{Code: 1}
}

// writeProblems prints one problem per line as "<json path>: <message>".
func writeProblems(w io.Writer, ps rotation.Problems) error {
	for _, p := range ps {
		if _, err := fmt.Fprintln(w, p.String()); err != nil {
			return fmt.Errorf("write problems: %w", err)
		}
	}
	return nil
}
