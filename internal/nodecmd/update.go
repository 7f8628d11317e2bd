package nodecmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"aead.dev/minisign"

	"wowlab/internal/cli"
	"wowlab/internal/logging"
	"wowlab/internal/version"
	"wowlab/node"
	"wowlab/node/update"
)

// holdFile, in the config directory, records the version an
// "update --rollback" left, so automatic updates do not reinstall it.
const holdFile = "update-hold"

// restartHint follows an update or rollback made by hand.
func restartHint(app App) string {
	if app.Service {
		return "restart the node to run it (a service: " + app.Name + " service restart)"
	}
	return "restart " + app.Name + " to run it"
}

// updateFlags are the settings of updates, shared by run and update.
type updateFlags struct {
	noUpdate    bool
	feed        string
	keys        []string
	prerelease  bool
	inContainer bool
	githubAPI   string
	interval    time.Duration
}

func (u *updateFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&u.noUpdate, "no-update", false, "never install updates by themselves (auto_update = false in config.ini does the same)")
	fs.StringVar(&u.feed, "feed", update.DefaultFeed, "where releases come from: github:owner/name or a base URL holding releases.json")
	fs.StringArrayVar(&u.keys, "update-key", nil, "minisign public key trusted besides the built-in release key (a self-hosted fleet's), repeatable")
	fs.BoolVar(&u.prerelease, "prerelease", false, "install prereleases too")
	fs.BoolVar(&u.inContainer, "update-in-container", false, "allow updates inside a container (only when the binary lives on a volume)")
	fs.DurationVar(&u.interval, "update-interval", update.DefaultInterval, "time between checks for a new release, each moved at random by up to an hour or a twelfth of it")
	fs.StringVar(&u.githubAPI, "github-api", update.DefaultGitHubAPI, "GitHub API of github: feeds")
	_ = fs.MarkHidden("github-api")
	for name, env := range map[string]string{
		"no-update": "WOWLAB_NO_UPDATE", "feed": "WOWLAB_UPDATE_FEED", "prerelease": "WOWLAB_UPDATE_PRERELEASE",
		"update-in-container": "WOWLAB_UPDATE_IN_CONTAINER", "github-api": "WOWLAB_GITHUB_API",
		"update-interval": "WOWLAB_UPDATE_INTERVAL", "update-key": "WOWLAB_UPDATE_KEY",
	} {
		cli.BindEnv(fs, name, env)
	}
}

// updater builds the Updater of this binary from the flags.
func (u *updateFlags) updater(binary, configDir string, logger *slog.Logger) (*update.Updater, error) {
	spec := u.feed
	if spec == "" {
		spec = update.DefaultFeed
	}
	feed, err := update.ParseFeed(spec, u.githubAPI)
	if err != nil {
		return nil, cli.Usagef("--feed: %v", err)
	}
	var keys []minisign.PublicKey
	for _, s := range u.keys {
		k, err := update.ParsePublicKey(s)
		if err != nil {
			return nil, cli.Usagef("--update-key: %v", err)
		}
		keys = append(keys, k)
	}
	return update.New(update.Options{
		Binary: binary, Version: version.String(), Feed: feed, Keys: keys,
		Prerelease: u.prerelease, InContainer: u.inContainer,
		HoldFile: filepath.Join(configDir, holdFile), Logger: logger,
	})
}

// forcedOff says why automatic updates are off whatever config.ini says
// (a flag), or "".
func (u *updateFlags) forcedOff() string {
	if u.noUpdate {
		return "--no-update (or WOWLAB_NO_UPDATE) is set"
	}
	return ""
}

// configOff says why config.ini turns automatic updates off, or "".
func configOff(cfg node.Config) string {
	if !cfg.AutoUpdate {
		return update.OffByConfig
	}
	return ""
}

// newUpdateCmd is "PROGRAM update".
func newUpdateCmd(f *flags, out io.Writer) *cobra.Command {
	var check, rollback bool
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Install the newest signed release of " + f.app.Name + " now (or --check, --rollback)",
		Long: "update looks for the newest release above the running version in the feed, downloads the\n" +
			"archive for this platform, checks it against SHA256SUMS and that file's signature against the\n" +
			"release key built into this binary, runs the new binary's version command and then replaces this\n" +
			"binary, keeping the old one beside it for --rollback. A running node goes on with the old\n" +
			"binary until it is restarted. --check only says what is available and whether the node\n" +
			"updates by itself.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if check && rollback {
				return cli.Usagef("--check and --rollback exclude each other")
			}
			return runUpdate(cmd.Context(), f, out, check, rollback)
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "only say whether a newer release is available")
	cmd.Flags().BoolVar(&rollback, "rollback", false, "put back the binary the last update replaced")
	return cmd
}

