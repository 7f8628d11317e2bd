package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"wowlab/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestFlagsRefuseBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodes", "0"}, "--nodes"},
		{[]string{"--nodes", "1000000"}, "--nodes"},
		{[]string{"--instances", "0"}, "--instances"},
		{[]string{"--cores", "-1"}, "--cores"},
		{[]string{"--rate", "NaN"}, "--rate"},
		{[]string{"--rate", "0"}, "--rate"},
		{[]string{"--iterations", "-5"}, "--iterations"},
		{[]string{"--duration", "0s"}, "--duration"},
		{[]string{"--duration", "48h"}, "--duration"},
		{[]string{"--connect-parallel", "0"}, "--connect-parallel"},
		{[]string{"extra"}, "unexpected"},
		{[]string{"--nodes", "many"}, "invalid value"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error about %s", tc.args, err, tc.want)
		}
	}
}

func TestRefusesRemoteDatabase(t *testing.T) {
	for _, u := range []string{"postgres://postgres@db.example.com:5432/postgres", "postgres://postgres@10.0.0.1/postgres", "::"} {
		if err := checkLoopback("--database-url", u); err == nil {
			t.Errorf("checkLoopback(%q) accepted a non-loopback database", u)
		}
	}
	for _, u := range []string{"postgres://postgres@127.0.0.1:5432/postgres", "postgres://localhost/x", "postgres://[::1]:5432/x"} {
		if err := checkLoopback("--database-url", u); err != nil {
			t.Errorf("checkLoopback(%q) = %v", u, err)
		}
	}
}

// TestSmallFleet runs the load generator as its users do, small: a
// fleet of simulated nodes over two instances finishes a job with nothing
// lost or assigned twice, and the run leaves no database behind.
func TestSmallFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sentinel and runs a fleet")
	}
	admin, err := pgtest.ServerURL()
	if err != nil {
		t.Skip("no PostgreSQL:", err)
	}
	bin := filepath.Join(t.TempDir(), "sentinel")
	build := exec.Command("go", "build", "-o", bin, "wowlab/cmd/sentinel")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build sentinel: %v\n%s", err, out)
	}
	const nodes = 30
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{
		"--sentinel", bin, "--database-url", admin, "--instances", "2",
		"--nodes", strconv.Itoa(nodes), "--cores", "2", "--rate", "50000", "--iterations", "300000",
		"--duration", "2m", "--json",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	switch {
	case rep.Ready != nodes:
		t.Errorf("%d of %d nodes ready", rep.Ready, nodes)
	case !rep.JobCompleted:
		t.Errorf("job did not complete")
	case rep.ChunksLost != 0 || rep.AssignedTwice != 0 || rep.DuplicateFrames != 0:
		t.Errorf("lost %d, assigned twice %d, duplicate frames %d", rep.ChunksLost, rep.AssignedTwice, rep.DuplicateFrames)
	case rep.Completions != rep.ChunkRows || rep.ChunkRows == 0:
		t.Errorf("%d completions for %d chunk rows", rep.Completions, rep.ChunkRows)
	case !(rep.Utilisation > 0 && rep.Utilisation <= 1):
		t.Errorf("utilisation %v outside (0, 1]", rep.Utilisation)
	case rep.Job["sentinel"].CPUSeconds <= 0 || rep.Connect["sentinel"].PeakRSSMiB <= 0:
		t.Errorf("no sentinel CPU or memory measured: %+v", rep.Job["sentinel"])
	case rep.AssignP99Ms <= 0 || rep.AssignP50Ms > rep.AssignP99Ms:
		t.Errorf("assignment latency p50 %v, p99 %v", rep.AssignP50Ms, rep.AssignP99Ms)
	case rep.LoadgenShare <= 0 || rep.LoadgenShare > 1:
		t.Errorf("loadgen share %v", rep.LoadgenShare)
	case len(rep.BusyByTenth) != 10 || slices.ContainsFunc(rep.BusyByTenth, func(v float64) bool { return !(v >= 0 && v <= 1) }):
		t.Errorf("busy by tenth %v", rep.BusyByTenth)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", rep.Database).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if rep.Database == "" || left != 0 {
		t.Errorf("database %q left behind", rep.Database)
	}
}

func TestTenthsAverageEachTenth(t *testing.T) {
	s := func(ms int, cores int64) busySample {
		return busySample{at: time.Duration(ms) * time.Millisecond, cores: cores}
	}
	// 1 s of job, 100 cores: the first tenth half busy, the last empty,
	// every other tenth full; samples past the end are left out.
	samples := []busySample{s(10, 40), s(60, 60)}
	for ms := 100; ms < 900; ms += 50 {
		samples = append(samples, s(ms, 100))
	}
	samples = append(samples, s(950, 0), s(1000, 100), s(1200, 100))
	got := tenths(samples, time.Second, 100)
	want := []float64{0.5, 1, 1, 1, 1, 1, 1, 1, 1, 0}
	if !slices.Equal(got, want) {
		t.Errorf("tenths = %v, want %v", got, want)
	}
	if got := tenths(samples, 0, 100); got != nil {
		t.Errorf("no wall time: %v, want nil", got)
	}
}
