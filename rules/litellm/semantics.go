package litellm

import (
	"strings"
	"unicode"
)

// StrToBool is litellm.secret_managers.main.str_to_bool: after strip() and lower(),
// "true" is true and "false" is false; anything else ("yes", "1", "on") is no boolean.
func StrToBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimFunc(s, pyIsSpace)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// pyIsSpace is Python's str.isspace, which also counts the separators \x1c-\x1f.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// EnvState says what is known about one environment variable of the proxy container.
type EnvState int

const (
	EnvUnset   EnvState = iota // not defined: os.environ.get returns None
	EnvSet                     // defined, value known
	EnvUnknown                 // may be defined from something the auditor does not read
)

// EnvValue is one environment variable as the proxy container would see it.
type EnvValue struct {
	State EnvState
	// Value is set for EnvSet. It may be a secret: never print it.
	Value string
	// Source says where the value comes from, naming objects and keys only (safe to print).
	Source string
	// Why explains EnvUnknown, naming the Secret or ConfigMap and key, never a value.
	Why string
	// Partial is, for an EnvUnknown built by $(VAR) expansion, the value with the unknown
	// references left as $(NAME) (a database URL whose password comes from a Secret still
	// names its host). It may hold secrets: never print it.
	Partial string
}

// Env answers os.environ lookups for the proxy container.
type Env interface {
	Lookup(name string) EnvValue
}

// NoEnv is the environment of a config no container was found for: every variable is unknown.
type NoEnv struct{ Why string }

func (e NoEnv) Lookup(string) EnvValue { return EnvValue{State: EnvUnknown, Why: e.Why} }

// EnvRef returns NAME when v is a string LiteLLM replaces with an environment variable
// (`os.environ/NAME`). get_secret removes every "os.environ/" with str.replace, so the
// name is the rest of the string with all of them removed.
func (v Value) EnvRef() (string, bool) {
	if v.Kind != KindString || !strings.HasPrefix(v.Str, "os.environ/") {
		return "", false
	}
	return strings.ReplaceAll(v.Str, "os.environ/", ""), true
}

// ResolvedKind is the Python type of a setting once LiteLLM has substituted it.
type ResolvedKind int

const (
	Absent  ResolvedKind = iota // the key is not in the file
	None                        // null, or os.environ/NAME with NAME unset
	Bool                        // a bool (YAML boolean, or an env value str_to_bool reads)
	Str                         // a str
	Other                       // a number, timestamp, collection, OIDC token
	Unknown                     // os.environ/NAME whose value the auditor cannot read
)

// Resolved is one setting after ProxyConfig._check_for_os_environ_vars.
type Resolved struct {
	Kind ResolvedKind
	Bool bool
	// Str is the resolved str. It may be a secret: never print it.
	Str string
	// Value is the setting as written in the file.
	Value Value
	// Env is NAME when the setting is os.environ/NAME, and EnvValue what the container has.
	Env      string
	EnvValue EnvValue
}

// Setting returns the value at path (mapping keys from the top level) as the proxy
// holds it after startup substitution: os.environ/NAME goes through get_secret, which
// returns a bool when str_to_bool reads the variable, the raw string otherwise, and
// None when it is unset.
func (c *Config) Setting(env Env, path ...string) Resolved {
	v, ok := c.Lookup(path...)
	if !ok {
		return Resolved{Kind: Absent}
	}
	return Resolve(v, env)
}

// Resolve substitutes one value the way get_secret does.
func Resolve(v Value, env Env) Resolved {
	r := Resolved{Value: v}
	if name, ok := v.EnvRef(); ok {
		r.Env = name
		if strings.HasPrefix(name, "oidc/") {
			// get_secret fetches an OIDC token instead of reading the environment.
			r.Kind = Other
			return r
		}
		if env == nil {
			env = NoEnv{Why: "no container environment is known"}
		}
		r.EnvValue = env.Lookup(name)
		switch r.EnvValue.State {
		case EnvUnset:
			r.Kind = None
		case EnvUnknown:
			r.Kind = Unknown
		default:
			if b, ok := StrToBool(r.EnvValue.Value); ok {
				r.Kind, r.Bool = Bool, b
			} else {
				r.Kind, r.Str = Str, r.EnvValue.Value
			}
		}
		return r
	}
	switch v.Kind {
	case KindNull:
		r.Kind = None
	case KindBool:
		r.Kind, r.Bool = Bool, v.Bool
	case KindString:
		r.Kind, r.Str = Str, v.Str
	default:
		r.Kind = Other
	}
	return r
}

// Lenient is PrismaDBExceptionHandler.should_allow_request_on_db_unavailable's reading:
// a bool as is, a str when str_to_bool says true, anything else false. known is false
// when the value depends on a variable the auditor cannot read.
func (r Resolved) Lenient() (value, known bool) {
	switch r.Kind {
	case Unknown:
		return false, false
	case Bool:
		return r.Bool, true
	case Str:
		b, ok := StrToBool(r.Str)
		return ok && b, true
	}
	return false, true
}

// IsTrue is Python's `value is True` (litellm_settings.cache, store_model_in_db).
func (r Resolved) IsTrue() (value, known bool) {
	if r.Kind == Unknown {
		return false, false
	}
	return r.Kind == Bool && r.Bool, true
}

// IsSet reports whether the setting holds something (not absent, None or an empty
// string), as the proxy's `is not None` checks see it in practice.
func (r Resolved) IsSet() (value, known bool) {
	switch r.Kind {
	case Unknown:
		return false, false
	case Absent, None:
		return false, true
	case Str:
		return r.Str != "", true
	}
	return true, true
}