func runUpdate(ctx context.Context, f *flags, out io.Writer, check, rollback bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	configDir, err := f.resolvedConfigDir()
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	u, err := f.update.updater(f.app.Name, configDir, logger)
	if err != nil {
		return err
	}
	if rollback {
		got, err := u.Rollback(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "rolled back from %s to %s at %s (%s is kept at %s and not installed again automatically)\n",
			got.From, got.To, got.Path, got.From, got.Previous)
		fmt.Fprintln(out, restartHint(f.app))
		return nil
	}
	fmt.Fprintf(out, "running %s, releases from %s\n", version.String(), u.Feed())
	if check {
		cfg, err := node.LoadConfig(configDir, logger)
		if err != nil {
			return err
		}
		off := cmp.Or(f.update.forcedOff(), configOff(cfg))
		var blocked *update.BlockedError
		if err := u.Blocked(); errors.As(err, &blocked) {
			off = blocked.Reason
		} else if err != nil {
			return err
		}
		if off == "" {
			fmt.Fprintln(out, "automatic updates: on")
		} else {
			fmt.Fprintf(out, "automatic updates: off (%s)\n", off)
		}
	}
	rel, err := u.Check(ctx)
	if check && errors.As(err, new(*update.BlockedError)) {
		return nil // said above
	}
	if errors.Is(err, update.ErrNoUpdate) {
		fmt.Fprintf(out, "up to date: %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	if check {
		fmt.Fprintf(out, "available: %s (%s)\n", rel.Version, rel.Tag)
		if rel.Notes != "" {
			fmt.Fprintf(out, "\n%s\n", rel.Notes)
		}
		return nil
	}
	got, err := u.Apply(ctx, rel)
	if err != nil {
		return fmt.Errorf("%s refused, this binary is unchanged: %w", rel.Version, err)
	}
	fmt.Fprintf(out, "updated %s from %s to %s (the old binary is kept at %s for 'update --rollback')\n", got.Path, got.From, got.To, got.Previous)
	fmt.Fprintln(out, restartHint(f.app))
	return nil
}

// autoUpdates is the update checker running beside the node. A release it
// finds while automatic updates are on is staged (downloaded, verified,
// test-run) while the node keeps working; then the node is drained
// (Core.Finish: the chunks it holds are completed first) and run installs
// it and restarts. The control API reports the checker's Status and checks
// on demand.
type autoUpdates struct {
	checker *update.Checker
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	staged  *update.Staged
}

func startUpdates(ctx context.Context, f *flags, core *node.Core, log *slog.Logger, drain func()) (*autoUpdates, error) {
	u, err := f.update.updater(f.app.Name, f.configDir, log)
	if err != nil {
		return nil, err
	}
	a := &autoUpdates{done: make(chan struct{})}
	ctx, a.cancel = context.WithCancel(ctx)
	c := &update.Checker{Updater: u, Off: configOff(core.Config()), Forced: f.update.forcedOff(), Save: core.SetAutoUpdate,
		Logger: log, Interval: f.update.interval, Found: func(ctx context.Context, rel update.Release) error {
			s, err := u.Stage(ctx, rel)
			if err != nil {
				log.Error("update refused; the node keeps running its version", "version", rel.Version, "running", version.String(), "err", err)
				return err
			}
			a.mu.Lock()
			a.staged = s
			a.mu.Unlock()
			log.Info("update verified; draining the node to install it", "version", rel.Version)
			drain()
			return nil
		}}
	if off := c.Status().Off; off != "" {
		log.Info("automatic updates are off", "why", off)
	}
	a.checker = c
	go func() {
		defer close(a.done)
		_ = c.Run(ctx)
	}()
	return a, nil
}

// stop ends the checker and returns the release it staged, if any.
func (a *autoUpdates) stop() *update.Staged {
	a.cancel()
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.staged
}

// RestartedEnv is set in the environment of a node started by its own
// update, so a front does not open a second browser window.
const RestartedEnv = "WOWLAB_NODE_RESTARTED"

// installAndRestart switches the staged binary in and restarts the node as
// the new version: in place on Unix; a desktop program on Windows starts
// the new binary and exits; else it exits with update.ExitRestart for the
// service manager to start it.
func installAndRestart(app App, s *update.Staged, out io.Writer, logger *logging.Logger) error {
	got, err := s.Commit()
	if err != nil {
		logger.Error("update refused; the node keeps its version", "err", err)
		return err
	}
	fmt.Fprintf(out, "updated from %s to %s; restarting\n", got.From, got.To)
	logger.Info("restarting as the new version", "version", got.To, "path", got.Path)
	logger.Close()
	os.Setenv(RestartedEnv, "1")
	err = update.Restart(got.Path)
	if errors.Is(err, update.ErrRestartByExit) && app.Front != nil {
		cmd := exec.Command(got.Path, os.Args[1:]...)
		if err = cmd.Start(); err == nil {
			fmt.Fprintf(out, "started %s as %s\n", got.To, got.Path)
			return cmd.Process.Release()
		}
	}
	if errors.Is(err, update.ErrRestartByExit) {
		fmt.Fprintf(out, "exiting with status %d for the service manager (or you) to start %s\n", update.ExitRestart, got.To)
	} else {
		fmt.Fprintf(out, "could not restart in place (%v); exiting with status %d for the service manager (or you) to start %s\n", err, update.ExitRestart, got.To)
	}
	return &cli.ExitError{Code: update.ExitRestart}
}
