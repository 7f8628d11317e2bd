package nodecmd

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"wowlab/internal/logging"
	"wowlab/node/control"
	"wowlab/node/policy"
)

// printStatus writes the status for people.
func printStatus(out io.Writer, prog string, s control.Status) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	name := s.Name
	if name == "" {
		name = "(not claimed yet)"
	}
	if s.NodeID != "" {
		name += "  " + s.NodeID
	}
	fmt.Fprintf(tw, "Node\t%s\n", name)
	fmt.Fprintf(tw, "State\t%s\n", stateLine(s))
	fmt.Fprintf(tw, "Version\t%s on %s (%s)\n", s.Version, s.Platform, s.Hostname)
	if s.Update != nil {
		fmt.Fprintf(tw, "Updates\t%s\n", updateLine(prog, *s.Update))
	}
	st := s.Stats
	fmt.Fprintf(tw, "Cores\t%s; %d of %d workers busy\n", coresLine(s.Policy, st.TotalCores), st.BusyWorkers, st.MaxWorkers)
	fmt.Fprintf(tw, "Chunks\t%d completed, %d failed, %d held\n", st.CompletedChunks, st.FailedChunks, len(s.Chunks))
	for _, c := range s.Chunks {
		if c.Running {
			fmt.Fprintf(tw, "\t  %s  %s %3.0f%%  %d of %d iterations\n", c.ID, bar(c.Progress, 20), 100*c.Progress, c.Done, c.Iterations)
		} else {
			fmt.Fprintf(tw, "\t  %s  queued, %d iterations\n", c.ID, c.Iterations)
		}
	}
	fmt.Fprintf(tw, "Speed\t%s iterations/s over the last minute, CPU %.0f%%\n", rate(st.IterationsPerSecond), st.CPUPercent)
	tw.Flush()
	fmt.Fprintln(out, "\nPolicies")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, ef := range s.Policy.Effects {
		mark := ""
		if ef.Rule == s.Policy.Rule {
			mark = "\t<- decides"
		}
		fmt.Fprintf(tw, "  %s\t%s%s\n", ef.Rule.Label(), ef.Detail, mark)
	}
	tw.Flush()
}

// updateLine says what the update checker knows.
func updateLine(prog string, u control.UpdateStatus) string {
	how := "automatic"
	if !u.Automatic {
		how = "automatic updates off: " + u.Off
	}
	switch {
	case u.Available != nil && u.Automatic:
		return fmt.Sprintf("%s available; installed between chunks", u.Available.Version)
	case u.Available != nil:
		return fmt.Sprintf("%s available (%s); install it with: %s update", u.Available.Version, how, prog)
	case u.Error != "":
		return fmt.Sprintf("the last check failed: %s (%s)", u.Error, how)
	case u.Checked.IsZero():
		return fmt.Sprintf("not checked yet (%s)", how)
	}
	return fmt.Sprintf("up to date, checked %s (%s)", u.Checked.Local().Format("2006-01-02 15:04"), how)
}

func stateLine(s control.Status) string {
	switch {
	case s.Reason == policy.RuleUser:
		return "paused by you"
	case s.Reason != "":
		return "paused (" + s.Reason.Label() + ")"
	case s.State == "claiming":
		return "waiting to be claimed with code " + spacedCode(s.ClaimCode)
	case s.State == "unavailable":
		return fmt.Sprintf("sentinel unavailable, retrying in %.0f s: %s", s.RetryInSeconds, s.Error)
	case s.State == "finished" && s.Unlinked:
		return "finished and unlinked: the next start registers a new node"
	case s.State == "finished" && s.Error != "":
		return "finished; " + s.Error
	}
	return s.State + ", realtime " + s.Connection
}

// spacedCode writes a claim code as people read it: ABC DEF.
func spacedCode(c string) string {
	if len(c) == 6 {
		return c[:3] + " " + c[3:]
	}
	return c
}

func coresLine(d policy.Decision, total int) string {
	if d.Paused() {
		return "none allowed while paused"
	}
	return fmt.Sprintf("%d of %d allowed (%s)", d.Cores, total, d.Rule.Label())
}

// printPolicyLine says in one line what the policies allow now.
func printPolicyLine(out io.Writer, d policy.Decision) {
	ef, _ := d.Effect(d.Rule)
	switch {
	case d.Rule == policy.RuleUser:
		fmt.Fprintln(out, "The node is paused by you.")
	case d.Paused():
		fmt.Fprintf(out, "The node is paused (%s: %s).\n", d.Rule.Label(), ef.Detail)
	default:
		fmt.Fprintf(out, "The node may use %s now (%s).\n", plural(d.Cores, "core"), d.Rule.Label())
	}
}

func bar(p float64, width int) string {
	n := int(p*float64(width) + 0.5)
	n = min(max(n, 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func rate(r float64) string {
	if r >= 100 || r == 0 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// printSettings writes the settings as config.ini holds them.
func printSettings(out io.Writer, prog string, s control.Settings) {
	over := map[string]bool{}
	for _, k := range s.Overridden {
		over[k] = true
	}
	tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', 0)
	for _, k := range policy.Keys() {
		note := ""
		if over[k.Name] {
			note = fmt.Sprintf("\t(this run, from --%s or %s; config.ini has %s)", k.Flag, k.Env, displayValue(s.Saved, k.Name))
		}
		fmt.Fprintf(tw, "%s\t= %s%s\n", k.Name, displayValue(s.Settings, k.Name), note)
	}
	tw.Flush()
	fmt.Fprintf(out, "\nChange one with: %[1]s ctl set NAME VALUE (%[1]s ctl set --help lists them)\n", prog)
}

// displayValue is a setting's value as config.ini holds it, but an empty
// schedule reads "always".
func displayValue(s policy.Settings, name string) string {
	v, _ := s.Value(name)
	if v == "" && name == "schedule" {
		return "always"
	}
	return v
}

// printEntry writes one log line.
func printEntry(out io.Writer, e logging.Entry) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-5s %s", e.Time.Local().Format("2006-01-02 15:04:05"), e.Level.String(), e.Message)
	for _, a := range e.Attrs {
		v := a.Value
		if strings.ContainsAny(v, " \t\"=") {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, v)
	}
	fmt.Fprintln(out, b.String())
}
