// Command loadgen measures a sentinel under a simulated fleet: it starts M
// `sentinel serve` instances on a fresh database of a local PostgreSQL
// server, connects N simulated nodes to them (real Ed25519 signing, one
// WebSocket with the node's channels and presence each, heartbeats; a
// fixed compute rate instead of the engine), submits one job and reports
// how the fleet was fed: connect time, the sentinels' and PostgreSQL's CPU
// and memory (read from /proc), assignment latency, completions per
// second, coordinated iterations per second, the fleet's utilisation and
// any chunk lost or assigned twice, with its own CPU share.
//
// Everything runs on loopback and stops within --duration; the database,
// the processes and their logs are removed at the end. Build the sentinel
// first:
//
//	go build -o bin/sentinel ./cmd/sentinel
//	go run ./internal/cmd/loadgen --nodes 200 --instances 2
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"wowlab/sentinel"
)

// options are the command's flags.
type options struct {
	sentinelBin     string
	databaseURL     string
	instances       int
	nodes           int
	cores           int
	rate            float64
	iterations      int
	duration        time.Duration
	connectParallel int
	sized           bool
	sentinelArgs    []string
	json            bool
}

// Bounds of the flags: enough for the fleets the issue measures, small
// enough that a typo cannot exhaust the machine.
const (
	maxNodes     = 20_000
	maxInstances = 8
	maxCores     = 256
	maxDuration  = time.Hour
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		stop()
		os.Exit(1)
	}
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.sentinelBin, "sentinel", "bin/sentinel", "sentinel binary to start")
	fs.StringVar(&o.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL server (loopback) on which a fresh database is created and dropped")
	fs.IntVar(&o.instances, "instances", 1, "sentinel instances sharing the database")
	fs.IntVar(&o.nodes, "nodes", 100, "simulated nodes, spread over the instances")
	fs.IntVar(&o.cores, "cores", 8, "cores of each simulated node")
	fs.Float64Var(&o.rate, "rate", 20_000, "simulated iterations per second per core")
	fs.IntVar(&o.iterations, "iterations", 0, "iterations of the job (0: ten seconds of the whole fleet's work, at most the sentinel's job size limit)")
	fs.DurationVar(&o.duration, "duration", 5*time.Minute, "limit on the whole run, connecting included")
	fs.IntVar(&o.connectParallel, "connect-parallel", 200, "nodes connecting at once")
	fs.BoolVar(&o.sized, "sized", false, "nodes announce sized chunks (their throughput, cores x rate) and run each on all their cores")
	fs.Var((*stringList)(&o.sentinelArgs), "sentinel-arg", "extra argument of `sentinel serve` (repeatable)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.instances < 1 || o.instances > maxInstances:
		return o, fmt.Errorf("--instances must be between 1 and %d", maxInstances)
	case o.nodes < 1 || o.nodes > maxNodes:
		return o, fmt.Errorf("--nodes must be between 1 and %d", maxNodes)
	case o.cores < 1 || o.cores > maxCores:
		return o, fmt.Errorf("--cores must be between 1 and %d", maxCores)
	case !(o.rate >= 1 && o.rate <= 1e9):
		return o, errors.New("--rate must be between 1 and 1e9 iterations per second")
	case o.iterations < 0:
		return o, errors.New("--iterations must not be negative")
	case o.duration <= 0 || o.duration > maxDuration:
		return o, fmt.Errorf("--duration must be positive and at most %v", maxDuration)
	case o.connectParallel < 1:
		return o, errors.New("--connect-parallel must be at least 1")
	}
	if o.iterations == 0 {
		o.iterations = min(int(10*float64(o.nodes*o.cores)*o.rate), sentinel.MaxIterations)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	rep, err := measure(ctx, o, log)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(stdout)
	return nil
}
