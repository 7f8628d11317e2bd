// Package cli holds what every command of this repository does the same
// way: flags that fall back to environment variables, and the mapping of
// errors to one clear line and an exit code (2 for bad usage or unreadable
// input, 1 for everything else).
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"wowlab/internal/version"
)

const envAnnotation = "wowlab_env"

// BindEnv makes flag name of fs fall back to the environment variable env
// when it is not given on the command line, and says so in its usage text.
func BindEnv(fs *pflag.FlagSet, name, env string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("cli.BindEnv: no flag " + name) // programming error, found by any test run of the command
	}
	f.Usage = fmt.Sprintf("%s (env %s)", f.Usage, env)
	if err := fs.SetAnnotation(name, envAnnotation, []string{env}); err != nil {
		panic(err)
	}
}

// ApplyEnv sets every flag bound with BindEnv that was not given on the
// command line from its environment variable, when that is set. Call it
// after parsing, typically from a PersistentPreRunE. lookup is os.LookupEnv
// outside tests.
func ApplyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		envs := f.Annotations[envAnnotation]
		if f.Changed || len(envs) == 0 {
			return
		}
		v, ok := lookup(envs[0])
		if !ok || v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, Usagef("invalid value %q for %s: %v", v, envs[0], err))
		}
	})
	return errors.Join(errs...)
}

// UsageError is an error in how a command was called (bad flag, missing
// argument, unreadable input file). Run exits with status 2 for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitError carries an exit status chosen by a command (for example 1 for
// "validation found problems") after the command printed its own output.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Run executes root with args and returns the process exit status. An
// error is printed to stderr as one line prefixed with the command's name;
// a usage error also names the help to read.
func Run(root *cobra.Command, args []string, stderr io.Writer) int {
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SetArgs(args)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	msg := oneLine(err.Error())
	var usage *UsageError
	if errors.As(err, &usage) || isCobraUsage(err) {
		if cmd != nil {
			msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
		}
		fmt.Fprintf(stderr, "%s: %s\n", root.Name(), msg)
		return 2
	}
	fmt.Fprintf(stderr, "%s: %s\n", root.Name(), msg)
	return 1
}

// isCobraUsage recognises the errors cobra itself returns for unknown
// commands, wrong argument counts and arguments outside a command's
// ValidArgs, which carry no type of their own.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "required flag", "invalid argument"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Main runs root with the process arguments and exits with its status.
func Main(root *cobra.Command) {
	os.Exit(Run(root, os.Args[1:], os.Stderr))
}

// Printable returns s with every byte a terminal could act on written as a
// Go escape (\x1b, \u009b, \n...), so text that came from outside (a node's
// name or version) cannot move the cursor, retitle the window or hide
// itself. Printable text, spaces included, is kept as it is.
func Printable(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r) || r == ' ':
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

// VersionCommand is the version command of binary: it prints
// version.Line of the running version to the command's output.
func VersionCommand(binary string) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), version.Line(binary, version.String()))
			return err
		},
	}
}
