package store

// The neutral table read behind the gateway's REST GET (PROTOCOL section 5):
// which rows of an exposed table a caller may see, filtered, ordered and
// paged. Each implementation checks the table and column names against its
// own whitelist, passes every value as a bind parameter and applies the row
// access rules as conditions in its query.

import (
	"fmt"
	"slices"

	"github.com/google/uuid"
)

// MaxRows is the most rows one Select returns (Supabase's default max_rows).
const MaxRows = 1000

// Roles a reader can have (Access.Role).
const (
	// AccessAnon holds only the anon key.
	AccessAnon = "anon"
	// AccessNode is a node with a node token; Access.NodeID names it.
	AccessNode = "node"
	// AccessUser is a user with a user token; Access.UserID names it.
	AccessUser = "user"
)

// Access is who reads, which decides the rows Select may return (a node
// sees only what its current chunks need, PROTOCOL section 6):
// jobs_configs that a job of the user uses, or that a chunk running on the
// node uses (nothing to anon: configs name private rotations and hold
// players' characters); rotations when public, the user's own, or
// referenced (the config's rotationId) by the config of a chunk running on
// the node whose job belongs to the rotation's owner (a job can lend its
// node only its own user's rotations); jobs_chunks of the node or of the
// user's jobs; nodes the node itself or the user's; jobs the user's own;
// nothing else.
type Access struct {
	Role   string // AccessAnon, AccessNode or AccessUser
	NodeID string // for AccessNode
	UserID string // for AccessUser
}

// Filter operators (Filter.Op).
const (
	OpEq  = "eq"
	OpNeq = "neq"
	OpGt  = "gt"
	OpGte = "gte"
	OpLt  = "lt"
	OpLte = "lte"
	OpIn  = "in" // Values holds the list; an empty list matches nothing
	OpIs  = "is" // Values holds one of "null", "true", "false", "unknown"
)

// Comparison is the SQL operator of a comparing filter operator (eq, neq,
// gt, gte, lt, lte); empty for the others.
func Comparison(op string) string {
	s, _ := comparison(op)
	return s
}

func comparison(op string) (string, bool) {
	switch op {
	case OpEq:
		return "=", true
	case OpNeq:
		return "<>", true
	case OpGt:
		return ">", true
	case OpGte:
		return ">=", true
	case OpLt:
		return "<", true
	case OpLte:
		return "<=", true
	}
	return "", false
}

// Filter is one column condition. Values are text, parsed as the column's
// type: a value that does not parse is a QueryError.
type Filter struct {
	Column string
	Op     string
	Not    bool // negates the condition (NULL stays excluded, as in SQL)
	Values []string
}

// Nulls places NULLs in an Order.
type Nulls int

// Placements of NULLs.
const (
	// NullsDefault is PostgreSQL's default: last ascending, first descending.
	NullsDefault Nulls = iota
	// NullsFirst puts NULLs before every value.
	NullsFirst
	// NullsLast puts NULLs after every value.
	NullsLast
)

// Order is one sort key.
type Order struct {
	Column string
	Desc   bool
	Nulls  Nulls
}

// Query is a read of one exposed table (nodes, jobs, jobs_chunks,
// jobs_configs, rotations).
type Query struct {
	Table string
	// Columns to return, in this order, each at most once; every column in
	// table order when empty.
	Columns []string
	// Filters all have to hold.
	Filters []Filter
	// Orders sort the rows, first key first; unspecified order when empty.
	Orders []Order
	// Limit is the most rows returned, 0 to MaxRows.
	Limit int
	// Offset skips this many rows first.
	Offset int
	// Access is who reads.
	Access Access
}

// QueryError is a Select refused for what the query asks: an unknown table
// or column, an operator its column's type does not support, or a value
// that does not parse as the column's type. Code is the SQLSTATE
// PostgreSQL reports for the same mistake (22P02 for a malformed uuid,
// integer or boolean, 42703 for an unknown column...).
type QueryError struct {
	Code    string
	Message string
	Detail  string
	Hint    string
}

func (e *QueryError) Error() string { return e.Message }

