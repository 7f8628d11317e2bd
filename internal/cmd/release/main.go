// Command release builds and signs WoWLab releases and makes the key that
// signs them. scripts/release runs its build command:
//
//	WOWLAB_RELEASE_KEY=release.key go run ./internal/cmd/release build 1.2.3 dist/v1.2.3
//	go run ./internal/cmd/release keygen release.key   # prints the public key to compile in
//	go run ./internal/cmd/release binary node-headless --platform linux/arm64 --version 1.2.3 -o out/node-headless
//
// The binary command is the one compile step of a release, for the
// container images, which build their binary exactly as releases do.
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"wowlab/internal/cli"
	"wowlab/internal/release"
	"wowlab/node/update"
)

func main() {
	cli.Main(newRoot(os.Stdout, os.Stderr, os.LookupEnv))
}

func newRoot(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	root := &cobra.Command{
		Use:   "release",
		Short: "Build and sign WoWLab releases",
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return cli.ApplyEnv(cmd.Flags(), lookupEnv)
		},
	}
	root.AddCommand(buildCmd(stderr), binaryCmd(), keygenCmd(stdout))
	return root
}

func buildCmd(log io.Writer) *cobra.Command {
	var keyFile, notesFile, root, only, platforms string
	cmd := &cobra.Command{
		Use:   "build VERSION OUTDIR",
		Short: "Build every binary for every platform, archive, checksum and sign them into OUTDIR",
		Long: "build compiles every binary for every release platform, packs each into\n" +
			"{binary}-v{version}-{triple}.tar.gz (.zip for Windows), writes SHA256SUMS, its minisign\n" +
			"signature SHA256SUMS.minisig, RELEASE_NOTES.md and releases.json (the index of a base URL\n" +
			"feed) into OUTDIR, which must be empty. The same commit and version give the same bytes.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyFile == "" {
				return cli.Usagef("the signing key is required: set WOWLAB_RELEASE_KEY or --key (make one with 'release keygen FILE')")
			}
			key, err := release.ReadKey(keyFile)
			if err != nil {
				return err
			}
			o := release.Options{Root: root, Version: args[0], OutDir: args[1], Key: key, Log: log}
			if notesFile != "" {
				raw, err := os.ReadFile(notesFile)
				if err != nil {
					return cli.Usagef("--notes: %v", err)
				}
				o.Notes = string(raw)
			}
			if only != "" {
				o.Binaries = strings.Split(only, ",")
				for _, b := range o.Binaries {
					if !slices.Contains(release.Binaries(root), b) {
						return cli.Usagef("--binaries: %q is not one of %s", b, strings.Join(release.Binaries(root), ", "))
					}
				}
			}
			if platforms != "" {
				for _, s := range strings.Split(platforms, ",") {
					p, err := parsePlatform(s)
					if err != nil {
						return cli.Usagef("--platforms: %v", err)
					}
					o.Platforms = append(o.Platforms, p)
				}
			}
			names, err := release.Build(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(log, "wrote %d files to %s\n", len(names), args[1])
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&keyFile, "key", "", "minisign private key file that signs SHA256SUMS")
	fs.StringVar(&notesFile, "notes", "", "release notes file (default: the git log since the previous tag)")
	fs.StringVar(&root, "root", ".", "repository root")
	fs.StringVar(&only, "binaries", "", "comma-separated binaries to build (default: all)")
	fs.StringVar(&platforms, "platforms", "", "comma-separated GOOS/GOARCH to build (default: all release platforms)")
	cli.BindEnv(fs, "key", "WOWLAB_RELEASE_KEY")
	return cmd
}

func binaryCmd() *cobra.Command {
	var platform, version, out, root string
	cmd := &cobra.Command{
		Use:   "binary NAME",
		Short: "Build one binary with the release build flags (no archive, no signature)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parsePlatform(platform)
			if err != nil {
				return cli.Usagef("--platform: %v", err)
			}
			v, err := release.CanonicalVersion(version)
			if err != nil {
				return cli.Usagef("--version: %v", err)
			}
			if out == "" {
				return cli.Usagef("-o is required")
			}
			return release.BuildBinary(cmd.Context(), root, args[0], p, v, out)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&platform, "platform", runtime.GOOS+"/"+runtime.GOARCH, "GOOS/GOARCH to build for")
	fs.StringVar(&version, "version", "", "version to stamp in, such as 1.2.3")
	fs.StringVarP(&out, "output", "o", "", "file to write")
	fs.StringVar(&root, "root", ".", "repository root")
	return cmd
}

func keygenCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "keygen FILE",
		Short: "Make a release key pair: the private key into FILE (mode 0600), the public key on stdout",
		Long: "keygen writes a new unencrypted minisign private key to FILE with mode 0600 (it refuses to\n" +
			"overwrite a file) and prints the public key: put its base64 line into releaseKey in\n" +
			"node/update/key.go, and publish it for people who verify releases with minisign -V.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			priv, pub, err := release.GenerateKey()
			if err != nil {
				return err
			}
			f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return cli.Usagef("%s exists: keygen never overwrites a key", args[0])
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(append(priv, '\n')); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			text, _ := pub.MarshalText()
			_, err = fmt.Fprintf(stdout, "%s\n", text)
			return err
		},
	}
}

func parsePlatform(s string) (update.Platform, error) {
	goos, goarch, ok := strings.Cut(s, "/")
	if !ok {
		return update.Platform{}, fmt.Errorf("%q: want GOOS/GOARCH", s)
	}
	return update.PlatformFor(goos, goarch)
}
