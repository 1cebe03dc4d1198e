package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The API's limits on pipeline parameters ([spec], [docs]).
const (
	MaxParameters  = 100
	MaxKeyLength   = 128
	MaxValueLength = 512
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s looks like the ids CircleCI uses for pipelines,
// workflows and pipeline definitions.
func IsUUID(s string) bool { return uuidRE.MatchString(s) }

// CheckRef checks a branch or tag name as far as can be done without asking
// the VCS: no blanks and no control characters, which git refuses too.
func CheckRef(kind, ref string) error {
	if !utf8.ValidString(ref) {
		return fmt.Errorf("%s is not valid UTF-8", kind)
	}
	for _, r := range ref {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("%s %q contains a blank or control character", kind, ref)
		}
	}
	return nil
}

// Parameters are pipeline parameters. Values are string, int64 or bool,
// the types the API accepts, so they are sent with their JSON type.
type Parameters map[string]any

// ParseParameters reads a JSON object of pipeline parameters. It refuses
// what CircleCI would refuse: nested values, floats, null, and more than the
// API's limits. An empty string is no parameters.
func ParseParameters(s string) (Parameters, error) {
	if strings.TrimSpace(s) == "" {
		return Parameters{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, fmt.Errorf(`parameters must be a JSON object, like {"deploy": true, "env": "prod"}: %s`, jsonProblem(s, err))
	}
	if dec.More() {
		return nil, errors.New("parameters: unexpected text after the JSON object")
	}
	if dup := duplicateKey(s); dup != "" {
		return nil, fmt.Errorf("parameters: key %q appears twice", dup)
	}
	p := make(Parameters, len(raw))
	var errs []error // every problem, in the order of the keys
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		switch v := raw[k].(type) {
		case string, bool:
			p[k] = v
		case json.Number:
			n, err := strconv.ParseInt(v.String(), 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("parameters: %q is %s; CircleCI takes only integers, strings and booleans (quote it to send a string)", k, v))
				continue
			}
			p[k] = n
		case nil:
			errs = append(errs, fmt.Errorf("parameters: %q is null; leave it out to use the pipeline's default", k))
		default:
			errs = append(errs, fmt.Errorf("parameters: %q is a nested %s; CircleCI takes only integers, strings and booleans", k, kindOf(v)))
		}
	}
	if err := errors.Join(append(errs, p.Check())...); err != nil {
		return nil, err
	}
	return p, nil
}

// Check applies the API's limits on count, key and value length, and
// reports every problem.
func (p Parameters) Check() error {
	var errs []error
	if len(p) > MaxParameters {
		errs = append(errs, fmt.Errorf("parameters: %d given, CircleCI takes at most %d", len(p), MaxParameters))
	}
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if k == "" {
			errs = append(errs, errors.New("parameters: a key is empty"))
		}
		if n := utf8.RuneCountInString(k); n > MaxKeyLength {
			errs = append(errs, fmt.Errorf("parameters: key %.20q… is %d characters long, CircleCI takes at most %d", k, n, MaxKeyLength))
		}
		if s, ok := p[k].(string); ok {
			if n := utf8.RuneCountInString(s); n > MaxValueLength {
				errs = append(errs, fmt.Errorf("parameters: value of %q is %d characters long, CircleCI takes at most %d", k, n, MaxValueLength))
			}
		}
	}
	return errors.Join(errs...)
}

// Merge returns base with over's entries on top; neither is changed.
func Merge(base, over Parameters) Parameters {
	out := maps.Clone(base)
	if out == nil {
		out = Parameters{}
	}
	maps.Copy(out, over)
	return out
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// jsonProblem says briefly what is wrong with a JSON text.
func jsonProblem(s string, err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d (%v)", se.Offset, se)
	case err == nil: // "null"
		return "got null"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "got a JSON " + te.Value
	}
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		return "the object is incomplete"
	}
	return "not JSON"
}

// duplicateKey finds a key repeated at the top level of a JSON object, which
// encoding/json would silently collapse to its last value.
func duplicateKey(s string) string {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		k, _ := t.(string)
		if seen[k] {
			return k
		}
		seen[k] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}
