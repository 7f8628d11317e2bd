package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"wowlab/engine"
	"wowlab/engine/rotation"
	"wowlab/examples"
	"wowlab/internal/cli"
)

// simFlags are the settings of the sim command.
type simFlags struct {
	config     string
	spec       string
	iterations int
	seed       int64
	duration   float64
	threads    int
	output     string
	cpuProfile string
}

// maxDuration is the longest fight a config may ask for (shared/ENGINE.md).
const maxDuration = 3600

func (a *app) newSimCmd() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim (--config FILE | --spec SPEC) [flags]",
		Short: "Simulate a config and print DPS statistics",
		Long: "sim simulates a config document --iterations times and prints the DPS statistics and the\n" +
			"damage per ability. Give exactly one of --config (a config document, as a node receives it)\n" +
			"or --spec (a bundled SimulationCraft TWW3 profile, or a spec for its default profile).\n" +
			"Iteration g uses seed seed+g, so the numbers do not depend on --threads. Ctrl-C cancels\n" +
			"the run.",
		Example: "  engine sim --spec bm-hunter\n" +
			"  engine sim --spec mm_sentinel\n" +
			"  engine sim --spec mm --duration 60 --iterations 5000 --output json\n" +
			"  engine sim --config my_config.json --seed 7 --output csv",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.sim(cmd.Context(), f, cmd.Flags().Changed("seed"), cmd.Flags().Changed("duration"))
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.config, "config", "", "config document to simulate (JSON file)")
	fs.StringVar(&f.spec, "spec", "", "simulate a bundled profile: bm_pack_leader, bm_dark_ranger, mm_dark_ranger, mm_sentinel, or a spec (beast_mastery, marksmanship or an alias such as bm, mm) for its default")
	fs.IntVar(&f.iterations, "iterations", 1000, "number of iterations to simulate")
	fs.Int64Var(&f.seed, "seed", 0, "base RNG seed, overriding the config's \"seed\" (default: the config's)")
	fs.Float64Var(&f.duration, "duration", 0, "fight length in seconds, overriding the config's \"duration\" (default: the config's)")
	fs.IntVar(&f.threads, "threads", 0, "goroutines to simulate on (default: all cores)")
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text, json or csv")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the simulation to this file (pprof format)")
	cli.BindEnv(fs, "threads", "WOWLAB_ENGINE_THREADS")
	cli.BindEnv(fs, "output", "WOWLAB_ENGINE_OUTPUT")
	return cmd
}

// sim runs the sim command.
func (a *app) sim(ctx context.Context, f simFlags, seedSet, durationSet bool) error {
	if (f.config == "") == (f.spec == "") {
		return cli.Usagef("give exactly one of --config FILE or --spec SPEC")
	}
	if f.iterations < 1 || f.iterations > engine.MaxIterations {
		return cli.Usagef("--iterations must be between 1 and %d, got %d", engine.MaxIterations, f.iterations)
	}
	if f.threads < 0 {
		return cli.Usagef("--threads must not be negative, got %d", f.threads)
	}
	if durationSet && !(f.duration > 0 && f.duration <= maxDuration) {
		return cli.Usagef("--duration must be more than 0 and at most %d seconds, got %v", maxDuration, f.duration)
	}
	write := writerFor(f.output)
	if write == nil {
		return cli.Usagef("--output must be text, json or csv, got %q", f.output)
	}
	threads := f.threads
	if threads == 0 {
		threads = runtime.NumCPU()
	}

	doc, err := loadConfig(f.config, f.spec)
	if err != nil {
		return err
	}
	overrides := map[string]any{}
	if seedSet {
		overrides["seed"] = f.seed
	}
	if durationSet {
		overrides["duration"] = f.duration
	}
	if doc, err = override(doc, overrides); err != nil {
		return err
	}
	sim, err := engine.Compile(doc)
	if err != nil {
		return err // a *engine.ConfigError prints as "config: <path>: <msg>"
	}

	stopProfile, err := startCPUProfile(f.cpuProfile)
	if err != nil {
		return err
	}
	progress := newProgress(a.stderr, f.iterations)
	start := a.now()
	res, err := sim.Run(ctx, 0, f.iterations, engine.RunOptions{
		Threads:   threads,
		Progress:  progress.Func(),
		Breakdown: true,
	})
	wall := a.now().Sub(start).Seconds()
	progress.Stop()
	if perr := stopProfile(); perr != nil && err == nil {
		return perr
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(a.stderr, "engine: interrupted, no results")
			return &cli.ExitError{Code: 130}
		}
		return fmt.Errorf("simulate: %w", err)
	}
	return write(a.stdout, newReport(sim, res, threads, wall))
}

// startCPUProfile starts writing a CPU profile to path, if one is given,
// and returns the function that finishes it.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	out, err := os.Create(path)
	if err != nil {
		return nil, cli.Usagef("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("start CPU profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := out.Close(); err != nil {
			return fmt.Errorf("write CPU profile: %w", err)
		}
		return nil
	}, nil
}

// loadConfig reads the config document from path, or the bundled profile
// spec names: a profile's name, or a spec's (its default profile).
func loadConfig(path, spec string) ([]byte, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, cli.Usagef("read --config: %w", err)
		}
		return b, nil
	}
	p, err := lookupProfile(spec)
	if err != nil {
		return nil, cli.Usagef("--spec: %w", err)
	}
	b, err := examples.FS.ReadFile(p.File)
	if err != nil {
		return nil, fmt.Errorf("bundled profile %s: %w", p.Name, err)
	}
	return b, nil
}

// lookupProfile finds the bundled profile of name: a profile's name or a
// spec's name or alias.
func lookupProfile(name string) (examples.Profile, error) {
	if p, ok := examples.LookupProfile(name); ok {
		return p, nil
	}
	sp, err := engine.LookupSpec(name)
	if err != nil {
		if strings.Contains(err.Error(), "survival") {
			return examples.Profile{}, err
		}
		var names []string
		for _, p := range examples.Profiles() {
			names = append(names, p.Name)
		}
		for _, s := range engine.Specs() {
			names = append(names, s.Name)
			names = append(names, s.Aliases...)
		}
		unknown := &rotation.UnknownNameError{Kind: "profile or spec", Name: name, Candidates: names}
		return examples.Profile{}, fmt.Errorf("%w (profiles: %s; or a spec: beast_mastery, marksmanship)", unknown, strings.Join(names[:len(examples.Profiles())], ", "))
	}
	p, ok := examples.SpecDefault(sp.Name)
	if !ok {
		return examples.Profile{}, fmt.Errorf("no bundled profile for %s; use --config", sp.Name)
	}
	return p, nil
}

// override sets top-level fields of a config document. A document that is
// not a JSON object is returned unchanged so that engine.Compile reports
// it with its own path and message.
func override(doc []byte, fields map[string]any) ([]byte, error) {
	if len(fields) == 0 {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber() // keep every other number exactly as written
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return doc, nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return doc, nil // trailing data: let Compile reject the document
	}
	maps.Copy(m, fields)
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("re-encode config: %w", err)
	}
	return out, nil
}
