package nodecmd

import (
	"errors"

	"github.com/spf13/pflag"

	"wowlab/internal/cli"
	"wowlab/node/policy"
)

// addPolicyFlags adds a flag, with its environment variable, for every
// policy setting; the values given land in into, checked as they are set.
func addPolicyFlags(fs *pflag.FlagSet, into policy.Overrides) {
	for _, k := range policy.Keys() {
		f := fs.VarPF(policyValue{key: k, into: into}, k.Flag, "", k.Usage+" (default: config.ini)")
		if k.Bool {
			f.NoOptDefVal = "true"
		}
		cli.BindEnv(fs, k.Flag, k.Env)
	}
}

// policyValue is one policy flag.
type policyValue struct {
	key  policy.Key
	into policy.Overrides
}

func (v policyValue) String() string { return v.into[v.key.Name] }

func (v policyValue) Set(s string) error {
	var probe policy.Settings
	if err := probe.Set(v.key.Name, s); err != nil {
		var ke *policy.KeyError
		if errors.As(err, &ke) {
			return ke.Err
		}
		return err
	}
	v.into[v.key.Name] = s
	return nil
}

func (v policyValue) Type() string {
	switch {
	case v.key.Bool:
		return "bool"
	case v.key.Name == "schedule":
		return "windows"
	}
	return "int"
}
