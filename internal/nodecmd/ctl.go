package nodecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"wowlab/internal/cli"
	"wowlab/internal/logging"
	"wowlab/node"
	"wowlab/node/control"
	"wowlab/node/policy"
)

// Exit codes of ctl besides 0 (done), 1 (the node refused or failed) and 2
// (bad usage).
const (
	exitNotRunning   = 3 // no node runs with this config directory
	exitUnauthorized = 4 // the node refused the key
)

// newCtl returns the ctl command: it drives the node running with the
// same config directory through its control API.
func newCtl(prog string, configDir *string, out io.Writer) *cobra.Command {
	ctl := &cobra.Command{
		Use:   "ctl",
		Short: "Control the running node: status, pause, resume, finish, settings, logs",
		Long: "ctl talks to the node running with the same --config-dir (it finds the address and the API\n" +
			"key of the node's control API there).\n\n" +
			"Exit status: 0 done, 1 the node refused or failed, 2 bad usage, 3 no node is running with\n" +
			"this config directory, 4 the node refused the API key.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	// session dials the node and runs f, turning the errors people meet
	// into a sentence and an exit code.
	session := func(cmd *cobra.Command, timeout time.Duration, f func(context.Context, *control.Client) error) error {
		dir := *configDir
		if dir == "" {
			var err error
			if dir, err = node.DefaultConfigDir(); err != nil {
				return err
			}
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		var hc *http.Client
		if timeout > 0 {
			hc = &http.Client{Timeout: timeout}
		}
		c, err := control.Dial(dir, hc)
		if err == nil {
			err = f(ctx, c)
		}
		stderr := cmd.ErrOrStderr()
		switch {
		case errors.Is(err, control.ErrNotRunning):
			fmt.Fprintf(stderr, "%[1]s ctl: no node is running with config directory %[2]s\n"+
				"Start one with: %[1]s --config-dir %[2]s\n", prog, dir)
			return &cli.ExitError{Code: exitNotRunning}
		case errors.Is(err, control.ErrUnauthorized):
			fmt.Fprintf(stderr, "%s ctl: the node refused the API key (%v)\n"+
				"The key is %s in %s; a node started since may have replaced it. Restart the node, or use its --config-dir.\n",
				prog, err, control.KeyFile, dir)
			return &cli.ExitError{Code: exitUnauthorized}
		}
		return err
	}
	jsonOut := func(v any) error {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}

	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the node's state, work and policies",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return session(cmd, 10*time.Second, func(ctx context.Context, c *control.Client) error {
				s, err := c.Status(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return jsonOut(s)
				}
				printStatus(out, prog, s)
				return nil
			})
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")

	var now bool
	pause := &cobra.Command{
		Use:   "pause",
		Short: "Pause: take no new chunks; running ones finish, queued ones are handed back",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return session(cmd, 30*time.Second, func(ctx context.Context, c *control.Client) error {
				s, err := c.Pause(ctx, now)
				if err != nil {
					return err
				}
				if now {
					fmt.Fprintln(out, "Paused. The node handed back its chunks.")
				} else {
					fmt.Fprintln(out, "Paused. Running chunks finish first; queued ones were handed back.")
				}
				printPolicyLine(out, s.Policy)
				fmt.Fprintf(out, "Resume with: %s ctl resume\n", prog)
				return nil
			})
		},
	}
	pause.Flags().BoolVar(&now, "now", false, "hand back the running chunks too, instead of letting them finish")

	resume := &cobra.Command{
		Use:   "resume",
		Short: "Resume after a pause",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return session(cmd, 30*time.Second, func(ctx context.Context, c *control.Client) error {
				s, err := c.Resume(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, "Resumed.")
				printPolicyLine(out, s.Policy)
				return nil
			})
		},
	}

	finish := &cobra.Command{
		Use:   "finish",
		Short: "Finish the chunks the node holds, take no new ones, then stop",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return session(cmd, 30*time.Second, func(ctx context.Context, c *control.Client) error {
				s, err := c.Finish(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "Finishing: the node takes no new chunks, finishes the %s it holds, then stops.\n", plural(len(s.Chunks), "chunk"))
				return nil
			})
		},
	}

	var unlinkYes bool
	unlink := &cobra.Command{
		Use:   "unlink --yes",
		Short: "Finish, then forget the node's identity (key pair and node id): the next start registers a new node to claim",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !unlinkYes {
				return cli.Usagef("unlink forgets this node's identity for good (it must be claimed again after the next start); confirm with --yes")
			}
			return session(cmd, 30*time.Second, func(ctx context.Context, c *control.Client) error {
				s, err := c.Unlink(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "Unlinking: the node takes no new chunks, finishes the %s it holds and delivers the results, then forgets its identity and stops.\n", plural(len(s.Chunks), "chunk"))
				return nil
			})
		},
	}
	unlink.Flags().BoolVar(&unlinkYes, "yes", false, "confirm that the node forgets its identity")

	checkUpdate := &cobra.Command{
		Use:   "check-update",
		Short: "Look for a new release now (installed between chunks when updates are automatic)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return session(cmd, 3*time.Minute, func(ctx context.Context, c *control.Client) error {
				u, err := c.CheckUpdate(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, updateLine(prog, u))
				return nil
			})
		},
	}

	autoUpdate := &cobra.Command{
		Use:       "auto-update on|off",
		Short:     "Turn automatic updates on or off (saved to config.ini as auto_update)",
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"on", "off"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return session(cmd, 10*time.Second, func(ctx context.Context, c *control.Client) error {
				u, err := c.SetAutomaticUpdates(ctx, args[0] == "on")
				if err != nil {
					return err
				}
				fmt.Fprintln(out, updateLine(prog, u))
				return nil
			})
		},
	}

	var settingsJSON bool
	settings := &cobra.Command{
		Use:   "settings",
		Short: "Show the settings in force",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return session(cmd, 10*time.Second, func(ctx context.Context, c *control.Client) error {
				s, err := c.Settings(ctx)
				if err != nil {
					return err
				}
				if settingsJSON {
					return jsonOut(s)
				}
				printSettings(out, prog, s)
				return nil
			})
		},
	}
	settings.Flags().BoolVar(&settingsJSON, "json", false, "print the settings as JSON")

	set := &cobra.Command{
		Use:   "set NAME VALUE [NAME VALUE...]",
		Short: "Change settings: applied at once and saved to config.ini",
		Long:  "set changes settings of the running node; it applies them at once and saves them to config.ini.\n\nSettings:\n" + settingsHelp(),
		Example: "  " + prog + " ctl set cores 4\n" +
			"  " + prog + " ctl set idle_minutes 5 cores_in_use 1\n" +
			"  " + prog + " ctl set schedule \"mon-fri 18:00-08:00, sat-sun all day\"\n" +
			"  " + prog + " ctl set schedule always",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 || len(args)%2 != 0 {
				return cli.Usagef("give pairs of NAME VALUE, such as: set cores 4")
			}
			for i := 0; i < len(args); i += 2 {
				if _, ok := policy.LookupKey(args[i]); !ok {
					return cli.Usagef("unknown setting %q; the settings are: %s", args[i], strings.Join(settingNames(), ", "))
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			patch := map[string]string{}
			var order []string
			for i := 0; i < len(args); i += 2 {
				k, _ := policy.LookupKey(args[i])
				patch[k.Name] = args[i+1]
				order = append(order, k.Name)
			}
			return session(cmd, 30*time.Second, func(ctx context.Context, c *control.Client) error {
				s, err := c.UpdateSettings(ctx, patch)
				var ae *control.APIError
				if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
					return cli.Usagef("%s", ae.Message)
				}
				if err != nil {
					return err
				}
				for _, name := range order {
					fmt.Fprintf(out, "%s = %s\n", name, displayValue(s.Settings, name))
				}
				fmt.Fprintf(out, "Saved to config.ini and applied. ")
				printPolicyLine(out, policy.Decision{Cores: s.Cores, Rule: s.Rule, Effects: s.Rules})
				return nil
			})
		},
	}

	set.Flags().SetInterspersed(false) // values such as -4 are values, not flags

	var follow bool
	var lines int
	var level string
	logs := &cobra.Command{
		Use:   "logs",
		Short: "Print the node's recent log lines; -f follows new ones",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(level)); err != nil {
				return cli.Usagef("--level must be debug, info, warn or error")
			}
			if lines < 0 {
				return cli.Usagef("-n must not be negative")
			}
			if !follow {
				return session(cmd, 10*time.Second, func(ctx context.Context, c *control.Client) error {
					entries, err := c.Logs(ctx, lines, lvl)
					for _, e := range entries {
						printEntry(out, e)
					}
					return err
				})
			}
			return session(cmd, 0, func(ctx context.Context, c *control.Client) error {
				ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
				defer stop()
				return c.FollowLogs(ctx, lines, lvl, func(e logging.Entry) { printEntry(out, e) })
			})
		},
	}
	logs.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until Ctrl-C")
	logs.Flags().IntVarP(&lines, "lines", "n", 50, "recent lines to print first")
	logs.Flags().StringVar(&level, "level", "info", "lowest level shown: debug, info, warn or error")

	ctl.AddCommand(status, pause, resume, finish, unlink, settings, set, logs, checkUpdate, autoUpdate)
	// Of the flags ctl inherits, only --config-dir means anything to it.
	ctl.SetUsageTemplate(strings.Replace(ctl.UsageTemplate(), "{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}",
		`{{with .InheritedFlags.Lookup "config-dir"}}      --config-dir string   {{.Usage}}{{end}}`, 1))
	return ctl
}

func settingNames() []string {
	var out []string
	for _, k := range policy.Keys() {
		out = append(out, k.Name)
	}
	return out
}

// settingsHelp lists the settings for set --help.
func settingsHelp() string {
	var b strings.Builder
	for _, k := range policy.Keys() {
		fmt.Fprintf(&b, "  %-17s %s\n", k.Name, k.Usage)
	}
	return b.String()
}
