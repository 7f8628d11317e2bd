package sqlite

// Select on SQLite: the same rows, order and JSON as the PostgreSQL store.
// SQLite would compare any text with any column, so every filter value is
// parsed here as its column's type (refused as PostgreSQL refuses it) and
// bound in the stored form: canonical lowercase uuids, integers, 0/1 for
// bool, fixed-width UTC text for timestamps. Each row is built by
// json_object with PostgreSQL's shapes (bool as true/false, timestamps as
// RFC 3339 with "+00:00" and no trailing zeros, JSON text embedded).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"wowlab/sentinel/store"
)

// selectable returns the exposed columns of table in table order, nil when
// the table is not exposed. Types are the PostgreSQL schema's (the mapping
// is in migrations/0001_init.sql).
func selectable(table string) []store.Column {
	id := func(n string) store.Column { return store.Column{Name: n, Type: store.TypeUUID} }
	text := func(n string) store.Column { return store.Column{Name: n, Type: store.TypeText} }
	int4 := func(n string) store.Column { return store.Column{Name: n, Type: store.TypeInt4} }
	int8 := func(n string) store.Column { return store.Column{Name: n, Type: store.TypeInt8} }
	ts := func(n string) store.Column { return store.Column{Name: n, Type: store.TypeTimestamptz} }
	js := func(n string) store.Column { return store.Column{Name: n, Type: store.TypeJSONB} }
	switch table {
	case "nodes":
		return []store.Column{id("id"), id("user_id"), text("name"), int4("max_parallel"), text("status"),
			ts("last_seen_at"), text("version"), int4("total_cores"), text("platform"), ts("created_at"),
			text("public_key"), text("claim_code"), int4("capacity")}
	case "jobs":
		return []store.Column{id("id"), id("user_id"), text("config_hash"), int8("total_iterations"),
			int8("completed_iterations"), text("status"), js("result"), ts("created_at"), ts("completed_at"),
			text("access_type"), text("discord_server_id"), text("error")}
	case "jobs_chunks":
		return []store.Column{id("id"), id("job_id"), id("node_id"), text("config_hash"),
			int4("iterations"), int8("seed_offset"), text("status"), js("result"), ts("claimed_at"),
			ts("completed_at"), ts("created_at"), int4("attempts"), text("last_error"),
			{Name: "previous_node_ids", Type: store.TypeUUIDArray}}
	case "jobs_configs":
		return []store.Column{text("hash"), js("config"), ts("created_at"), ts("last_used_at")}
	case "rotations":
		return []store.Column{id("id"), id("user_id"), text("slug"), text("name"), text("script"),
			text("description"), {Name: "is_public", Type: store.TypeBool}, int4("spec_id"), int4("current_version"),
			text("checksum"), ts("created_at"), ts("updated_at")}
	}
	return nil
}

// Select returns the rows of q.Table that q.Access may read as a JSON array.
func (s *Store) Select(ctx context.Context, q store.Query) (json.RawMessage, error) {
	plan, err := store.Check(q, selectable(q.Table))
	if err != nil {
		return nil, err
	}
	sqlText, args, err := selectSQL(plan)
	if err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", q.Table, err)
	}
	defer rows.Close()
	var b bytes.Buffer
	b.WriteByte('[')
	for n := 0; rows.Next(); n++ {
		var row string
		if err := rows.Scan(&row); err != nil {
			return nil, fmt.Errorf("select %s: %w", q.Table, err)
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select %s: %w", q.Table, err)
	}
	b.WriteByte(']')
	return json.RawMessage(b.Bytes()), nil
}

