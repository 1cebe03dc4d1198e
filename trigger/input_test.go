package trigger

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

func TestParseParameters(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxValueLength+1)
	many := map[string]int{}
	for i := range MaxParameters + 1 {
		many["p"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+strings.Repeat("y", i/26)] = i
	}
	manyJSON, _ := json.Marshal(many)
	for _, tc := range []struct {
		name, in string
		want     Parameters
		wantErr  string
	}{
		{name: "empty", in: "", want: Parameters{}},
		{name: "empty object", in: "{}", want: Parameters{}},
		{name: "typed", in: `{"deploy": true, "env": "prod", "replicas": 3, "neg": -2}`, want: Parameters{"deploy": true, "env": "prod", "replicas": int64(3), "neg": int64(-2)}},
		{name: "string that looks like a number", in: `{"v": "1.5"}`, want: Parameters{"v": "1.5"}},
		{name: "array", in: `[1]`, wantErr: "must be a JSON object"},
		{name: "null", in: `null`, wantErr: "must be a JSON object"},
		{name: "not json", in: `deploy=true`, wantErr: "must be a JSON object"},
		{name: "truncated", in: `{"a": 1`, wantErr: "must be a JSON object"},
		{name: "trailing", in: `{"a": 1} {"b": 2}`, wantErr: "unexpected text"},
		{name: "float", in: `{"ratio": 1.5}`, wantErr: `"ratio" is 1.5`},
		{name: "exponent", in: `{"n": 1e3}`, wantErr: `"n" is 1e3`},
		{name: "huge int", in: `{"n": 99999999999999999999}`, wantErr: `"n" is 99999999999999999999`},
		{name: "nested object", in: `{"o": {"a": 1}}`, wantErr: "nested object"},
		{name: "nested array", in: `{"o": [1]}`, wantErr: "nested array"},
		{name: "null value", in: `{"o": null}`, wantErr: "is null"},
		{name: "duplicate key", in: `{"a": 1, "a": 2}`, wantErr: `key "a" appears twice`},
		{name: "empty key", in: `{"": 1}`, wantErr: "a key is empty"},
		{name: "long key", in: `{"` + strings.Repeat("k", MaxKeyLength+1) + `": 1}`, wantErr: "at most 128"},
		{name: "long value", in: `{"v": "` + long + `"}`, wantErr: "at most 512"},
		{name: "too many", in: string(manyJSON), wantErr: "at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseParameters(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseParameters(%.40q) error = %v, want it to mention %q", tc.in, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseParameters(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParametersKeepTheirJSONType(t *testing.T) {
	t.Parallel()
	p, err := ParseParameters(`{"deploy": true, "n": 3, "s": "true"}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	if got, want := string(b), `{"deploy":true,"n":3,"s":"true"}`; got != want {
		t.Errorf("marshaled = %s, want %s", got, want)
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	base := Parameters{"a": int64(1), "b": "x"}
	got := Merge(base, Parameters{"b": "y", "c": true})
	want := Parameters{"a": int64(1), "b": "y", "c": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge = %v, want %v", got, want)
	}
	if base["b"] != "x" {
		t.Errorf("Merge changed its base: %v", base)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	gh := circleci.Slug{VCS: "gh", Org: "acme", Project: "api"}
	cc := circleci.Slug{VCS: "circleci", Org: "org", Project: "proj"}
	for _, tc := range []struct {
		name    string
		r       Request
		wantErr []string
	}{
		{name: "ok", r: Request{Slug: gh, Branch: "main"}},
		{name: "both refs", r: Request{Slug: gh, Branch: "main", Tag: "v1"}, wantErr: []string{"exclusive"}},
		{name: "blank in branch", r: Request{Slug: gh, Branch: "my branch"}, wantErr: []string{"blank"}},
		{name: "circleci without definition", r: Request{Slug: cc}, wantErr: []string{"set definition-id"}},
		{name: "bad definition", r: Request{Slug: cc, DefinitionID: "abc"}, wantErr: []string{"not a UUID"}},
		{name: "two problems", r: Request{Slug: cc, Branch: "a", Tag: "b"}, wantErr: []string{"exclusive", "set definition-id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", tc.r, err)
				}
				return
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Validate(%+v) = %v, want it to mention %q", tc.r, err, w)
				}
			}
		})
	}
}

func TestPostBody(t *testing.T) {
	t.Parallel()
	params := Parameters{"deploy": true}
	path, body := Request{Slug: circleci.Slug{VCS: "github", Org: "acme", Project: "api"}, Tag: "v1", Parameters: params, DefinitionID: "2338d0ae-5541-4bbf-88a2-55e9f7281f80"}.post()
	if path != "/project/gh/acme/api/pipeline/run" {
		t.Errorf("path = %s", path)
	}
	b, _ := json.Marshal(body)
	want := `{"checkout":{"tag":"v1"},"config":{"tag":"v1"},"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80","parameters":{"deploy":true}}`
	if string(b) != want {
		t.Errorf("body = %s, want %s", b, want)
	}
	path, body = Request{Slug: circleci.Slug{VCS: "gh", Org: "acme", Project: "api"}}.post()
	b, _ = json.Marshal(body)
	if path != "/project/gh/acme/api/pipeline" || string(b) != "{}" {
		t.Errorf("default branch: %s %s", path, b)
	}
}

func FuzzParseParameters(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":true,"b":"x"}`, `{"a":1.5}`, `[]`, `{"a":{"b":1}}`, `{"a":1,"a":2}`, `{"a":99999999999999999999}`, "{\"\\u0000\":\"\"}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseParameters(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q: %q", s, err)
			}
			return
		}
		if len(p) > MaxParameters {
			t.Fatalf("accepted %d parameters", len(p))
		}
		for k, v := range p {
			switch v.(type) {
			case string, bool, int64:
			default:
				t.Fatalf("value of %q has type %T", k, v)
			}
		}
		// What was accepted must survive a round trip unchanged.
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseParameters(string(b))
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip of %q: %v, %v", s, q, err)
		}
	})
}
