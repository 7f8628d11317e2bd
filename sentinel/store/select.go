package store

// Select on PostgreSQL: one statement aggregating the rows with json_agg, so
// the answer has exactly the shapes PostgREST gives. Column names only ever
// come from the whitelist below; every value is a bind parameter cast from
// text to the column's type, so PostgreSQL itself refuses a malformed value
// (22P02 and friends), which Select reports as a QueryError.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// selectable returns the exposed columns of table in table order, nil when
// the table is not exposed.
func selectable(table string) []Column {
	uuid := func(n string) Column { return Column{n, TypeUUID} }
	text := func(n string) Column { return Column{n, TypeText} }
	int4 := func(n string) Column { return Column{n, TypeInt4} }
	int8 := func(n string) Column { return Column{n, TypeInt8} }
	ts := func(n string) Column { return Column{n, TypeTimestamptz} }
	jsonb := func(n string) Column { return Column{n, TypeJSONB} }
	switch table {
	case "nodes":
		return []Column{uuid("id"), uuid("user_id"), text("name"), int4("max_parallel"), text("status"),
			ts("last_seen_at"), text("version"), int4("total_cores"), text("platform"), ts("created_at"),
			text("public_key"), text("claim_code")}
	case "jobs":
		return []Column{uuid("id"), uuid("user_id"), text("config_hash"), int8("total_iterations"),
			int8("completed_iterations"), text("status"), jsonb("result"), ts("created_at"), ts("completed_at"),
			text("access_type"), text("discord_server_id"), text("error")}
	case "jobs_chunks":
		return []Column{uuid("id"), uuid("job_id"), uuid("node_id"), text("config_hash"),
			int4("iterations"), int8("seed_offset"), text("status"), jsonb("result"), ts("claimed_at"),
			ts("completed_at"), ts("created_at"), int4("attempts"), text("last_error"),
			{"previous_node_ids", TypeUUIDArray}}
	case "jobs_configs":
		return []Column{text("hash"), jsonb("config"), ts("created_at"), ts("last_used_at")}
	case "rotations":
		return []Column{uuid("id"), uuid("user_id"), text("slug"), text("name"), text("script"),
			text("description"), {"is_public", TypeBool}, int4("spec_id"), int4("current_version"),
			text("checksum"), ts("created_at"), ts("updated_at")}
	}
	return nil
}

// Select returns the rows of q.Table that q.Access may read as a JSON array.
func (p *Postgres) Select(ctx context.Context, q Query) (json.RawMessage, error) {
	plan, err := Check(q, selectable(q.Table))
	if err != nil {
		return nil, err
	}
	sqlText, args := selectSQL(plan)
	var out string
	if err := p.pool.QueryRow(ctx, sqlText, args...).Scan(&out); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || pe.Code == "42804") {
			return nil, &QueryError{Code: pe.Code, Message: pe.Message, Detail: pe.Detail, Hint: pe.Hint}
		}
		return nil, fmt.Errorf("select %s: %w", q.Table, err)
	}
	return json.RawMessage(out), nil
}

// sqlBuilder collects SQL text and its bind parameters.
type sqlBuilder struct {
	b    strings.Builder
	args []any
}

func (sb *sqlBuilder) arg(v any) string {
	sb.args = append(sb.args, v)
	return "$" + strconv.Itoa(len(sb.args))
}

func quoteCol(c Column) string { return "t." + pgx.Identifier{c.Name}.Sanitize() }

