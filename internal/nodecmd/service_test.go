package nodecmd

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"wowlab/internal/cli"
)

func spec(goos, exe string, args ...string) serviceSpec {
	root := newRoot(io.Discard, env(nil))
	if err := root.ParseFlags(args); err != nil {
		panic(err)
	}
	return newServiceSpec(goos, exe, root.PersistentFlags(), func(k string) string {
		if k == "ProgramData" {
			return `C:\ProgramData`
		}
		return ""
	})
}

func TestServiceSpecForwardsSettings(t *testing.T) {
	s := spec("linux", "/opt/wowlab/node-headless", "--sentinel-url", "https://s.example", "--cores", "3", "--update-key", "K1", "--update-key", "K2", "--no-update")
	got := strings.Join(s.Args, " ")
	want := "run --config-dir /var/lib/wowlab-node --log-dir /var/log/wowlab-node --cores=3 --no-update=true --sentinel-url=https://s.example --update-key K1 --update-key K2"
	if got != want {
		t.Fatalf("args\n%s\nwant\n%s", got, want)
	}
	s = spec("linux", "/opt/wowlab/node-headless", "--config-dir", "/srv/node")
	if s.ConfigDir != "/srv/node" || !strings.Contains(strings.Join(s.Args, " "), "--config-dir /srv/node") {
		t.Fatalf("explicit config dir not used: %+v", s)
	}
}

func TestSystemdUnit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "WoWLab 100%")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "node-headless")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := systemdUnit(spec("linux", exe, "--sentinel-url", "https://s.example/$x"))
	for _, want := range []string{
		"\nExecStart=\"" + strings.ReplaceAll(exe, "%", "%%") + "\" run --config-dir /var/lib/wowlab-node --log-dir /var/log/wowlab-node --sentinel-url=https://s.example/$$x\n",
		"\nStateDirectory=wowlab-node\n", "\nLogsDirectory=wowlab-node\n", "\nNice=19\n", "\nIOSchedulingClass=idle\n",
		"\nRestart=on-failure\n", "\nRestartForceExitStatus=3\n", "\nProtectSystem=strict\n",
		"\nReadWritePaths=\"" + strings.ReplaceAll(dir, "%", "%%") + "\"\n", "\nWantedBy=multi-user.target\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
	if strings.Contains(unit, "{{") {
		t.Fatal("the unit holds template actions, which kardianos/service would render")
	}
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd): the unit's text is checked, not its validity")
	}
	path := filepath.Join(t.TempDir(), serviceName+".service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s\n%s", err, out, unit)
	}
	// The check can fail: a unit with a bad value is reported.
	bad := strings.Replace(unit, "Nice=19", "Nice=twenty", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command(tool, "verify", path).CombinedOutput(); !strings.Contains(string(out), "nice") {
		t.Fatalf("systemd-analyze verify took Nice=twenty: %s", out)
	}
}

func TestLaunchdPlist(t *testing.T) {
	plist := launchdPlist(spec("darwin", "/Applications/WoWLab & Co/node-headless", "--cores", "2"))
	dec := xml.NewDecoder(strings.NewReader(plist))
	var strs []string
	var inString bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("plist is not XML: %v\n%s", err, plist)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inString = tok.Name.Local == "string"
		case xml.CharData:
			if inString {
				strs = append(strs, string(tok))
			}
		case xml.EndElement:
			inString = false
		}
	}
	got := strings.Join(strs, "|")
	want := "wowlab-node|/Applications/WoWLab & Co/node-headless|run|--config-dir|/Library/Application Support/wowlab-node|--log-dir|/Library/Logs/wowlab-node|--cores=2|Background|/Library/Application Support/wowlab-node|/Library/Logs/wowlab-node/wowlab-node.out.log|/Library/Logs/wowlab-node/wowlab-node.err.log"
	if got != want {
		t.Fatalf("plist strings\n%s\nwant\n%s", got, want)
	}
	for _, want := range []string{
		"<key>KeepAlive</key>\n\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>", "<key>RunAtLoad</key>\n\t<true/>",
		"<key>Nice</key>\n\t<integer>19</integer>", "<key>LowPriorityIO</key>\n\t<true/>",
	} {
		if !strings.Contains(plist, want) {
			t.Errorf("plist lacks %q", want)
		}
	}
}

func TestWindowsService(t *testing.T) {
	s := spec("windows", `C:\Program Files\WoWLab\node-headless.exe`, "--sentinel-url", "https://s.example")
	c := serviceConfig(s)
	if c.Name != serviceName || c.Option["StartType"] != "automatic" || c.Option["OnFailure"] != "restart" || c.Option["DelayedAutoStart"] != true {
		t.Fatalf("config %+v", c)
	}
	want := `sc.exe create wowlab-node binPath= "\"C:\Program Files\WoWLab\node-headless.exe\" run --config-dir C:\ProgramData\wowlab-node --log-dir C:\ProgramData\wowlab-node\logs --sentinel-url=https://s.example" start= delayed-auto DisplayName= "WoWLab simulation node"
sc.exe description wowlab-node "Simulates WoWLab jobs on this computer's idle CPU time."
sc.exe failure wowlab-node reset= 86400 actions= restart/10000
`
	if got := windowsDescription(s); got != want {
		t.Fatalf("description\n%s\nwant\n%s", got, want)
	}
}

func TestServiceInstallDryRun(t *testing.T) {
	var out, errOut bytes.Buffer
	code := cli.Run(newRoot(&out, env(map[string]string{"WOWLAB_SENTINEL_URL": "https://from.env"})), []string{"service", "install", "--dry-run"}, &errOut)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "--sentinel-url=https://from.env") {
		t.Fatalf("the environment's setting is not passed on:\n%s", out.String())
	}
}
