package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"wowlab/examples"
	"wowlab/internal/cli"
	"wowlab/sentinel/dev"
)

// devOptions are the flags of `sentinel dev`.
type devOptions struct {
	dataDir    string
	listen     string
	nodes      int
	nodeCores  int
	demo       bool
	iterations int
	output     string
}

func newDevCommand() *cobra.Command {
	o := &devOptions{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a whole cluster in one process: sentinel, embedded store, a user and claimed nodes",
		Long: "dev runs a sentinel on the embedded SQLite store with a generated JWT secret, a dev user and\n" +
			"N in-process nodes built from the real node library (real signing, HTTP and WebSockets on\n" +
			"loopback, the real engine), registered and claimed. It prints how to point another node at\n" +
			"it and how to submit jobs, and runs until Ctrl-C. With --demo it submits the bundled Beast\n" +
			"Mastery example, shows its progress, prints the aggregated result and exits.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.demo && !cmd.Flags().Changed("listen") {
				o.listen = "127.0.0.1:0" // the demo exits; any free port will do
			}
			return runDev(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", "", "directory for the store, the nodes and the token file (default: a temporary directory removed on exit)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address of the sentinel (node API, REST and Realtime); with --demo a free port unless given")
	f.IntVar(&o.nodes, "nodes", 2, "in-process nodes to run")
	f.IntVar(&o.nodeCores, "node-cores", 0, "cores each node simulates on (default: the machine's cores shared among the nodes)")
	f.BoolVar(&o.demo, "demo", false, "submit the bundled BM hunter example, print its result and exit")
	f.IntVar(&o.iterations, "iterations", 100_000, "iterations of the --demo job")
	f.StringVar(&o.output, "output", "text", "--demo result format: text or json")
	cli.BindEnv(f, "data-dir", "SENTINEL_DATA_DIR")
	cli.BindEnv(f, "listen", "SENTINEL_LISTEN")
	cli.BindEnv(f, "nodes", "SENTINEL_DEV_NODES")
	cli.BindEnv(f, "node-cores", "SENTINEL_DEV_NODE_CORES")
	return cmd
}

func runDev(ctx context.Context, o *devOptions, stdout, stderr io.Writer) error {
	if o.output != "text" && o.output != "json" {
		return cli.Usagef("--output must be text or json, not %q", o.output)
	}
	if o.nodes < 1 || o.nodes > 64 {
		return cli.Usagef("--nodes must be between 1 and 64")
	}
	if o.nodeCores < 0 {
		return cli.Usagef("--node-cores must not be negative")
	}
	if o.demo && (o.iterations < 1 || o.iterations > 100_000_000) {
		return cli.Usagef("--iterations must be between 1 and 100000000")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	dataDir := o.dataDir
	if dataDir == "" {
		// A temporary data directory holds the store and the log, and
		// goes when the cluster stops.
		tmp, err := os.MkdirTemp("", "wowlab-dev-")
		if err != nil {
			return fmt.Errorf("create a temporary data directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	logFile, logPath, err := devLog(dataDir)
	if err != nil {
		return err
	}
	defer logFile.Close()
	fmt.Fprintln(stderr, "starting the dev cluster...")
	c, err := dev.Start(ctx, dev.Options{
		DataDir: dataDir, Listen: o.listen, Nodes: o.nodes, NodeCores: o.nodeCores,
		Logger: slog.New(slog.NewJSONHandler(logFile, nil)),
	})
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
		defer cancel()
		if err := c.Close(closeCtx); err != nil {
			fmt.Fprintf(stderr, "sentinel dev: stopping: %v\n", err)
		}
	}()
	printDevInfo(stderr, c, o, logPath)
	if !o.demo {
		fmt.Fprintln(stderr, "Press Ctrl-C to stop.")
		<-ctx.Done()
		fmt.Fprintln(stderr, "stopping: nodes hand back unfinished chunks")
		return nil
	}
	cfg, err := examples.FS.ReadFile("bm_hunter.json")
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "demo: simulating the bundled BM hunter example %d times on %d nodes\n", o.iterations, o.nodes)
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(o.iterations, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("iterations"),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond))
	}
	out, err := c.RunJob(ctx, cfg, o.iterations, func(done int) {
		if bar != nil {
			_ = bar.Set(done)
		}
	})
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	if out.Status != "completed" {
		return fmt.Errorf("demo job %s %s: %s", out.JobID, out.Status, out.Error)
	}
	return printDemo(stdout, o.output, out)
}

// devLog creates the file the cluster logs to in its data directory.
func devLog(dataDir string) (*os.File, string, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.CreateTemp(dataDir, "sentinel-dev-*.log")
	if err != nil {
		return nil, "", fmt.Errorf("create log file: %w", err)
	}
	return f, f.Name(), nil
}

func printDevInfo(w io.Writer, c *dev.Cluster, o *devOptions, logPath string) {
	where := c.DataDir
	if o.dataDir == "" {
		where += " (temporary, removed on exit)"
	}
	fmt.Fprintf(w, `
WoWLab dev cluster
  sentinel   %s  (node API, REST and Realtime)
  store      embedded SQLite in %s
  user       %s, token in %s
  anon key   %s
  nodes      %d in-process nodes, claimed and running
  logs       %[8]s

Point another node at it (its own config directory), then claim it with the code it prints:
  node-headless --sentinel-url %[1]s --config-dir ./my-node
  sentinel nodes claim CODE --user %[3]s --data-dir %[7]s

Submit a job and wait for its result:
  sentinel jobs submit --server %[1]s --anon-key %[5]s --token "$(cat %[4]s)" \
    --config examples/bm_hunter.json --iterations 20000 --wait

`, c.URL, where, c.UserID, c.TokenFile, c.AnonKey, len(c.Nodes()), c.DataDir, logPath)
}

// demoResult is the --output json answer: the job's result object
// (PROTOCOL section 8) plus timing.
type demoResult struct {
	MeanDps             float64 `json:"meanDps"`
	StdDps              float64 `json:"stdDps"`
	MinDps              float64 `json:"minDps"`
	MaxDps              float64 `json:"maxDps"`
	TotalIterations     int     `json:"totalIterations"`
	ChunksCompleted     int     `json:"chunksCompleted"`
	WallSeconds         float64 `json:"wallSeconds"`
	IterationsPerSecond float64 `json:"iterationsPerSecond"`
}

func printDemo(w io.Writer, format string, out dev.Outcome) error {
	r := out.Result
	secs := out.Wall.Seconds()
	d := demoResult{
		MeanDps: r.MeanDps, StdDps: r.StdDps, MinDps: r.MinDps, MaxDps: r.MaxDps,
		TotalIterations: r.TotalIterations, ChunksCompleted: r.ChunksCompleted,
		WallSeconds: secs, IterationsPerSecond: float64(r.TotalIterations) / secs,
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "mean DPS\t%.1f\n", d.MeanDps)
	fmt.Fprintf(tw, "std DPS\t%.1f\n", d.StdDps)
	fmt.Fprintf(tw, "min DPS\t%.1f\n", d.MinDps)
	fmt.Fprintf(tw, "max DPS\t%.1f\n", d.MaxDps)
	fmt.Fprintf(tw, "iterations\t%d\n", d.TotalIterations)
	fmt.Fprintf(tw, "chunks\t%d\n", d.ChunksCompleted)
	fmt.Fprintf(tw, "wall time\t%.2f s\n", d.WallSeconds)
	fmt.Fprintf(tw, "iterations/s\t%.0f\n", d.IterationsPerSecond)
	return tw.Flush()
}
