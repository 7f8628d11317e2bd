package nodecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"wowlab/internal/cli"
	"wowlab/internal/logging"
	"wowlab/internal/priority"
	"wowlab/internal/version"
	"wowlab/node"
	"wowlab/node/control"
	"wowlab/node/policy"
	"wowlab/node/probe"
)

// flags are the settings of the run command.
type flags struct {
	app         App
	configDir   string
	logDir      string
	apiURL      string
	sentinelURL string
	anonKey     string
	policy      policy.Overrides // policy flags given for this run
	logFormat   string
	grace       time.Duration
	priority    string
	update      updateFlags
	// controlListen is the control API's address; controlRemote allows
	// one that is not loopback.
	controlListen string
	controlRemote bool
	fixedChunks   bool
}

// resolvedConfigDir returns --config-dir or the default.
func (f *flags) resolvedConfigDir() (string, error) {
	if f.configDir != "" {
		return f.configDir, nil
	}
	return node.DefaultConfigDir()
}

// NewRoot builds the command tree of app; out receives what the node
// prints for people (claim code, state changes, chunks).
func NewRoot(app App, out io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	f := flags{app: app, policy: policy.Overrides{}}
	root := &cobra.Command{
		Use:   app.Name,
		Short: app.Short,
		Long:  app.Long,
		Args:  cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return cli.ApplyEnv(cmd.Flags(), lookupEnv)
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return runNode(cmd.Context(), f, out) },
	}
	fs := root.PersistentFlags()
	fs.StringVar(&f.configDir, "config-dir", "", "directory of the key and config.ini (default: user config dir/wowlab-node)")
	fs.StringVar(&f.logDir, "log-dir", "", "directory of the daily log files (default: user data dir/wowlab-node/logs)")
	fs.StringVar(&f.apiURL, "api-url", "", "REST and Realtime base URL for this run (default: from config.ini)")
	fs.StringVar(&f.sentinelURL, "sentinel-url", "", "sentinel URL for this run (default: from config.ini)")
	fs.StringVar(&f.anonKey, "anon-key", "", "backend anon key for this run (default: from config.ini)")
	fs.StringVar(&f.logFormat, "log-format", "text", "console log format: text or json")
	fs.DurationVar(&f.grace, "grace", 30*time.Second, "time running chunks get to finish at shutdown")
	fs.StringVar(&f.priority, "priority", "idle", "CPU priority: idle (simulate only when nothing else wants the CPU), low or normal")
	fs.StringVar(&f.controlListen, app.controlFlag(), app.ControlAddr, "address of the local control API that ctl uses (port 0: a free one, written to control.url)")
	fs.BoolVar(&f.controlRemote, "control-allow-remote", false, "allow a --"+app.controlFlag()+" address that is not loopback (the API is then reachable from the network, with the key)")
	fs.BoolVar(&f.fixedChunks, "fixed-chunks", false, "announce no sized chunks: take the protocol's chunks of 1000 iterations, as an original node does")
	for name, env := range map[string]string{
		"config-dir": "WOWLAB_NODE_CONFIG_DIR", "log-dir": "WOWLAB_NODE_LOG_DIR", "api-url": "WOWLAB_API_URL",
		"sentinel-url": "WOWLAB_SENTINEL_URL", "anon-key": "WOWLAB_ANON_KEY", "priority": "WOWLAB_NODE_PRIORITY",
		app.controlFlag(): "WOWLAB_NODE_CONTROL_LISTEN", "control-allow-remote": "WOWLAB_NODE_CONTROL_ALLOW_REMOTE",
	} {
		cli.BindEnv(fs, name, env)
	}
	addPolicyFlags(fs, f.policy)
	f.update.register(fs)
	if app.Front != nil {
		app.Front.Flags(fs)
	}

	runCmd := &cobra.Command{
		Use:   "run",
		Short: "Run the node (the default command)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runNode(cmd.Context(), f, out) },
	}
	root.SetOut(out)
	root.AddCommand(runCmd, cli.VersionCommand(app.Name), newCtl(app.Name, &f.configDir, out), newUpdateCmd(&f, out))
	if app.Service {
		root.AddCommand(newServiceCmd(&f, out))
	}
	return root
}

