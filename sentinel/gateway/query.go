package gateway

// Parsing of the PostgREST query subset (select, column filters, order,
// limit, offset) into a store.Query. Column names are checked against the
// table's whitelist here, for PostgREST's errors; the store checks them
// again and runs the query with every value a bind parameter.

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"wowlab/sentinel/store"
)

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

// selectQuery is a parsed GET /rest/v1/<table>: the store query without
// its access, which the caller's token gives.
type selectQuery struct {
	table *table
	query store.Query
}

// parseSelect parses the query string of a GET on t.
// Without a limit, and above it, at most store.MaxRows rows are answered
// (PostgREST's max_rows).
func parseSelect(t *table, q url.Values) (*selectQuery, error) {
	sq := &selectQuery{table: t, query: store.Query{Table: t.name, Limit: store.MaxRows}}
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
	}{{"limit", &sq.query.Limit}, {"offset", &sq.query.Offset}} {
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
	sq.query.Limit = min(sq.query.Limit, store.MaxRows)
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
			sq.query.Filters = append(sq.query.Filters, f)
		}
	}
	return sq, nil
}

func (sq *selectQuery) parseColumns(sel string) error {
	if strings.TrimSpace(sel) == "" || strings.TrimSpace(sel) == "*" {
		return nil // every column
	}
	seen := make(map[string]bool)
	for _, name := range strings.Split(sel, ",") {
		name = strings.TrimSpace(name)
		if name == "*" {
			for _, c := range sq.table.columns {
				if !seen[c.name] {
					seen[c.name] = true
					sq.query.Columns = append(sq.query.Columns, c.name)
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
			sq.query.Columns = append(sq.query.Columns, col.name)
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
		o := store.Order{Column: col.name}
		for _, mod := range parts[1:] {
			switch mod {
			case "asc":
				o.Desc = false
			case "desc":
				o.Desc = true
			case "nullsfirst":
				o.Nulls = store.NullsFirst
			case "nullslast":
				o.Nulls = store.NullsLast
			default:
				return badRequest("PGRST100", "order %q: unknown modifier %q", term, mod)
			}
		}
		sq.query.Orders = append(sq.query.Orders, o)
	}
	return nil
}

// parseFilter parses "<op>.<value>" or "not.<op>.<value>" for col.
func parseFilter(col column, v string) (store.Filter, error) {
	f := store.Filter{Column: col.name}
	if rest, ok := strings.CutPrefix(v, "not."); ok {
		f.Not, v = true, rest
	}
	op, val, ok := strings.Cut(v, ".")
	if !ok {
		return f, badRequest("PGRST100", "filter %s=%s: expected <operator>.<value>", col.name, v)
	}
	f.Op = op
	switch {
	case store.Comparison(op) != "":
		f.Values = []string{val}
	case op == "in":
		vals, err := parseList(val)
		if err != nil {
			return f, badRequest("PGRST100", "filter %s=in: %v", col.name, err)
		}
		f.Values = vals
	case op == "is":
		switch val {
		case "null", "true", "false", "unknown":
		default:
			return f, badRequest("PGRST100", "filter %s=is.%s: is takes null, true, false or unknown", col.name, val)
		}
		f.Values = []string{val}
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
