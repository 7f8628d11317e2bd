// Package nodecmd is the command line of the node programs, node-headless
// and node-gui: the same flags, environment variables, config directory,
// control API, ctl, update and version commands, around one node.Core.
// A program is an App; node-gui adds a Front (its dashboard and tray).
package nodecmd

import (
	"context"
	"io"
	"log/slog"

	"github.com/spf13/pflag"

	"wowlab/node"
	"wowlab/node/control"
)

// App is a node program.
type App struct {
	Name  string // the binary's name, also in releases: node-headless, node-gui
	Short string // one line for --help
	Long  string // the description for --help
	// ControlAddr is the control API's default address, ControlFlag the
	// flag that changes it (default control-listen).
	ControlAddr string
	ControlFlag string
	// Service offers "service install|uninstall|...".
	Service bool
	// Front runs beside the node; nil: none (a terminal program).
	Front Front
}

// Front is a user interface of a running node.
type Front interface {
	// Flags adds the front's own flags to the program's.
	Flags(fs *pflag.FlagSet)
	// Control adds the front's pages and endpoints to the control API.
	Control(opts *control.Options, core *node.Core, dirs Dirs)
	// AlreadyRunning is called instead of starting a second node when one
	// already serves the same config directory; c talks to it.
	AlreadyRunning(ctx context.Context, c *control.Client, out io.Writer) error
	// Run shows the front until ctx ends. It runs on the program's main
	// goroutine (macOS wants its event loop there).
	Run(ctx context.Context, r Running)
}

// Dirs are where a node keeps its files.
type Dirs struct {
	Config   string
	Log      string
	Priority string // the priority it simulates at, as given
}

// Running is a started node, as a Front sees it.
type Running struct {
	Core    *node.Core
	Control *control.Server
	Logger  *slog.Logger
	// Done is closed when the node has stopped working (finished, or
	// stopped by Quit); the front may stay open.
	Done <-chan struct{}
	// Quit stops the program as SIGTERM does: running chunks get their
	// grace period, the rest is handed back.
	Quit func()
}

func (a App) controlFlag() string {
	if a.ControlFlag == "" {
		return "control-listen"
	}
	return a.ControlFlag
}

// Headless is node-headless.
func Headless() App {
	return App{
		Name:  "node-headless",
		Short: "Run a WoWLab simulation node without a user interface",
		Long: "node-headless runs a WoWLab simulation node: it registers with the sentinel, shows a claim\n" +
			"code to link it to your account, then simulates the chunks it is assigned on the enabled cores.\n" +
			"Stop it with Ctrl-C (SIGINT) or SIGTERM: running chunks get a grace period to finish, the rest\n" +
			"is handed back.",
		ControlAddr: control.DefaultAddr,
		Service:     true,
	}
}