// selectSQL builds the statement answering plan: one row holding the JSON
// array of the result, restricted to the rows the reader may read.
func selectSQL(plan *Plan) (string, []any) {
	sb := &sqlBuilder{}
	sb.b.WriteString("SELECT coalesce(json_agg(r), '[]'::json)::text FROM (SELECT ")
	for i, c := range plan.Selected {
		if i > 0 {
			sb.b.WriteString(", ")
		}
		sb.b.WriteString(quoteCol(c))
	}
	sb.b.WriteString(" FROM " + pgx.Identifier{plan.Table}.Sanitize() + " t WHERE ")
	sb.b.WriteString(rowAccess(sb, plan.Table, plan.Access))
	for i, f := range plan.Filters {
		sb.b.WriteString(" AND ")
		if f.Not {
			sb.b.WriteString("NOT ")
		}
		sb.b.WriteString("(" + filterSQL(sb, plan.FilterColumn(i), f) + ")")
	}
	for i, o := range plan.Orders {
		if i == 0 {
			sb.b.WriteString(" ORDER BY ")
		} else {
			sb.b.WriteString(", ")
		}
		sb.b.WriteString(quoteCol(plan.OrderColumn(i)))
		if o.Desc {
			sb.b.WriteString(" DESC")
		}
		switch o.Nulls {
		case NullsFirst:
			sb.b.WriteString(" NULLS FIRST")
		case NullsLast:
			sb.b.WriteString(" NULLS LAST")
		}
	}
	sb.b.WriteString(" LIMIT " + sb.arg(plan.Limit))
	if plan.Offset > 0 {
		sb.b.WriteString(" OFFSET " + sb.arg(plan.Offset))
	}
	sb.b.WriteString(") r")
	return sb.b.String(), sb.args
}

func filterSQL(sb *sqlBuilder, c Column, f Filter) string {
	col := quoteCol(c)
	switch f.Op {
	case OpIs:
		return col + " IS " + IsKeyword(f.Values[0])
	case OpIn:
		return col + " = ANY((" + sb.arg(f.Values) + "::text[])::" + c.Type + "[])"
	}
	op, _ := comparison(f.Op)
	return col + " " + op + " (" + sb.arg(f.Values[0]) + "::text)::" + c.Type
}

// rowAccess is the row-level rule of PROTOCOL section 5 (see Access).
func rowAccess(sb *sqlBuilder, table string, a Access) string {
	switch table {
	case "jobs_configs":
		switch a.Role {
		case AccessUser:
			return "EXISTS (SELECT 1 FROM jobs j WHERE j.config_hash = t.hash AND j.user_id = (" + sb.arg(a.UserID) + "::text)::uuid)"
		case AccessNode:
			return "EXISTS (SELECT 1 FROM jobs_chunks c WHERE c.config_hash = t.hash" +
				" AND c.node_id = (" + sb.arg(a.NodeID) + "::text)::uuid AND c.status = 'running')"
		}
	case "rotations":
		switch a.Role {
		case AccessUser:
			return "(t.is_public OR t.user_id = (" + sb.arg(a.UserID) + "::text)::uuid)"
		case AccessNode:
			return "(t.is_public OR EXISTS (SELECT 1 FROM jobs_chunks c JOIN jobs j ON j.id = c.job_id" +
				" JOIN jobs_configs cfg ON cfg.hash = c.config_hash" +
				" WHERE c.node_id = (" + sb.arg(a.NodeID) + "::text)::uuid AND c.status = 'running'" +
				" AND cfg.config ->> 'rotationId' = t.id::text AND j.user_id = t.user_id))"
		}
		return "t.is_public"
	case "jobs":
		if a.Role == AccessUser {
			return "t.user_id = (" + sb.arg(a.UserID) + "::text)::uuid"
		}
	case "jobs_chunks":
		switch a.Role {
		case AccessUser:
			return "t.job_id IN (SELECT id FROM jobs WHERE user_id = (" + sb.arg(a.UserID) + "::text)::uuid)"
		case AccessNode:
			return "t.node_id = (" + sb.arg(a.NodeID) + "::text)::uuid"
		}
	case "nodes":
		switch a.Role {
		case AccessUser:
			return "t.user_id = (" + sb.arg(a.UserID) + "::text)::uuid"
		case AccessNode:
			return "t.id = (" + sb.arg(a.NodeID) + "::text)::uuid"
		}
	}
	return "false"
}
