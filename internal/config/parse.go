package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/circleci-trigger/circleci-trigger/trigger"
)

// MaxTargets bounds a fan-out: a sanity cap, far above any real one.
const MaxTargets = 10000

// MaxConcurrency bounds the concurrency input.
const MaxConcurrency = 1000

// parseShard reads i/n, counting i from 0 (CIRCLE_NODE_INDEX does, and
// GitHub's strategy.job-index).
func parseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, erri := strconv.Atoi(strings.TrimSpace(a))
	n, errn := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case !ok || erri != nil || errn != nil:
		return 0, 0, fmt.Errorf("shard: %q is not i/n, like 0/4", s)
	case n < 1 || n > MaxTargets:
		return 0, 0, fmt.Errorf("shard: %q: n must be between 1 and %d", s, MaxTargets)
	case i < 0 || i >= n:
		return 0, 0, fmt.Errorf("shard: %q: i counts from 0 to n-1 (0/%d is the first share, %d/%d the last)", s, n, n-1, n)
	}
	return i, n, nil
}

// Shard is share i of n of targets, round-robin: targets i, i+n, i+2n, …
// The n shares are disjoint and together hold every target.
func Shard[T any](targets []T, i, n int) []T {
	var out []T
	for j := i; j < len(targets); j += n {
		out = append(out, targets[j])
	}
	return out
}

// target is one element of the targets input.
type target struct {
	Slug         string          `json:"project-slug"`
	Branch       string          `json:"branch"`
	Tag          string          `json:"tag"`
	Parameters   json.RawMessage `json:"parameters"`
	DefinitionID string          `json:"definition-id"`
}

// parseTargets reads the targets input: inline JSON, or a file holding it.
// Every target is checked; one bad target fails them all.
func parseTargets(v string, base trigger.Parameters) ([]trigger.Request, error) {
	text := strings.TrimSpace(v)
	if !strings.HasPrefix(text, "[") {
		b, err := os.ReadFile(text)
		if err != nil {
			return nil, fmt.Errorf("targets: not a JSON array and not a readable file: %v", err)
		}
		text = string(b)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf(`targets must be a JSON array like [{"project-slug": "gh/acme/api"}]: %v`, err)
	}
	switch {
	case len(raw) == 0:
		return nil, errors.New("targets: the array is empty")
	case len(raw) > MaxTargets:
		return nil, fmt.Errorf("targets: %d given, at most %d", len(raw), MaxTargets)
	}
	var errs []error
	var out []trigger.Request
	seen := map[string]int{}
	for i, m := range raw {
		r, err := parseTarget(m, base)
		if err != nil {
			errs = append(errs, fmt.Errorf("targets[%d]: %w", i, err))
			continue
		}
		key := r.Slug.String() + "\x00" + r.Ref() + "\x00" + mustJSON(r.Parameters) + "\x00" + r.DefinitionID
		if j, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("targets[%d]: same as targets[%d]", i, j))
		}
		seen[key] = i
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

func parseTarget(m json.RawMessage, base trigger.Parameters) (trigger.Request, error) {
	dec := json.NewDecoder(strings.NewReader(string(m)))
	dec.DisallowUnknownFields()
	var t target
	if err := dec.Decode(&t); err != nil {
		return trigger.Request{}, fmt.Errorf("%v (a target is an object with project-slug and optional branch, tag, parameters, definition-id)", strings.TrimPrefix(err.Error(), "json: "))
	}
	if t.Slug == "" {
		return trigger.Request{}, errors.New("project-slug is missing")
	}
	slug, err := parseSlug(t.Slug)
	if err != nil {
		return trigger.Request{}, err
	}
	own, err := trigger.ParseParameters(string(t.Parameters))
	if err != nil {
		return trigger.Request{}, fmt.Errorf("%s: %w", t.Slug, err)
	}
	r := trigger.Request{Slug: slug, Branch: t.Branch, Tag: t.Tag, Parameters: trigger.Merge(base, own), DefinitionID: t.DefinitionID}
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("%s: %w", t.Slug, err)
	}
	return r, nil
}

var secondsRE = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// ParseDuration reads a Go duration ("90s", "1h30m") or plain seconds
// ("90"). It must be positive and at most a week.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if secondsRE.MatchString(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f > 7*24*3600 {
			return 0, fmt.Errorf("%q is out of range (at most a week)", s)
		}
		d = time.Duration(f * float64(time.Second))
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like 90s, 30m or 1h (or plain seconds)", s)
		}
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("%q must be more than zero", s)
	case d > 7*24*time.Hour:
		return 0, fmt.Errorf("%q is out of range (at most a week)", s)
	}
	return d, nil
}

// validHeaderValue refuses control characters, which net/http would refuse
// too, after the request was built: better to say so before.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// normalizeHost accepts "https://host", "host" (https) and a trailing
// "/api/v2"; plain http only for loopback hosts.
func normalizeHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("host %q is not a URL like https://circleci.example.com", h)
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v2")
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.String()):
	case u.Scheme == "http":
		return "", fmt.Errorf("host %s: plain http would expose the token; use https (http is allowed only for loopback)", u.Host)
	default:
		return "", fmt.Errorf("host %q: use an https:// URL", h)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	u, err := url.Parse(host)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
