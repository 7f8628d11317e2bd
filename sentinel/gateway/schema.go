package gateway

// The tables the gateway exposes, their columns (the whitelist every REST
// query and Realtime filter is checked against) and their PostgreSQL type
// names (the "columns" of a postgres_changes payload). A test compares them
// with the migrated database's catalog.

// column is one exposed column.
type column struct {
	name string
	typ  string // PostgreSQL type name as pg_type.typname spells it
}

// filterable reports whether the column can be compared with a text value.
func (c column) filterable() bool { return c.typ != "jsonb" && c.typ[0] != '_' }

// table is one exposed table.
type table struct {
	name     string
	columns  []column
	byName   map[string]int
	realtime bool // postgres_changes may bind to it
}

func (t *table) column(name string) (column, bool) {
	i, ok := t.byName[name]
	if !ok {
		return column{}, false
	}
	return t.columns[i], true
}

func newTable(name string, realtime bool, cols ...column) *table {
	t := &table{name: name, columns: cols, byName: make(map[string]int, len(cols)), realtime: realtime}
	for i, c := range cols {
		t.byName[c.name] = i
	}
	return t
}

// schema holds the exposed tables by name.
type schema map[string]*table

func newSchema() schema {
	uuid := func(n string) column { return column{n, "uuid"} }
	text := func(n string) column { return column{n, "text"} }
	int4 := func(n string) column { return column{n, "int4"} }
	int8 := func(n string) column { return column{n, "int8"} }
	ts := func(n string) column { return column{n, "timestamptz"} }
	jsonb := func(n string) column { return column{n, "jsonb"} }
	tables := []*table{
		newTable("nodes", true, uuid("id"), uuid("user_id"), text("name"), int4("max_parallel"), text("status"),
			ts("last_seen_at"), text("version"), int4("total_cores"), text("platform"), ts("created_at"),
			text("public_key"), text("claim_code"), int4("capacity")),
		newTable("jobs", true, uuid("id"), uuid("user_id"), text("config_hash"), int8("total_iterations"),
			int8("completed_iterations"), text("status"), jsonb("result"), ts("created_at"), ts("completed_at"),
			text("access_type"), text("discord_server_id"), text("error")),
		newTable("jobs_chunks", true, uuid("id"), uuid("job_id"), uuid("node_id"), text("config_hash"),
			int4("iterations"), int8("seed_offset"), text("status"), jsonb("result"), ts("claimed_at"),
			ts("completed_at"), ts("created_at"), int4("attempts"), text("last_error"),
			column{"previous_node_ids", "_uuid"}),
		newTable("jobs_configs", false, text("hash"), jsonb("config"), ts("created_at"), ts("last_used_at")),
		newTable("rotations", false, uuid("id"), uuid("user_id"), text("slug"), text("name"), text("script"),
			text("description"), column{"is_public", "bool"}, int4("spec_id"), int4("current_version"),
			text("checksum"), ts("created_at"), ts("updated_at")),
	}
	s := make(schema, len(tables))
	for _, t := range tables {
		s[t.name] = t
	}
	return s
}
