// Package logging sets up a binary's log/slog logger: records to standard
// output (text or JSON), to a daily-rotated file, and to an in-memory ring a
// UI can read and subscribe to.
package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Format is how records are written to the console.
type Format string

// Console formats.
const (
	Text Format = "text"
	JSON Format = "json"
)

// ParseFormat accepts "text" or "json".
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Text, JSON:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown log format %q (use text or json)", s)
}

// Options configure Setup.
type Options struct {
	Console io.Writer  // where records are printed; nil prints nothing
	Format  Format     // console format; empty means Text
	Level   slog.Level // lowest level recorded
	Dir     string     // log file directory; empty writes no file
	Prefix  string     // file name prefix; empty means "node"
	Keep    int        // days of files kept; zero means 7
	Ring    *Ring      // recent entries for a UI; nil keeps none
	Now     func() time.Time
}

// Logger is a configured logger plus what must be closed at exit.
type Logger struct {
	*slog.Logger
	file *DailyFile
}

// Setup builds the logger described by o.
func Setup(o Options) (*Logger, error) {
	if o.Format == "" {
		o.Format = Text
	}
	if _, err := ParseFormat(string(o.Format)); err != nil {
		return nil, err
	}
	if o.Prefix == "" {
		o.Prefix = "node"
	}
	if o.Keep == 0 {
		o.Keep = 7
	}
	hopts := &slog.HandlerOptions{Level: o.Level}
	var handlers []slog.Handler
	if o.Console != nil {
		if o.Format == JSON {
			handlers = append(handlers, slog.NewJSONHandler(o.Console, hopts))
		} else {
			handlers = append(handlers, slog.NewTextHandler(o.Console, hopts))
		}
	}
	l := &Logger{}
	if o.Dir != "" {
		f, err := OpenDailyFile(o.Dir, o.Prefix, o.Keep, o.Now)
		if err != nil {
			return nil, err
		}
		l.file = f
		handlers = append(handlers, slog.NewJSONHandler(f, hopts))
	}
	if o.Ring != nil {
		handlers = append(handlers, o.Ring.Handler(o.Level))
	}
	l.Logger = slog.New(slog.NewMultiHandler(handlers...))
	return l, nil
}

// Close closes the log file, if any.
func (l *Logger) Close() error {
	if l.file == nil {
		return nil
	}
	return errors.Join(l.file.Close())
}