func queryErrorf(code, format string, args ...any) *QueryError {
	return &QueryError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Column types of the exposed tables, as PostgreSQL's pg_type names them.
const (
	TypeUUID        = "uuid"
	TypeText        = "text"
	TypeInt4        = "int4"
	TypeInt8        = "int8"
	TypeBool        = "bool"
	TypeTimestamptz = "timestamptz"
	TypeJSONB       = "jsonb"
	TypeUUIDArray   = "_uuid"
)

// Column is an exposed column and its type, for an implementation's
// whitelist.
type Column struct {
	Name string
	Type string
}

// Comparable reports whether values of the column can be compared with a
// text value (every operator but is); jsonb and arrays cannot.
func (c Column) Comparable() bool { return c.Type != TypeJSONB && c.Type != TypeUUIDArray }

// Plan is a Query checked against an implementation's whitelist: the
// columns resolved to their types, ready to be turned into SQL.
type Plan struct {
	Query
	Selected []Column
	filterOn []Column
	orderOn  []Column
}

// FilterColumn is the column of the i-th filter.
func (p *Plan) FilterColumn(i int) Column { return p.filterOn[i] }

// OrderColumn is the column of the i-th order.
func (p *Plan) OrderColumn(i int) Column { return p.orderOn[i] }

// Check validates q against columns, the whitelist of q.Table (nil when the
// implementation does not expose the table), and returns its plan. It
// checks names, operators, the shape of values and the access; an
// implementation still parses each value as its column's type.
func Check(q Query, columns []Column) (*Plan, error) {
	if columns == nil {
		return nil, queryErrorf("42P01", "relation public.%s does not exist", q.Table)
	}
	lookup := func(name string) (Column, error) {
		i := slices.IndexFunc(columns, func(c Column) bool { return c.Name == name })
		if i < 0 {
			return Column{}, queryErrorf("42703", "column %s.%s does not exist", q.Table, name)
		}
		return columns[i], nil
	}
	p := &Plan{Query: q}
	if len(q.Columns) == 0 {
		p.Selected = slices.Clone(columns)
	}
	for _, name := range q.Columns {
		c, err := lookup(name)
		if err != nil {
			return nil, err
		}
		if slices.Contains(p.Selected, c) {
			return nil, queryErrorf("42701", "column %s selected more than once", name)
		}
		p.Selected = append(p.Selected, c)
	}
	for _, f := range q.Filters {
		c, err := lookup(f.Column)
		if err != nil {
			return nil, err
		}
		switch _, cmp := comparison(f.Op); {
		case cmp:
			if len(f.Values) != 1 {
				return nil, queryErrorf("22023", "filter %s.%s needs one value, not %d", f.Column, f.Op, len(f.Values))
			}
		case f.Op == OpIn:
		case f.Op == OpIs:
			if len(f.Values) != 1 {
				return nil, queryErrorf("22023", "filter %s.is needs one value, not %d", f.Column, len(f.Values))
			}
			switch f.Values[0] {
			case "null":
			case "true", "false", "unknown":
				if c.Type != TypeBool {
					return nil, queryErrorf("42804", "argument of IS %s must be type boolean, not type %s", IsKeyword(f.Values[0]), pgTypeName(c.Type))
				}
			default:
				return nil, queryErrorf("22023", "filter %s.is takes null, true, false or unknown, not %q", f.Column, f.Values[0])
			}
		default:
			return nil, queryErrorf("22023", "unknown filter operator %q", f.Op)
		}
		if f.Op != OpIs && !c.Comparable() {
			return nil, queryErrorf("42883", "operator does not exist: %s %s text", pgTypeName(c.Type), f.Op)
		}
		p.filterOn = append(p.filterOn, c)
	}
	for _, o := range q.Orders {
		c, err := lookup(o.Column)
		if err != nil {
			return nil, err
		}
		if o.Nulls < NullsDefault || o.Nulls > NullsLast {
			return nil, queryErrorf("22023", "order %s: unknown nulls placement %d", o.Column, o.Nulls)
		}
		p.orderOn = append(p.orderOn, c)
	}
	if q.Limit < 0 || q.Limit > MaxRows {
		return nil, queryErrorf("22023", "limit %d is outside 0..%d", q.Limit, MaxRows)
	}
	if q.Offset < 0 {
		return nil, queryErrorf("22023", "offset %d is negative", q.Offset)
	}
	switch q.Access.Role {
	case AccessAnon:
	case AccessNode:
		if !isUUID(q.Access.NodeID) {
			return nil, fmt.Errorf("select: node access with node id %q, not a UUID", q.Access.NodeID)
		}
	case AccessUser:
		if !isUUID(q.Access.UserID) {
			return nil, fmt.Errorf("select: user access with user id %q, not a UUID", q.Access.UserID)
		}
	default:
		return nil, fmt.Errorf("select: unknown access role %q", q.Access.Role)
	}
	return p, nil
}

// IsKeyword is the SQL of an is filter's value: NULL, TRUE, FALSE or
// UNKNOWN.
func IsKeyword(v string) string {
	switch v {
	case "true":
		return "TRUE"
	case "false":
		return "FALSE"
	case "unknown":
		return "UNKNOWN"
	}
	return "NULL"
}

// pgTypeName is how PostgreSQL's messages name a type.
func pgTypeName(typ string) string {
	switch typ {
	case TypeInt4:
		return "integer"
	case TypeInt8:
		return "bigint"
	case TypeBool:
		return "boolean"
	case TypeTimestamptz:
		return "timestamp with time zone"
	case TypeUUIDArray:
		return "uuid[]"
	}
	return typ
}

// BadValue is the QueryError for a value that does not parse as typ,
// worded as PostgreSQL words it.
func BadValue(typ, value string) *QueryError {
	code := "22P02"
	if typ == TypeTimestamptz {
		code = "22007"
	}
	return queryErrorf(code, "invalid input syntax for type %s: %q", pgTypeName(typ), value)
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}
