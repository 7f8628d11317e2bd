package gateway

// Parsing of the PostgREST query subset (select, column filters, order,
// limit, offset) and its translation into SQL. Column names only ever come
// from the table's whitelist; every value is a bind parameter.

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"wowlab/sentinel"
)

// MaxRows caps the rows one GET answers (Supabase's default max_rows).
const MaxRows = 1000

// queryError is a refusal of a request, with PostgREST's code.
type queryError struct {
	status  int
	code    string
	message string
	details string
	hint    string
}

func (e *queryError) Error() string { return e.message }

func badRequest(code, format string, args ...any) *queryError {
	return &queryError{status: 400, code: code, message: fmt.Sprintf(format, args...)}
}

// filter is one column condition.
type filter struct {
	col    column
	op     string   // eq, neq, gt, gte, lt, lte, in, is
	not    bool     // prefixed with not.
	values []string // one value; several for in; null/true/false/unknown for is
}

// order is one ORDER BY term.
type order struct {
	col        column
	desc       bool
	nullsFirst *bool
}

// selectQuery is a parsed GET /rest/v1/<table>.
type selectQuery struct {
	table   *table
	columns []column
	filters []filter
	orders  []order
	limit   int // -1 when not given
	offset  int
}

var comparisons = map[string]string{"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

// parseSelect parses the query string of a GET on t.
func parseSelect(t *table, q url.Values) (*selectQuery, error) {
	sq := &selectQuery{table: t, limit: -1}
	for key, vals := range q {
		switch key {
		case "select", "order", "limit", "offset":
			if len(vals) != 1 {
				return nil, badRequest("PGRST100", "parameter %q given more than once", key)
			}
		}
	}
	if err := sq.parseColumns(q.Get("select")); err != nil {
		return nil, err
	}
	if v, ok := q["order"]; ok {
		if err := sq.parseOrder(v[0]); err != nil {
			return nil, err
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"limit", &sq.limit}, {"offset", &sq.offset}} {
		v, ok := q[p.name]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 {
			return nil, badRequest("PGRST100", "%s must be a non-negative integer, not %q", p.name, v[0])
		}
		*p.dst = n
	}
	for key, vals := range q {
		switch key {
		case "select", "order", "limit", "offset":
			continue
		case "or", "and", "not.or", "not.and":
			return nil, badRequest("PGRST100", "logical operator %q is not supported by this server", key)
		}
		col, ok := t.column(key)
		if !ok {
			return nil, &queryError{status: 400, code: "42703", message: fmt.Sprintf("column %s.%s does not exist", t.name, key)}
		}
		for _, v := range vals {
			f, err := parseFilter(col, v)
			if err != nil {
				return nil, err
			}
			sq.filters = append(sq.filters, f)
		}
	}
	return sq, nil
}

func (sq *selectQuery) parseColumns(sel string) error {
	if strings.TrimSpace(sel) == "" || strings.TrimSpace(sel) == "*" {
		sq.columns = sq.table.columns
		return nil
	}
	seen := make(map[string]bool)
	for _, name := range strings.Split(sel, ",") {
		name = strings.TrimSpace(name)
		if name == "*" {
			for _, c := range sq.table.columns {
				if !seen[c.name] {
					seen[c.name] = true
					sq.columns = append(sq.columns, c)
				}
			}
			continue
		}
		if name == "" || strings.ContainsAny(name, ":()!") {
			return badRequest("PGRST100", "select %q: only plain column names are supported", name)
		}
		col, ok := sq.table.column(name)
		if !ok {
			return &queryError{status: 400, code: "42703", message: fmt.Sprintf("column %s.%s does not exist", sq.table.name, name)}
		}
		if !seen[name] {
			seen[name] = true
			sq.columns = append(sq.columns, col)
		}
	}
	return nil
}

func (sq *selectQuery) parseOrder(v string) error {
	for _, term := range strings.Split(v, ",") {
		parts := strings.Split(strings.TrimSpace(term), ".")
		col, ok := sq.table.column(parts[0])
		if !ok {
			return &queryError{status: 400, code: "42703", message: fmt.Sprintf("column %s.%s does not exist", sq.table.name, parts[0])}
		}
		o := order{col: col}
		for _, mod := range parts[1:] {
			t, f := true, false
			switch mod {
			case "asc":
				o.desc = false
			case "desc":
				o.desc = true
			case "nullsfirst":
				o.nullsFirst = &t
			case "nullslast":
				o.nullsFirst = &f
			default:
				return badRequest("PGRST100", "order %q: unknown modifier %q", term, mod)
			}
		}
		sq.orders = append(sq.orders, o)
	}
	return nil
}

// parseFilter parses "<op>.<value>" or "not.<op>.<value>" for col.
func parseFilter(col column, v string) (filter, error) {
	f := filter{col: col}
	if rest, ok := strings.CutPrefix(v, "not."); ok {
		f.not, v = true, rest
	}
	op, val, ok := strings.Cut(v, ".")
	if !ok {
		return f, badRequest("PGRST100", "filter %s=%s: expected <operator>.<value>", col.name, v)
	}
	f.op = op
	switch {
	case comparisons[op] != "":
		f.values = []string{val}
	case op == "in":
		vals, err := parseList(val)
		if err != nil {
			return f, badRequest("PGRST100", "filter %s=in: %v", col.name, err)
		}
		f.values = vals
	case op == "is":
		switch val {
		case "null", "true", "false", "unknown":
		default:
			return f, badRequest("PGRST100", "filter %s=is.%s: is takes null, true, false or unknown", col.name, val)
		}
		f.values = []string{val}
		return f, nil
	default:
		return f, badRequest("PGRST100", "filter %s: unknown or unsupported operator %q", col.name, op)
	}
	if !col.filterable() {
		return f, badRequest("PGRST100", "column %s (%s) cannot be filtered with %s", col.name, col.typ, op)
	}
	return f, nil
}

// parseList parses PostgREST's "(a,b,"c,d")" list syntax.
func parseList(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return nil, fmt.Errorf("expected a list in parentheses, like (a,b)")
	}
	s = s[1 : len(s)-1]
	var out []string
	if s == "" {
		return out, nil
	}
	for len(s) > 0 || len(out) == 0 {
		var item string
		if s[0] == '"' {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated quoted value")
			}
			item, s = b.String(), s[i+1:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			item, s = s[:end], s[end:]
		}
		out = append(out, item)
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("expected ',' after a quoted value")
		}
		s = s[1:]
		if s == "" {
			return nil, fmt.Errorf("empty last value")
		}
	}
	return out, nil
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

