package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DailyFile is an io.Writer appending to <dir>/<prefix>-YYYY-MM-DD.log,
// switching to a new file when the local date changes and deleting files
// of that pattern older than Keep days. It is safe for concurrent use.
type DailyFile struct {
	dir    string
	prefix string
	keep   int
	now    func() time.Time

	mu   sync.Mutex
	day  string
	file *os.File
}

// OpenDailyFile creates dir (0700) and opens today's file. keep is the number
// of days of files kept (today included); now is the clock (nil: time.Now).
func OpenDailyFile(dir, prefix string, keep int, now func() time.Time) (*DailyFile, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	f := &DailyFile{dir: dir, prefix: prefix, keep: max(1, keep), now: now}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.rotate(now()); err != nil {
		return nil, err
	}
	return f, nil
}

// Write appends p to the current day's file, rotating first when the day changed.
func (f *DailyFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if now.Format(time.DateOnly) != f.day || f.file == nil {
		if err := f.rotate(now); err != nil {
			return 0, err
		}
	}
	return f.file.Write(p)
}

// Close closes the current file.
func (f *DailyFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.file == nil {
		return nil
	}
	err := f.file.Close()
	f.file = nil
	return err
}

// Path returns the file written to at time t.
func (f *DailyFile) Path(t time.Time) string {
	return filepath.Join(f.dir, f.prefix+"-"+t.Format(time.DateOnly)+".log")
}

func (f *DailyFile) rotate(now time.Time) error {
	if f.file != nil {
		_ = f.file.Close()
		f.file = nil
	}
	file, err := os.OpenFile(f.Path(now), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	f.file, f.day = file, now.Format(time.DateOnly)
	f.prune(now)
	return nil
}

// prune deletes files of this writer's pattern dated Keep or more days ago.
func (f *DailyFile) prune(now time.Time) {
	matches, err := filepath.Glob(filepath.Join(f.dir, f.prefix+"-*.log"))
	if err != nil {
		return
	}
	y, m, d := now.Date()
	cutoff := time.Date(y, m, d-f.keep+1, 0, 0, 0, 0, now.Location())
	for _, path := range matches {
		stamp := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), f.prefix+"-"), ".log")
		day, err := time.ParseInLocation(time.DateOnly, stamp, now.Location())
		if err != nil {
			continue
		}
		if day.Before(cutoff) {
			_ = os.Remove(path)
		}
	}
}
