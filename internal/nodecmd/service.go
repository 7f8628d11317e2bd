package nodecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kardianos/service"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"wowlab/internal/cli"
	"wowlab/node/update"
)

// serviceName names the node's system service on every platform.
const serviceName = "wowlab-node"

// serviceSpec is what a service description is rendered from.
type serviceSpec struct {
	GOOS       string
	Executable string   // absolute path of node-headless
	Args       []string // arguments of the run command, "run" first
	ConfigDir  string
	LogDir     string
}

// serviceDirs are the config and log directories of a system service:
// the state directory systemd creates (StateDirectory=, LogsDirectory=),
// and their equivalents on macOS and Windows.
func serviceDirs(goos string, getenv func(string) string) (configDir, logDir string) {
	switch goos {
	case "linux":
		return "/var/lib/" + serviceName, "/var/log/" + serviceName
	case "darwin":
		return "/Library/Application Support/" + serviceName, "/Library/Logs/" + serviceName
	case "windows":
		base := getenv("ProgramData")
		if base == "" {
			base = `C:\ProgramData`
		}
		return base + `\` + serviceName, base + `\` + serviceName + `\logs`
	}
	return "/var/lib/" + serviceName, "/var/log/" + serviceName
}

// newServiceSpec builds the service of this binary: the run command with
// the service's directories (unless --config-dir or --log-dir were given)
// and every other setting that differs from its default.
func newServiceSpec(goos, exe string, fs *pflag.FlagSet, getenv func(string) string) serviceSpec {
	s := serviceSpec{GOOS: goos, Executable: exe}
	s.ConfigDir, s.LogDir = serviceDirs(goos, getenv)
	var rest []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Value.String() == f.DefValue {
			return
		}
		switch f.Name {
		case "config-dir":
			s.ConfigDir = f.Value.String()
		case "log-dir":
			s.LogDir = f.Value.String()
		default:
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				for _, v := range sv.GetSlice() {
					rest = append(rest, "--"+f.Name, v)
				}
				return
			}
			rest = append(rest, "--"+f.Name+"="+f.Value.String())
		}
	})
	s.Args = append([]string{"run", "--config-dir", s.ConfigDir, "--log-dir", s.LogDir}, rest...)
	return s
}

// systemdUnit renders the systemd unit: idle CPU and I/O priority, a state
// directory as the config directory, a restart on failure and on the
// update's exit status, and a sandbox that leaves only the state, the logs
// and the binary's directory (for self-update) writable.
func systemdUnit(s serviceSpec) string {
	exec := make([]string, 0, len(s.Args)+1)
	for _, a := range append([]string{s.Executable}, s.Args...) {
		exec = append(exec, systemdQuote(a))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `[Unit]
Description=WoWLab simulation node
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=%s
StateDirectory=%s
StateDirectoryMode=0700
LogsDirectory=%s
LogsDirectoryMode=0750
Nice=19
IOSchedulingClass=idle
CPUSchedulingPolicy=idle
Restart=on-failure
RestartSec=10
RestartForceExitStatus=%d
TimeoutStopSec=90
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=read-only
ProtectKernelTunables=yes
ProtectControlGroups=yes
ReadWritePaths=%s

[Install]
WantedBy=multi-user.target
`, strings.Join(exec, " "), serviceName, serviceName, update.ExitRestart, systemdQuote(filepath.Dir(s.Executable)))
	return b.String()
}

// systemdQuote quotes one word of a systemd command line or path setting:
// specifiers (%) and variables ($) are escaped, words with spaces or
// quotes are double-quoted.
func systemdQuote(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// launchdPlist renders the launchd daemon: started at boot, started again
// whenever it exits with a non-zero status (a failure or an update), as a
// background process at nice 19 with low-priority I/O.
func launchdPlist(s serviceSpec) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + serviceName + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range append([]string{s.Executable}, s.Args...) {
		b.WriteString("\t\t<string>" + xmlEscape(a) + "</string>\n")
	}
	b.WriteString(`	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>10</integer>
	<key>ProcessType</key>
	<string>Background</string>
	<key>Nice</key>
	<integer>19</integer>
	<key>LowPriorityIO</key>
	<true/>
	<key>LowPriorityBackgroundIO</key>
	<true/>
	<key>ExitTimeOut</key>
	<integer>90</integer>
	<key>WorkingDirectory</key>
	<string>` + xmlEscape(s.ConfigDir) + `</string>
	<key>StandardOutPath</key>
	<string>` + xmlEscape(s.LogDir+"/"+serviceName+".out.log") + `</string>
	<key>StandardErrorPath</key>
	<string>` + xmlEscape(s.LogDir+"/"+serviceName+".err.log") + `</string>
</dict>
</plist>
`)
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// serviceConfig is the service as kardianos/service installs it: the
// rendered unit or plist as the template (it holds no template actions),
// and on Windows an automatic, delayed start with a restart after every
// failure, which includes the update's exit status.
func serviceConfig(s serviceSpec) *service.Config {
	return &service.Config{
		Name:        serviceName,
		DisplayName: "WoWLab simulation node",
		Description: "Simulates WoWLab jobs on this computer's idle CPU time.",
		Executable:  s.Executable,
		Arguments:   s.Args,
		Option: service.KeyValue{
			"SystemdScript":          systemdUnit(s),
			"LaunchdConfig":          launchdPlist(s),
			"StartType":              "automatic",
			"DelayedAutoStart":       true,
			"OnFailure":              "restart",
			"OnFailureDelayDuration": "10s",
			"OnFailureResetPeriod":   86400,
		},
	}
}

// windowsDescription says in sc.exe's words what is installed on Windows:
// one recovery action, which the service manager repeats for every later
// failure until the reset period has passed without one.
func windowsDescription(s serviceSpec) string {
	c := serviceConfig(s)
	cmdline := []string{windowsQuote(c.Executable)}
	for _, a := range c.Arguments {
		cmdline = append(cmdline, windowsQuote(a))
	}
	return fmt.Sprintf(`sc.exe create %s binPath= %s start= delayed-auto DisplayName= "%s"
sc.exe description %s "%s"
sc.exe failure %s reset= 86400 actions= restart/10000
`, c.Name, windowsQuote(strings.Join(cmdline, " ")), c.DisplayName, c.Name, c.Description, c.Name)
}

// windowsQuote quotes a word the way Windows command lines read it.
func windowsQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// describeService is the text of what install puts in place on goos.
func describeService(s serviceSpec) string {
	switch s.GOOS {
	case "linux":
		return "# /etc/systemd/system/" + serviceName + ".service\n" + systemdUnit(s)
	case "darwin":
		return "<!-- /Library/LaunchDaemons/" + serviceName + ".plist -->\n" + launchdPlist(s)
	case "windows":
		return windowsDescription(s)
	}
	return ""
}

// newServiceCmd is "node-headless service install|uninstall|start|stop|restart|status".
func newServiceCmd(f *flags, out io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Install the node as a system service (systemd, launchd, Windows service) and control it",
		Long: "service installs node-headless as a system service that starts at boot, simulates at idle\n" +
			"priority, restarts after a failure and after installing an update, and keeps its key and\n" +
			"config in the service's state directory (/var/lib/wowlab-node with systemd). Settings given\n" +
			"with install (--sentinel-url, --cores, ...) are passed to the service's run command.\n" +
			"install, uninstall, start, stop and restart need administrator rights.",
	}
	var dryRun bool
	install := &cobra.Command{
		Use:   "install",
		Short: "Install and enable the service (--dry-run prints it instead)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			if exe, err = filepath.EvalSymlinks(exe); err != nil {
				return err
			}
			spec := newServiceSpec(runtime.GOOS, exe, c.Root().PersistentFlags(), os.Getenv)
			if dryRun {
				_, err := io.WriteString(out, describeService(spec))
				return err
			}
			s, err := newService(spec)
			if err != nil {
				return err
			}
			if err := s.Install(); err != nil {
				return fmt.Errorf("install the service: %w", err)
			}
			fmt.Fprintf(out, "installed %s (config in %s, logs in %s); start it with 'node-headless service start'\n", serviceName, spec.ConfigDir, spec.LogDir)
			return nil
		},
	}
	install.Flags().BoolVar(&dryRun, "dry-run", false, "print the service description instead of installing it")
	control := func(action, done string) *cobra.Command {
		return &cobra.Command{
			Use:   action,
			Short: strings.ToUpper(action[:1]) + action[1:] + " the service",
			Args:  cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				s, err := newService(serviceSpec{GOOS: runtime.GOOS})
				if err != nil {
					return err
				}
				if err := service.Control(s, action); err != nil {
					return fmt.Errorf("%s the service: %w", action, err)
				}
				fmt.Fprintf(out, "%s %s\n", serviceName, done)
				return nil
			},
		}
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Say whether the service is installed and running",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			s, err := newService(serviceSpec{GOOS: runtime.GOOS})
			if err != nil {
				return err
			}
			st, err := s.Status()
			switch {
			case errors.Is(err, service.ErrNotInstalled):
				fmt.Fprintf(out, "%s: not installed\n", serviceName)
				return &cli.ExitError{Code: 3}
			case err != nil:
				return fmt.Errorf("service status: %w", err)
			case st == service.StatusRunning:
				fmt.Fprintf(out, "%s: running\n", serviceName)
				return nil
			default:
				fmt.Fprintf(out, "%s: stopped\n", serviceName)
				return &cli.ExitError{Code: 3}
			}
		},
	}
	cmd.AddCommand(install, control("uninstall", "uninstalled"), control("start", "started"), control("stop", "stopped"),
		control("restart", "restarted"), status)
	return cmd
}

// newService returns the service for the platform's service manager,
// refusing init systems other than systemd on Linux (the unit is what
// sets the priorities and the state directory).
func newService(spec serviceSpec) (service.Service, error) {
	if runtime.GOOS == "linux" {
		if sys := service.ChosenSystem(); sys == nil || sys.String() != "linux-systemd" {
			return nil, errors.New("services are installed with systemd on Linux, and systemd is not running here")
		}
	}
	if spec.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		spec.Executable = exe
	}
	return service.New(&serviceProgram{}, serviceConfig(spec))
}

// serviceProgram is the node as the Windows service manager runs it:
// Start runs the node in the background, Stop drains it.
type serviceProgram struct {
	run    func(context.Context) error
	cancel context.CancelFunc
	done   chan error
}

func (p *serviceProgram) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() {
		err := p.run(ctx)
		p.done <- err
		if ctx.Err() == nil {
			// Ended by itself (an update, or an error): exit with its status
			// so that the recovery actions restart the service.
			os.Exit(exitCode(err))
		}
	}()
	return nil
}

func (p *serviceProgram) Stop(service.Service) error {
	p.cancel()
	<-p.done
	return nil
}

// exitCode is the status cli.Run would exit with for err.
func exitCode(err error) int {
	var exit *cli.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	}
	return 1
}

// runManaged runs the node, under the Windows service manager when it
// started this process, else directly.
func runManaged(ctx context.Context, run func(context.Context) error) error {
	if runtime.GOOS != "windows" || service.Interactive() {
		return run(ctx)
	}
	p := &serviceProgram{run: run}
	s, err := service.New(p, &service.Config{Name: serviceName})
	if err != nil {
		return err
	}
	return s.Run()
}