// runNode runs the node, through the service manager when it started it.
func runNode(ctx context.Context, f flags, out io.Writer) error {
	return runManaged(ctx, func(ctx context.Context) error { return run(ctx, f, out) })
}

// run starts the node and stops it on SIGINT or SIGTERM.
func run(parent context.Context, f flags, out io.Writer) error {
	if parent == nil {
		parent = context.Background()
	}
	if f.grace < 0 {
		return cli.Usagef("--grace must not be negative")
	}
	grace := f.grace
	if grace == 0 {
		grace = time.Nanosecond // no grace at all; the library reads zero as its default
	}
	format, err := logging.ParseFormat(f.logFormat)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	prio, err := priority.Parse(f.priority)
	if err != nil {
		return cli.Usagef("--priority: %v", err)
	}
	if f.configDir, err = f.resolvedConfigDir(); err != nil {
		return err
	}
	if f.logDir == "" {
		if f.logDir, err = node.DefaultLogDir(); err != nil {
			return err
		}
	}
	saved, err := node.LoadPolicy(f.configDir)
	if err != nil {
		return err
	}
	if _, err := saved.With(f.policy); err != nil {
		return cli.Usagef("%v", err)
	}
	ring := logging.NewRing(1000)
	logger, err := logging.Setup(logging.Options{Console: os.Stderr, Format: format, Dir: f.logDir, Level: slog.LevelInfo, Ring: ring})
	if err != nil {
		return err
	}
	defer logger.Close()
	if err := priority.Lower(prio); err != nil {
		logger.Warn("simulating at the priority the node was started with", "priority", prio, "err", err)
	}

	core, err := node.New(node.Options{
		ConfigDir:   f.configDir,
		Overrides:   node.Overrides{APIURL: f.apiURL, SentinelURL: f.sentinelURL, AnonKey: f.anonKey},
		Policy:      f.policy,
		Probes:      probe.New(logger.Logger),
		Version:     version.String(),
		Logger:      logger.Logger,
		Intervals:   node.Intervals{Grace: grace},
		FixedChunks: f.fixedChunks,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The front (node-gui's dashboard and tray) stays up until the program
	// ends; an update ends it without a signal.
	frontCtx, endFront := context.WithCancel(ctx)
	defer endFront()
	// An update drains the node as ctl finish does: the chunks it holds
	// are completed first.
	updating := make(chan struct{})
	var updateOnce sync.Once
	updates, err := startUpdates(ctx, &f, core, logger.Logger, func() {
		updateOnce.Do(func() { close(updating) })
		if err := core.Finish(); err != nil && !errors.Is(err, node.ErrFinishing) {
			logger.Warn("could not drain the node for the update", "err", err)
		}
	})
	if err != nil {
		return err
	}
	opts := control.Options{
		Addr: f.controlListen, AllowRemote: f.controlRemote, ConfigDir: f.configDir,
		Version: version.String(), Logs: ring, Logger: logger.Logger, Updates: updates.checker,
	}
	if front := f.app.Front; front != nil {
		front.Control(&opts, core, Dirs{Config: f.configDir, Log: f.logDir, Priority: prio.String()})
	}
	ctl, err := control.Listen(core, opts)
	if err != nil {
		updates.stop()
		var running *control.AlreadyRunningError
		if front := f.app.Front; front != nil && errors.As(err, &running) {
			c, derr := control.Dial(f.configDir, nil)
			if derr != nil {
				return err
			}
			return front.AlreadyRunning(ctx, c, out)
		}
		return err
	}
	h := core.Host()
	fmt.Fprintf(out, "%s %s on %s: %d of %d cores enabled, %s priority, config in %s\n",
		f.app.Name, version.String(), h.Platform, h.EnabledCores, h.TotalCores, prio, f.configDir)
	fmt.Fprintf(out, "control API on %s: %s ctl status --config-dir %s\n", ctl.URL(), f.app.Name, f.configDir)
	// The API outlives the core's drain, so ctl can watch it finish.
	ctlCtx, stopCtl := context.WithCancel(context.Background())
	ctlDone := make(chan error, 1)
	go func() { ctlDone <- ctl.Serve(ctlCtx) }()
	closeCtl := sync.OnceFunc(func() {
		stopCtl()
		if err := <-ctlDone; err != nil {
			logger.Warn("control API", "err", err)
		}
	})
	defer closeCtl()

	sentinelURL := core.Config().SentinelURL
	events, cancel := core.Subscribe(256)
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for e := range events {
			printEvent(out, e, sentinelURL)
		}
	}()
	if front := f.app.Front; front == nil {
		err = core.Run(ctx)
	} else {
		done := make(chan struct{})
		go func() {
			err = core.Run(ctx)
			close(done)
			select {
			case <-updating:
				endFront() // restart as the new version
			default: // finished, or stopped: the front stays until quit
			}
		}()
		front.Run(frontCtx, Running{Core: core, Control: ctl, Logger: logger.Logger, Done: done, Quit: stop})
		select {
		case <-updating: // the node drains (or has drained) for the update
		default:
			stop()
		}
		<-done
	}
	cancel()
	<-printed
	staged := updates.stop()
	if err != nil || staged == nil || ctx.Err() != nil {
		if staged != nil {
			staged.Discard() // stopped by a signal: the next start finds the release again
		}
		fmt.Fprintln(out, "node stopped")
		return err
	}
	closeCtl() // a restarted node listens on the same address
	return installAndRestart(f.app, staged, out, logger)
}

// claimHint says where to enter the claim code: the claim page the
// sentinel publishes, the WoWLab portal for the project's own sentinel,
// or the operator's command on a self-hosted one without a claim page.
func claimHint(st node.State, sentinelURL string) string {
	switch {
	case st.ClaimURL != "":
		return fmt.Sprintf("Open %s?code=%s to link the node to your account.", st.ClaimURL, st.ClaimCode)
	case strings.TrimRight(sentinelURL, "/") != node.DefaultSentinelURL:
		return fmt.Sprintf("Ask the sentinel's operator to claim it for you: sentinel nodes claim %s --user YOUR-USER-ID", st.ClaimCode)
	}
	return "Open the WoWLab portal, choose \"Add node\" and enter this code to link the node to your account."
}

// printEvent writes one line per state change and per chunk.
func printEvent(out io.Writer, e node.Event, sentinelURL string) {
	switch e.Kind {
	case node.StateChanged:
		if e.State.Phase == node.Claiming {
			fmt.Fprintf(out, "\nClaim code: %s\n%s\n\n", e.State.ClaimCode, claimHint(e.State, sentinelURL))
			return
		}
		fmt.Fprintf(out, "state: %s\n", e.State)
	case node.ConnectionChanged:
		fmt.Fprintf(out, "realtime: %s\n", e.Connection)
	case node.Claimed:
		fmt.Fprintf(out, "claimed as %q\n", e.State.Name)
	case node.ChunkAssigned:
		fmt.Fprintf(out, "chunk %s: assigned, %d iterations from %d\n", e.Chunk.ID, e.Chunk.Iterations, e.Chunk.SeedOffset)
	case node.ChunkCompleted:
		fmt.Fprintf(out, "chunk %s: completed, mean DPS %.1f\n", e.Chunk.ID, e.Result.MeanDps)
	case node.ChunkFailed:
		fmt.Fprintf(out, "chunk %s: failed: %v\n", e.Chunk.ID, e.Err)
	case node.ChunkReleased:
		fmt.Fprintf(out, "chunk %s: handed back\n", e.Chunk.ID)
	}
}
