package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

func TestChooseSource(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cases := []struct {
		name  string
		env   map[string]string
		local bool
		want  source
	}{
		{"database url wins", map[string]string{EnvDatabaseURL: "postgres://x/y"}, true, source{sourceURL, "postgres://x/y"}},
		{"local server", nil, true, source{sourceURL, localURL}},
		{"nothing answers", nil, false, source{sourceThrowaway, ""}},
		{"forced throwaway", map[string]string{EnvThrowaway: "1", EnvDatabaseURL: "postgres://x/y"}, true, source{sourceThrowaway, ""}},
		{"throwaway=0 ignored", map[string]string{EnvThrowaway: "0"}, true, source{sourceURL, localURL}},
		{"empty url ignored", map[string]string{EnvDatabaseURL: ""}, false, source{sourceThrowaway, ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := chooseSource(env(c.env), func() bool { return c.local }); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestWithDatabase(t *testing.T) {
	cases := map[string]string{
		"postgres://u@h:1/postgres?sslmode=disable": "postgres://u@h:1/db1?sslmode=disable",
		"postgresql://u:p@h/":                       "postgresql://u:p@h/db1",
		"host=h user=u dbname=postgres":             "host=h user=u dbname=postgres dbname=db1",
	}
	for in, want := range cases {
		got, err := withDatabase(in, "db1")
		if err != nil || got != want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestNewDatabaseIsPrivateAndDropped checks that two calls give different,
// empty, usable databases and that each is gone once its test ends.
func TestNewDatabaseIsPrivateAndDropped(t *testing.T) {
	var names [2]string
	for i := range names {
		t.Run("db", func(t *testing.T) {
			dsn := New(t)
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&names[i]); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
				t.Fatalf("fresh database refuses a table: %v", err)
			}
		})
	}
	if names[0] == names[1] || names[0] == "" {
		t.Fatalf("databases not distinct: %q", names)
	}
	admin, err := ServerURL()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = ANY($1)", names[:]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d test databases left behind", n)
	}
}

// TestThrowawayCluster exercises the third rule even when another server
// answers: start a cluster, use it, stop it, and see its directory gone.
func TestThrowawayCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	if _, err := findBinaries(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	c, err := StartCluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		c.Stop()
		t.Fatal(err)
	}
	var one int
	err = conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	if err == nil {
		_, err = conn.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")
	}
	conn.Close(ctx)
	if err != nil || one != 1 {
		c.Stop()
		t.Fatalf("query: %v %d", err, one)
	}
	// A restart cuts connections and keeps the data.
	var downErr error
	if err := c.Restart(ctx, func() { _, downErr = pgx.Connect(ctx, c.URL()) }); err != nil {
		c.Stop()
		t.Fatal(err)
	}
	if downErr == nil {
		t.Error("connected while the server was stopped")
	}
	conn, err = pgx.Connect(ctx, c.URL())
	if err == nil {
		err = conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&one)
		conn.Close(ctx)
	}
	if err != nil || one != 7 {
		c.Stop()
		t.Fatalf("after restart: %v %d", err, one)
	}
	dir := c.Dir()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("cluster directory %s still there: %v", dir, err)
	}
	if answers(ctx, c.URL()) {
		t.Fatal("cluster still answers after Stop")
	}
}
