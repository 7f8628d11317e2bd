package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"wowlab/internal/cli"
)

// app is what every subcommand shares: where output goes, the clock used
// to time runs, and the environment that flags fall back to.
type app struct {
	stdout, stderr io.Writer
	now            func() time.Time
	lookupEnv      func(string) (string, bool)
}

// run executes the command line args and returns the exit status. Ctrl-C
// (SIGINT) or SIGTERM cancels a running simulation.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdout: stdout, stderr: stderr, now: time.Now, lookupEnv: os.LookupEnv}
	return a.execute(ctx, args)
}

// execute runs args under ctx and returns the exit status.
func (a *app) execute(ctx context.Context, args []string) int {
	root := a.newRoot()
	root.SetContext(ctx)
	return cli.Run(root, args, a.stderr)
}

// newRoot builds the command tree.
func (a *app) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "engine",
		Short: "Run the WoWLab simulation engine locally",
		Long: "engine runs the WoWLab combat simulation on this machine: it simulates a config document\n" +
			"(or the bundled example of a spec) many times and prints DPS statistics, lists the simulated\n" +
			"specs with their spells and talents, and validates rotation scripts.",
		Args: cobra.NoArgs,
		// Runnable so that a mistyped command is an error, not help.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return cli.ApplyEnv(cmd.Flags(), a.lookupEnv)
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(a.newSimCmd(), a.newSpecsCmd(), a.newValidateCmd(), a.newConvertCmd(), cli.VersionCommand("engine"))
	return root
}