func quoteCol(c column) string { return "t." + pgx.Identifier{c.name}.Sanitize() }

// sql builds the statement answering sq for caller: one row holding the
// JSON array of the result, restricted to the rows the caller may read.
func (sq *selectQuery) sql(caller sentinel.Caller) (string, []any) {
	sb := &sqlBuilder{}
	sb.b.WriteString("SELECT coalesce(json_agg(r), '[]'::json)::text FROM (SELECT ")
	for i, c := range sq.columns {
		if i > 0 {
			sb.b.WriteString(", ")
		}
		sb.b.WriteString(quoteCol(c))
	}
	sb.b.WriteString(" FROM " + pgx.Identifier{sq.table.name}.Sanitize() + " t WHERE ")
	sb.b.WriteString(rowAccess(sb, sq.table.name, caller))
	for _, f := range sq.filters {
		sb.b.WriteString(" AND ")
		if f.not {
			sb.b.WriteString("NOT ")
		}
		sb.b.WriteString("(" + f.sql(sb) + ")")
	}
	if len(sq.orders) > 0 {
		sb.b.WriteString(" ORDER BY ")
		for i, o := range sq.orders {
			if i > 0 {
				sb.b.WriteString(", ")
			}
			sb.b.WriteString(quoteCol(o.col))
			if o.desc {
				sb.b.WriteString(" DESC")
			}
			if o.nullsFirst != nil {
				if *o.nullsFirst {
					sb.b.WriteString(" NULLS FIRST")
				} else {
					sb.b.WriteString(" NULLS LAST")
				}
			}
		}
	}
	limit := MaxRows
	if sq.limit >= 0 && sq.limit < limit {
		limit = sq.limit
	}
	sb.b.WriteString(" LIMIT " + sb.arg(limit))
	if sq.offset > 0 {
		sb.b.WriteString(" OFFSET " + sb.arg(sq.offset))
	}
	sb.b.WriteString(") r")
	return sb.b.String(), sb.args
}

func (f filter) sql(sb *sqlBuilder) string {
	col := quoteCol(f.col)
	switch f.op {
	case "is":
		return col + " IS " + strings.ToUpper(f.values[0])
	case "in":
		return col + " = ANY((" + sb.arg(f.values) + "::text[])::" + f.col.sqlType() + "[])"
	}
	return col + " " + comparisons[f.op] + " (" + sb.arg(f.values[0]) + "::text)::" + f.col.sqlType()
}

// rowAccess is the row-level rule of PROTOCOL section 5 and the issue:
// jobs_configs for everyone; rotations when public, the caller's own, or
// referenced by a chunk running on the calling node; jobs_chunks and nodes
// of the node itself or of the user's jobs and nodes; jobs the user's own.
func rowAccess(sb *sqlBuilder, tableName string, c sentinel.Caller) string {
	switch tableName {
	case "jobs_configs":
		return "true"
	case "rotations":
		switch c.Role {
		case sentinel.RoleUser:
			return "(t.is_public OR t.user_id = (" + sb.arg(c.UserID) + "::text)::uuid)"
		case sentinel.RoleNode:
			return "(t.is_public OR EXISTS (SELECT 1 FROM jobs_chunks c JOIN jobs_configs cfg ON cfg.hash = c.config_hash" +
				" WHERE c.node_id = (" + sb.arg(c.NodeID) + "::text)::uuid AND c.status = 'running'" +
				" AND cfg.config ->> 'rotationId' = t.id::text))"
		}
		return "t.is_public"
	case "jobs":
		if c.Role == sentinel.RoleUser {
			return "t.user_id = (" + sb.arg(c.UserID) + "::text)::uuid"
		}
	case "jobs_chunks":
		switch c.Role {
		case sentinel.RoleUser:
			return "t.job_id IN (SELECT id FROM jobs WHERE user_id = (" + sb.arg(c.UserID) + "::text)::uuid)"
		case sentinel.RoleNode:
			return "t.node_id = (" + sb.arg(c.NodeID) + "::text)::uuid"
		}
	case "nodes":
		switch c.Role {
		case sentinel.RoleUser:
			return "t.user_id = (" + sb.arg(c.UserID) + "::text)::uuid"
		case sentinel.RoleNode:
			return "t.id = (" + sb.arg(c.NodeID) + "::text)::uuid"
		}
	}
	return "false"
}
