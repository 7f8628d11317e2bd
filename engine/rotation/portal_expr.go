// This file reads the expression text of a portal variable: either this
// language's JSON expression, or SimC-style text such as
// "buff.bestial_wrath.up&cooldown.kill_command.charges>=1".

package rotation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MaxExpressionText bounds a portal variable's expression text.
const MaxExpressionText = 4096

// expressionText translates a variable's expression text. JSON text (an
// operation object such as {">=": ["resource.focus", 50]}) is this
// language already;
// anything else is read as a SimC expression: & | ! for and, or, not;
// = != < <= > >=; + - *; % is division and %% the modulo, as in SimC;
// floor() ceil() and @ (absolute value); SimC names are mapped to this
// language's paths (simcPath).
func (t *translator) expressionText(text, path string) (any, bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		t.addf(path, "empty expression: give the variable a value")
		return nil, false
	}
	if len(text) > MaxExpressionText {
		t.addf(path, "expression is %d characters, more than the %d allowed", len(text), MaxExpressionText)
		return nil, false
	}
	if text[0] == '{' || text[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader([]byte(text)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.addf(path, "invalid JSON expression: %v", err)
			return nil, false
		}
		if dec.More() {
			t.addf(path, "invalid JSON expression: unexpected data after the expression")
			return nil, false
		}
		return v, true
	}
	p := &simcParser{text: text}
	e, err := p.parse()
	if err != nil {
		t.addf(path, "%v", err)
		return nil, false
	}
	return e, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

type simcParser struct {
	text  string
	pos   int
	depth int
}

func (p *simcParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at character %d of %q: %s", p.pos+1, p.text, fmt.Sprintf(format, args...))
}

func (p *simcParser) parse() (any, error) {
	e, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.text) {
		return nil, p.errorf("unexpected %q", p.text[p.pos:])
	}
	return e, nil
}

func (p *simcParser) space() {
	for p.pos < len(p.text) && (p.text[p.pos] == ' ' || p.text[p.pos] == '\t' || p.text[p.pos] == '\n' || p.text[p.pos] == '\r') {
		p.pos++
	}
}

// levels of the binary operators, loosest first (SimC's precedence).
var simcLevels = [][]struct{ tok, op string }{
	{{"|", "or"}},
	{{"&", "and"}},
	{{"!=", "!="}, {"<=", "<="}, {">=", ">="}, {"=", "=="}, {"<", "<"}, {">", ">"}},
	{{"+", "+"}, {"-", "-"}},
	{{"*", "*"}, {"%%", "%"}, {"%", "/"}},
}

func (p *simcParser) binary(level int) (any, error) {
	if level == len(simcLevels) {
		return p.unary()
	}
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		p.space()
		op := ""
		for _, o := range simcLevels[level] {
			if strings.HasPrefix(p.text[p.pos:], o.tok) {
				op = o.op
				p.pos += len(o.tok)
				break
			}
		}
		if op == "" {
			return left, nil
		}
		right, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		left = map[string]any{op: []any{left, right}}
	}
}

func (p *simcParser) unary() (any, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		return nil, p.errorf("nested deeper than %d levels", MaxDepth)
	}
	p.space()
	if p.pos >= len(p.text) {
		return nil, p.errorf("the expression ends where a value is expected")
	}
	switch c := p.text[p.pos]; {
	case c == '!':
		p.pos++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return map[string]any{"not": e}, nil
	case c == '-':
		p.pos++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return map[string]any{"-": []any{e}}, nil
	case c == '@':
		p.pos++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return map[string]any{"abs": e}, nil
	case c == '(':
		p.pos++
		e, err := p.binary(0)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.text) || p.text[p.pos] != ')' {
			return nil, p.errorf("missing )")
		}
		p.pos++
		return e, nil
	case isDigit(c) || c == '.':
		start := p.pos
		for p.pos < len(p.text) && (isDigit(p.text[p.pos]) || p.text[p.pos] == '.') {
			p.pos++
		}
		n, err := strconv.ParseFloat(p.text[start:p.pos], 64)
		if err != nil {
			return nil, p.errorf("%q is not a number", p.text[start:p.pos])
		}
		return n, nil
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		start := p.pos
		for p.pos < len(p.text) {
			c := p.text[p.pos]
			if c != '_' && c != '.' && !isDigit(c) && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
				break
			}
			p.pos++
		}
		name := p.text[start:p.pos]
		if name == "floor" || name == "ceil" {
			p.space()
			if p.pos >= len(p.text) || p.text[p.pos] != '(' {
				return nil, p.errorf("%s takes its operand in parentheses", name)
			}
			e, err := p.unary()
			if err != nil {
				return nil, err
			}
			return map[string]any{name: e}, nil
		}
		switch name {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return simcPath(name), nil
	}
	return nil, p.errorf("unexpected %q", p.text[p.pos:p.pos+1])
}

// simcAura maps the last part of a SimC buff/debuff path to this
// language's field.
var simcAura = map[string]string{
	"up": "active", "react": "active", "down": "inactive", "remains": "remaining",
	"stack": "stacks", "stacks": "stacks", "max_stack": "stacks_max", "duration": "duration",
	"refreshable": "refreshable", "ticking": "ticking", "ticks_remain": "ticks_remaining",
}

var simcCooldown = map[string]string{
	"ready": "ready", "up": "ready", "remains": "remaining", "duration": "duration",
	"charges": "charges", "max_charges": "charges_max", "charges_fractional": "charges_fractional",
	"recharge_time": "recharge_time", "full_recharge_time": "full_recharge_time",
}

var simcResource = map[string]string{
	"": "", "deficit": ".deficit", "max": ".max", "pct": ".percent", "percent": ".percent",
	"regen": ".regen", "time_to_max": ".time_to_max", "current": "",
}

var simcPlain = map[string]string{
	"active_enemies": "enemy.count", "spell_targets": "enemy.count", "time": "combat.time",
	"fight_remains": "combat.remaining", "fight.remains": "combat.remaining",
	"target.health.pct": "target.health_percent", "target.time_to_die": "target.time_to_die",
	"gcd.remains": "gcd.remaining", "gcd.max": "gcd.duration", "gcd": "gcd.duration",
	"health.pct": "player.health.percent",
}

// simcPath maps a SimC name to this language's path; a name it does not
// know (this language's own paths, variables) is kept, and Compile checks
// it.
func simcPath(name string) any {
	if p, ok := simcPlain[name]; ok {
		return p
	}
	parts := strings.Split(name, ".")
	switch {
	case parts[0] == "variable" && len(parts) == 2:
		return parts[1]
	case parts[0] == "focus" && len(parts) <= 2:
		field := ""
		if len(parts) == 2 {
			field = parts[1]
		}
		if f, ok := simcResource[field]; ok {
			return "resource.focus" + f
		}
	case (parts[0] == "buff" || parts[0] == "debuff" || parts[0] == "dot") && len(parts) == 3:
		if f, ok := simcAura[parts[2]]; ok {
			if parts[0] == "dot" && (parts[2] == "up" || parts[2] == "react") {
				f = "ticking"
			}
			if parts[0] == "dot" && parts[2] == "stack" {
				return "debuff." + parts[1] + ".stacks"
			}
			return parts[0] + "." + parts[1] + "." + f
		}
	case parts[0] == "cooldown" && len(parts) == 3:
		if parts[2] == "down" {
			return map[string]any{"not": "cd." + parts[1] + ".ready"}
		}
		if f, ok := simcCooldown[parts[2]]; ok {
			return "cd." + parts[1] + "." + f
		}
	}
	return name
}
