package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func newRoot(got *string) *cobra.Command {
	root := &cobra.Command{Use: "tool"}
	sub := &cobra.Command{
		Use:  "serve",
		Args: cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return ApplyEnv(cmd.Flags(), func(k string) (string, bool) {
				v, ok := map[string]string{"TOOL_LISTEN": ":9000"}[k]
				return v, ok
			})
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			*got, _ = cmd.Flags().GetString("listen")
			return nil
		},
	}
	sub.Flags().String("listen", ":8080", "address to listen on")
	BindEnv(sub.Flags(), "listen", "TOOL_LISTEN")
	fail := &cobra.Command{Use: "fail", RunE: func(*cobra.Command, []string) error { return errors.New("database\nunreachable") }}
	switcher := &cobra.Command{Use: "switch on|off", Args: cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs), ValidArgs: []string{"on", "off"},
		RunE: func(*cobra.Command, []string) error { return nil }}
	root.AddCommand(sub, fail, switcher)
	return root
}

func TestEnvFallbackAndPrecedence(t *testing.T) {
	var got string
	var stderr bytes.Buffer
	if code := Run(newRoot(&got), []string{"serve"}, &stderr); code != 0 || got != ":9000" {
		t.Fatalf("env: code %d listen %q %s", code, got, stderr.String())
	}
	if code := Run(newRoot(&got), []string{"serve", "--listen", ":1"}, &stderr); code != 0 || got != ":1" {
		t.Fatalf("flag wins: code %d listen %q", code, got)
	}
	var help bytes.Buffer
	root := newRoot(&got)
	root.SetOut(&help)
	Run(root, []string{"serve", "--help"}, &stderr)
	if !strings.Contains(help.String(), "(env TOOL_LISTEN)") {
		t.Fatalf("help does not name the variable:\n%s", help.String())
	}
}

func TestExitCodes(t *testing.T) {
	var got string
	cases := []struct {
		args []string
		code int
		line string
	}{
		{[]string{"serve", "--nope"}, 2, "tool: unknown flag: --nope (see 'tool serve --help')"},
		{[]string{"serve", "extra"}, 2, "tool: unknown command \"extra\" for \"tool serve\" (see 'tool serve --help')"},
		{[]string{"fail"}, 1, "tool: database unreachable"},
		{[]string{"switch", "maybe"}, 2, "tool: invalid argument \"maybe\" for \"tool switch\" (see 'tool switch --help')"},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		code := Run(newRoot(&got), c.args, &stderr)
		if code != c.code || stderr.String() != c.line+"\n" {
			t.Errorf("%v: code %d, stderr %q; want %d and the one line %q", c.args, code, stderr.String(), c.code, c.line)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"My Node":                   "My Node",
		"Büro-Rechner 2":            "Büro-Rechner 2",
		"\x1b]0;pwned\x07":          `\x1b]0;pwned\a`,
		"\x1b[2J\x1b[Hfake":         `\x1b[2J\x1b[Hfake`,
		"csi\u009b31m":              `csi\u009b31m`,
		"two\nlines\ttab":           `two\nlines\ttab`,
		"nul\x00":                   `nul\x00`,
		"bad\xffutf8":               `bad\xffutf8`,
		"replacement \uFFFD itself": "replacement \uFFFD itself",
		"bidi \u202eevil":           `bidi \u202eevil`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
