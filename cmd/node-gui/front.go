package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"wowlab/internal/cli"
	"wowlab/internal/nodecmd"
	"wowlab/node"
	"wowlab/node/control"
	"wowlab/node/gui"
)

// front is node-gui's side of the node: the dashboard, the browser and
// the tray.
type front struct {
	getenv    func(string) string
	open      func(target string) error // a URL or folder, in the desktop's program for it
	noBrowser bool
	noTray    bool
	ui        *gui.UI
}

var _ nodecmd.Front = (*front)(nil)

func (f *front) Flags(fs *pflag.FlagSet) {
	fs.BoolVar(&f.noBrowser, "no-browser", false, "do not open the dashboard in the browser at start (its address is printed)")
	fs.BoolVar(&f.noTray, "no-tray", false, "show no tray icon")
	cli.BindEnv(fs, "no-browser", "WOWLAB_NODE_NO_BROWSER")
	cli.BindEnv(fs, "no-tray", "WOWLAB_NODE_NO_TRAY")
}

func (f *front) Control(opts *control.Options, core *node.Core, dirs nodecmd.Dirs) {
	f.ui = gui.New(core.Stats, gui.Options{
		Info:       gui.Info{LogDir: dirs.Log, ConfigDir: dirs.Config, Priority: dirs.Priority},
		OpenFolder: f.open,
		Logger:     opts.Logger,
	})
	opts.UI = f.ui.Handler()
	opts.Routes = f.ui.Routes()
}

// AlreadyRunning opens the dashboard of the node that runs already.
func (f *front) AlreadyRunning(ctx context.Context, c *control.Client, out io.Writer) error {
	link, err := c.LoginLink(ctx)
	if err != nil {
		return fmt.Errorf("node-gui is already running (%s) but did not give a dashboard link: %w", c.URL(), err)
	}
	fmt.Fprintf(out, "node-gui is already running; its dashboard is %s/\n", c.URL())
	if f.noBrowser {
		return nil
	}
	return f.open(link)
}

func (f *front) Run(ctx context.Context, r nodecmd.Running) {
	go f.ui.Run(ctx)
	log := r.Logger
	dashboard := r.Control.URL() + "/"
	fmt.Fprintf(os.Stdout, "dashboard: %s\n", dashboard)
	log.Info("dashboard", "url", dashboard)
	openDashboard := func() {
		link, err := r.Control.LoginURL()
		if err == nil {
			err = f.open(link)
		}
		if err != nil {
			log.Warn("could not open the dashboard in a browser; open it by hand", "url", dashboard, "err", err)
		}
	}
	restarted := f.getenv(nodecmd.RestartedEnv) != ""
	os.Unsetenv(nodecmd.RestartedEnv)
	if !f.noBrowser && !restarted {
		openDashboard()
	}
	if f.noTray || !trayAvailable(f.getenv) {
		if !trayBuilt {
			log.Info("no tray icon: this build of node-gui has none (macOS needs a cgo build)")
		} else if !f.noTray {
			log.Info("no tray icon: the desktop offers no tray; use the dashboard")
		}
		<-ctx.Done()
		return
	}
	t := &tray{
		open:        openDashboard,
		togglePause: func() { togglePause(r.Core, log) },
		finish: func() {
			if err := r.Core.Finish(); err != nil && !errors.Is(err, node.ErrFinishing) {
				log.Warn("finish", "err", err)
			}
		},
		quit:   r.Quit,
		states: make(chan trayState, 1),
		done:   make(chan struct{}),
	}
	go watchState(ctx, r.Core, t)
	runTray(t)
}

// togglePause pauses a node that runs and resumes a paused one.
func togglePause(core *node.Core, log *slog.Logger) {
	var err error
	if core.Policy().Decision.Paused() {
		err = core.Resume()
	} else {
		err = core.Pause(false)
	}
	if err != nil {
		log.Warn("pause or resume from the tray", "err", err)
	}
}

// watchState feeds the tray the node's state until ctx ends, then ends
// the tray.
func watchState(ctx context.Context, core *node.Core, t *tray) {
	events, cancel := core.Subscribe(64)
	defer cancel()
	defer close(t.done)
	send := func() {
		st := trayStateOf(core.State(), core.Policy().Decision.Paused())
		select {
		case <-t.states: // replace what the tray has not read yet
		default:
		}
		t.states <- st
	}
	send()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
			send()
		}
	}
}

func trayStateOf(st node.State, paused bool) trayState {
	s := trayState{text: st.Phase.String(), paused: paused}
	switch st.Phase {
	case node.Finishing:
		s.stopping = true
	case node.Finished:
		s.stopping = true
		if st.Unlinked {
			s.text = "unlinked: start again to link this computer"
		}
	case node.Claiming:
		s.text = "waiting for claim (code " + st.ClaimCode + ")"
	}
	if paused && !s.stopping {
		s.text = "paused"
	}
	return s
}
