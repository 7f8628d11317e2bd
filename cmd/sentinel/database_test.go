package main

import (
	"strings"
	"testing"
)

func TestWithMaxConns(t *testing.T) {
	for _, tc := range []struct {
		conn string
		n    int
		want string
		err  string
	}{
		{"postgres://u@127.0.0.1:5432/db?sslmode=disable", 50, "postgres://u@127.0.0.1:5432/db?pool_max_conns=50&sslmode=disable", ""},
		{"postgresql://u@host/db", 8, "postgresql://u@host/db?pool_max_conns=8", ""},
		{"host=127.0.0.1 user=u dbname=db", 8, "host=127.0.0.1 user=u dbname=db pool_max_conns=8", ""},
		{"postgres://u@host/db?pool_max_conns=3", 50, "postgres://u@host/db?pool_max_conns=3", ""},
		{"postgres://u@host/db", 0, "postgres://u@host/db", ""},
		{"postgres://u@host/db", -1, "", "--database-max-conns"},
		{"postgres://u@host/db", 1_000_000, "", "--database-max-conns"},
	} {
		got, err := withMaxConns(tc.conn, tc.n)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("withMaxConns(%q, %d) = %q, %v; want an error about %s", tc.conn, tc.n, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("withMaxConns(%q, %d) = %q, %v; want %q", tc.conn, tc.n, got, err, tc.want)
		}
	}
}
