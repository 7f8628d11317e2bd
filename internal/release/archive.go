package release

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"time"

	"wowlab/node/update"
)

// WriteArchive writes the release archive of one binary for p to w: a zip
// on Windows, a gzip-compressed tar elsewhere, holding the single file
// p.Exe(binary) with mode 0755. Everything that could vary between two
// builds is fixed: the entry's time is mtime (the commit time), owner and
// group are root without names, and gzip records no name or time.
func WriteArchive(w io.Writer, p update.Platform, binary string, exe []byte, mtime time.Time) error {
	mtime = mtime.UTC().Truncate(time.Second)
	name := p.Exe(binary)
	if p.ArchiveExt() == ".zip" {
		zw := zip.NewWriter(w)
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(0o755)
		f, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("zip %s: %w", name, err)
		}
		if _, err := f.Write(exe); err != nil {
			return fmt.Errorf("zip %s: %w", name, err)
		}
		return zw.Close()
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	h := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o755,
		Size:     int64(len(exe)),
		ModTime:  mtime,
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	if _, err := tw.Write(exe); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}
