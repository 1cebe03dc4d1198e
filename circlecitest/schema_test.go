package circlecitest_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"
)

// A small validator for the subset of OpenAPI 3.0 schemas that CircleCI's
// spec uses for the operations we call: type, required, properties,
// additionalProperties, enum, nullable, items, anyOf, and the date-time and
// uuid formats.

type schema = map[string]any

var spec struct {
	Operations map[string]struct {
		Method    string            `json:"method"`
		Path      string            `json:"path"`
		Responses map[string]schema `json:"responses"`
		Request   schema            `json:"request"`
	} `json:"operations"`
}

func init() {
	b, err := os.ReadFile("testdata/openapi-subset.json")
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		panic(err)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validate returns every way v breaks s, each with its JSON path.
func validate(path string, v any, s schema) []string {
	if v == nil {
		if s["x-nullable"] == true || s["nullable"] == true {
			return nil
		}
		if _, typed := s["type"]; !typed {
			return nil
		}
		return []string{path + ": null where the spec has no nullable"}
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for _, a := range alts {
			if len(validate(path, v, a.(schema))) == 0 {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s: %v matches none of anyOf", path, v)}
	}
	var errs []string
	switch t, _ := s["type"].(string); t {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want object", path, v)}
		}
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required %q missing", path, r))
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := props[k]
			if !ok {
				if s["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: %q not allowed", path, k))
				} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
					errs = append(errs, validate(path+"."+k, obj[k], ap)...)
				}
				continue
			}
			errs = append(errs, validate(path+"."+k, obj[k], ps.(schema))...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want array", path, v)}
		}
		items, _ := s["items"].(schema)
		for i, it := range arr {
			errs = append(errs, validate(fmt.Sprintf("%s[%d]", path, i), it, items)...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want string", path, v)}
		}
		switch s["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %q is not date-time", path, str))
			}
		case "uuid":
			if !uuidRE.MatchString(str) {
				errs = append(errs, fmt.Sprintf("%s: %q is not a uuid", path, str))
			}
		}
		if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, any(str)) {
			errs = append(errs, fmt.Sprintf("%s: %q not in enum %v", path, str, enum))
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			errs = append(errs, fmt.Sprintf("%s: %v, want integer", path, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: %T, want boolean", path, v))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			errs = append(errs, fmt.Sprintf("%s: %T, want number", path, v))
		}
	}
	return errs
}

// checkOp validates a response body against operation op's schema for code.
// conforms reports where an answer for op differs from the spec, and,
// with ok, an answer that is no 2xx.
func conforms(t *testing.T, op string, code int, body []byte, ok bool) {
	t.Helper()
	if ok && code/100 != 2 {
		t.Errorf("%s: %d %s", op, code, body)
	}
	for _, e := range checkOp(op, code, body) {
		t.Errorf("%s", e)
	}
}

func checkOp(op string, code int, body []byte) []string {
	o, ok := spec.Operations[op]
	if !ok {
		return []string{"no operation " + op}
	}
	s, ok := o.Responses[fmt.Sprint(code)]
	if !ok {
		s = o.Responses["default"]
	}
	if s == nil {
		return []string{fmt.Sprintf("%s has no schema for %d", op, code)}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{fmt.Sprintf("%s %d: not JSON: %s", op, code, body)}
	}
	var errs []string
	for _, e := range validate(op, v, s) {
		if !knownDeviation.MatchString(e) {
			errs = append(errs, e)
		}
	}
	return errs
}

// knownDeviation matches where recorded answers differ from the spec, and
// the simulator follows the recording: approval jobs have started_at null
// (fixtures/workflow-jobs.200.approval-job.da-ds.json).
var knownDeviation = regexp.MustCompile(`^listWorkflowJobs\.items\[\d+\]\.started_at: null`)