// selectSQL builds the statement answering plan: one row per result row,
// holding its JSON object, restricted to the rows the reader may read.
func selectSQL(plan *store.Plan) (string, []any, error) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT json_object(")
	for i, c := range plan.Selected {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + c.Name + "', " + jsonValue(c))
	}
	// The names are the whitelist's, so quoting them is plain.
	b.WriteString(") FROM \"" + plan.Table + "\" t WHERE ")
	access, accessArgs := rowAccess(plan.Table, plan.Access)
	b.WriteString(access)
	args = append(args, accessArgs...)
	for i, f := range plan.Filters {
		cond, condArgs, err := filterSQL(plan.FilterColumn(i), f)
		if err != nil {
			return "", nil, err
		}
		b.WriteString(" AND ")
		if f.Not {
			b.WriteString("NOT ")
		}
		b.WriteString("(" + cond + ")")
		args = append(args, condArgs...)
	}
	for i, o := range plan.Orders {
		if i == 0 {
			b.WriteString(" ORDER BY ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(colRef(plan.OrderColumn(i)))
		// SQLite sorts NULL first ascending; PostgreSQL last.
		nullsFirst := o.Desc
		switch o.Nulls {
		case store.NullsFirst:
			nullsFirst = true
		case store.NullsLast:
			nullsFirst = false
		}
		if o.Desc {
			b.WriteString(" DESC")
		}
		if nullsFirst {
			b.WriteString(" NULLS FIRST")
		} else {
			b.WriteString(" NULLS LAST")
		}
	}
	b.WriteString(" LIMIT ? OFFSET ?")
	args = append(args, plan.Limit, plan.Offset)
	return b.String(), args, nil
}

func colRef(c store.Column) string { return "t.\"" + c.Name + "\"" }

// jsonValue is the SQL of c's value inside json_object, in PostgreSQL's
// json shape.
func jsonValue(c store.Column) string {
	ref := colRef(c)
	switch c.Type {
	case store.TypeBool:
		return "CASE WHEN " + ref + " IS NULL THEN NULL WHEN " + ref + " THEN json('true') ELSE json('false') END"
	case store.TypeJSONB, store.TypeUUIDArray:
		return "json(" + ref + ")"
	case store.TypeTimestamptz:
		// Stored '2006-01-02T15:04:05.000000Z'; PostgreSQL writes
		// '2006-01-02T15:04:05+00:00', the fraction without trailing zeros.
		return "substr(" + ref + ", 1, 19) || rtrim(rtrim(substr(" + ref + ", 20, 7), '0'), '.') || '+00:00'"
	}
	return ref
}

// filterSQL is the condition of f on c with its bind parameters.
func filterSQL(c store.Column, f store.Filter) (string, []any, error) {
	ref := colRef(c)
	switch f.Op {
	case store.OpIs:
		switch f.Values[0] {
		case "true":
			return ref + " IS 1", nil, nil
		case "false":
			return ref + " IS 0", nil, nil
		}
		return ref + " IS NULL", nil, nil // null, and unknown on a bool
	case store.OpIn:
		if len(f.Values) == 0 {
			return "0", nil, nil
		}
		args := make([]any, len(f.Values))
		for i, v := range f.Values {
			a, err := bindValue(c.Type, v)
			if err != nil {
				return "", nil, err
			}
			args[i] = a
		}
		return ref + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + ")", args, nil
	}
	a, err := bindValue(c.Type, f.Values[0])
	if err != nil {
		return "", nil, err
	}
	return ref + " " + store.Comparison(f.Op) + " ?", []any{a}, nil
}

// bindValue parses v as typ the way PostgreSQL's input functions accept it
// (the common forms) and returns it in the stored form.
func bindValue(typ, v string) (any, error) {
	switch typ {
	case store.TypeUUID:
		u, err := uuid.Parse(strings.TrimSpace(v))
		if err != nil {
			return nil, store.BadValue(typ, v)
		}
		return u.String(), nil
	case store.TypeInt4:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, store.BadValue(typ, v)
		}
		if n < -1<<31 || n > 1<<31-1 {
			return nil, &store.QueryError{Code: "22003", Message: fmt.Sprintf("value %q is out of range for type integer", v)}
		}
		return n, nil
	case store.TypeInt8:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, &store.QueryError{Code: "22003", Message: fmt.Sprintf("value %q is out of range for type bigint", v)}
			}
			return nil, store.BadValue(typ, v)
		}
		return n, nil
	case store.TypeBool:
		b, ok := parseBool(v)
		if !ok {
			return nil, store.BadValue(typ, v)
		}
		if b {
			return 1, nil
		}
		return 0, nil
	case store.TypeTimestamptz:
		t, ok := parseTimestamp(v)
		if !ok {
			return nil, store.BadValue(typ, v)
		}
		return fmtTime(t), nil
	}
	return v, nil
}

// parseBool accepts PostgreSQL's boolean input: true/false, yes/no and any
// unique prefix of them, on/off, 1/0, case-insensitive, spaces trimmed.
func parseBool(v string) (bool, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return false, false
	}
	switch {
	case strings.HasPrefix("true", v), strings.HasPrefix("yes", v), v == "on", v == "1":
		return true, true
	case strings.HasPrefix("false", v), strings.HasPrefix("no", v), v == "off", v == "of", v == "0":
		return false, true
	}
	return false, false
}

// parseTimestamp accepts the ISO 8601 forms of PostgreSQL's timestamptz
// input; a time without a zone is UTC (the PostgreSQL store's session time
// zone).
func parseTimestamp(v string) (time.Time, bool) {
	layouts := []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999Z07",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999Z07",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04",
		"2006-01-02 15:04",
		"2006-01-02",
	}
	v = strings.TrimSpace(v)
	for _, layout := range layouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// rowAccess is the row-level rule of PROTOCOL section 5 (see store.Access),
// with its bind parameters. store.Check has made the ids UUIDs.
func rowAccess(table string, a store.Access) (string, []any) {
	switch table {
	case "jobs_configs":
		switch a.Role {
		case store.AccessUser:
			return "EXISTS (SELECT 1 FROM jobs j WHERE j.config_hash = t.hash AND j.user_id = ?)", []any{canonID(a.UserID)}
		case store.AccessNode:
			return "EXISTS (SELECT 1 FROM jobs_chunks c WHERE c.config_hash = t.hash AND c.node_id = ? AND c.status = 'running')",
				[]any{canonID(a.NodeID)}
		}
	case "rotations":
		switch a.Role {
		case store.AccessUser:
			return "(t.is_public = 1 OR t.user_id = ?)", []any{canonID(a.UserID)}
		case store.AccessNode:
			return "(t.is_public = 1 OR EXISTS (SELECT 1 FROM jobs_chunks c JOIN jobs j ON j.id = c.job_id" +
				" JOIN jobs_configs cfg ON cfg.hash = c.config_hash" +
				" WHERE c.node_id = ? AND c.status = 'running' AND json_extract(cfg.config, '$.rotationId') = t.id" +
				" AND j.user_id = t.user_id))", []any{canonID(a.NodeID)}
		}
		return "t.is_public = 1", nil
	case "jobs":
		if a.Role == store.AccessUser {
			return "t.user_id = ?", []any{canonID(a.UserID)}
		}
	case "jobs_chunks":
		switch a.Role {
		case store.AccessUser:
			return "t.job_id IN (SELECT id FROM jobs WHERE user_id = ?)", []any{canonID(a.UserID)}
		case store.AccessNode:
			return "t.node_id = ?", []any{canonID(a.NodeID)}
		}
	case "nodes":
		switch a.Role {
		case store.AccessUser:
			return "t.user_id = ?", []any{canonID(a.UserID)}
		case store.AccessNode:
			return "t.id = ?", []any{canonID(a.NodeID)}
		}
	}
	return "0", nil
}

// canonID is a UUID in the stored form; store.Check has parsed it.
func canonID(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return id
	}
	return u.String()
}
