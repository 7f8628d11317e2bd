package update

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// Extract returns the binary's file from a release archive of p: the
// entry named p.Exe(binary) at the archive's top level, which must be a
// regular file. The updater calls it on verified archives only; the checks
// here guard against a release built wrong.
func Extract(p Platform, binary string, archive []byte) ([]byte, error) {
	want := p.Exe(binary)
	if p.ArchiveExt() == ".zip" {
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			return nil, fmt.Errorf("read zip: %w", err)
		}
		for _, f := range zr.File {
			if f.Name != want {
				continue
			}
			if !f.Mode().IsRegular() {
				return nil, fmt.Errorf("%s in the archive is not a regular file", want)
			}
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", want, err)
			}
			defer rc.Close()
			return readAllLimited(rc, int64(len(archive))*64)
		}
		return nil, fmt.Errorf("the archive holds no %s", want)
	}
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("read gzip: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the archive holds no %s", want)
		}
		if err != nil {
			return nil, fmt.Errorf("read tar: %w", err)
		}
		if h.Name != want {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%s in the archive is not a regular file", want)
		}
		return readAllLimited(tr, int64(len(archive))*64)
	}
}

// readAllLimited reads r to its end, refusing more than limit bytes (a
// compression bomb cannot be a binary we built).
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, errors.New("the binary in the archive is implausibly large")
	}
	return raw, nil
}
