// Package config turns the inputs of every surface into one Config: CLI
// flags, GitHub Action inputs (INPUT_*), environment variables, and
// defaults derived from the GitHub or CircleCI environment, in that order of
// precedence. It checks everything that can be checked before a request.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/circleci-trigger/circleci-trigger/trigger"
	"github.com/circleci-trigger/circleci-trigger/wait"
	"github.com/sethvargo/go-githubactions"
)

// Surfaces.
const (
	GitHub   = "github"
	CircleCI = "circleci"
	CLI      = "cli"
)

// EnvPrefix names the environment variable of each input, for the orb and
// shells: project-slug is CIRCLECI_TRIGGER_PROJECT_SLUG.
const EnvPrefix = "CIRCLECI_TRIGGER_"

// Config is everything a run needs.
type Config struct {
	Surface    string
	Token      string // never printed
	Host       string // e.g. https://circleci.com, no trailing slash
	Targets    []trigger.Request
	Fanout     bool   // targets came from the targets input
	PipelineID string // wait for this pipeline instead of triggering
	Wait       bool
	WaitOpts   wait.Options
	JSON       bool
	Help       bool
	Version    bool
}

// APIBase is the API's base URL.
func (c Config) APIBase() string { return c.Host + "/api/v2" }

// Loopback reports whether the host is this machine (the simulator).
func (c Config) Loopback() bool { return isLoopback(c.Host) }

// ErrHelp is returned for -h and --help after the usage is printed.
var ErrHelp = flag.ErrHelp

// input describes one input, in the order --help shows them.
type input struct {
	name, def, usage string
	boolean          bool
}

var inputs = []input{
	{"project-slug", "", "project to trigger: gh/org/repo, bb/org/repo or circleci/<org-id>/<project-id> (default: the current repository)", false},
	{"branch", "", "branch to build, e.g. main or pull/123/head (default: the current branch for the current repository, else the project's default)", false},
	{"tag", "", "tag to build, instead of a branch", false},
	{"parameters", "", `pipeline parameters as a JSON object, e.g. '{"deploy": true, "env": "prod"}'`, false},
	{"definition-id", "", "pipeline definition id: use the pipeline/run endpoint (required for circleci/ slugs)", false},
	{"host", "", "CircleCI host, for CircleCI server (default: $CIRCLE_HOST, $CCI_HOST, else https://circleci.com)", false},
	{"wait", "false", "wait for the pipeline's workflows and exit with their status", true},
	{"pipeline-id", "", "wait for this existing pipeline instead of triggering one", false},
	{"timeout", "30m", "longest wait: a Go duration (90s, 1h) or plain seconds", false},
	{"poll-interval", "2s", "first and smallest wait between polls", false},
	{"max-poll-interval", "30s", "largest wait between polls", false},
	{"on-hold", "wait", "what a workflow on hold (waiting for approval) means: wait, succeed or fail", false},
	{"fail-fast", "false", "stop as soon as any workflow is failing or failed", true},
	{"cancel-on-exit", "false", "on timeout or interruption, cancel the downstream workflows still running", true},
	{"targets", "", "fan-out: a JSON array of {project-slug, branch, tag, parameters, definition-id}, or a file holding one", false},
}

// MaxTargets bounds a fan-out.
const MaxTargets = 200

// Load reads the configuration. getenv is the process environment.
// Problems are returned together as an *InputError.
func Load(args []string, getenv func(string) string, usage io.Writer, version string) (Config, error) {
	var c Config
	c.Surface = surface(getenv)
	fs := flag.NewFlagSet("circleci-trigger", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	vals := map[string]*string{}
	bools := map[string]*bool{}
	for _, in := range inputs {
		if in.boolean {
			bools[in.name] = fs.Bool(in.name, in.def == "true", in.usage)
		} else {
			vals[in.name] = fs.String(in.name, in.def, in.usage)
		}
	}
	fs.BoolVar(&c.JSON, "json", false, "print the result as one JSON object on stdout")
	fs.BoolVar(&c.Version, "version", false, "print the version and exit")
	fs.Usage = func() { printUsage(usage, fs, version) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(usage)
			fs.Usage()
			return c, ErrHelp
		}
		return c, &InputError{[]error{fmt.Errorf("%v (see --help)", err)}}
	}
	if fs.NArg() > 0 {
		return c, &InputError{[]error{fmt.Errorf("unexpected argument %q: every input is a --flag (see --help)", fs.Arg(0))}}
	}
	if c.Version {
		return c, nil
	}

	// Fill every flag not given on the command line from the Action input,
	// then the environment. explicit records what the user set.
	action := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(io.Discard))
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	var errs []error
	for _, in := range inputs {
		if explicit[in.name] {
			continue
		}
		v := action.GetInput(in.name)
		if v == "" {
			v = strings.TrimSpace(getenv(EnvPrefix + strings.ToUpper(strings.ReplaceAll(in.name, "-", "_"))))
		}
		if v == "" {
			continue
		}
		explicit[in.name] = true
		if err := fs.Set(in.name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", in.name, v))
		}
	}

	c.Token = strings.TrimSpace(firstNonEmpty(action.GetInput("token"), getenv("CIRCLE_TOKEN"), getenv("CCI_TOKEN")))
	switch {
	case c.Token == "":
		errs = append(errs, errors.New("no token: set CIRCLE_TOKEN to a personal API token (project tokens do not work with API v2)"))
	case !validHeaderValue(c.Token):
		errs = append(errs, errors.New("the token contains characters that cannot be sent in a header: check how it was copied"))
	}

	host := firstNonEmpty(*vals["host"], getenv("CIRCLE_HOST"), getenv("CCI_HOST"), "https://circleci.com")
	h, err := normalizeHost(host)
	if err != nil {
		errs = append(errs, err)
	}
	c.Host = h

	c.Wait = *bools["wait"]
	o := &c.WaitOpts
	o.FailFast = *bools["fail-fast"]
	o.CancelOnExit = *bools["cancel-on-exit"]
	o.OnHold = *vals["on-hold"]
	switch o.OnHold {
	case wait.HoldWait, wait.HoldSucceed, wait.HoldFail:
	default:
		errs = append(errs, fmt.Errorf("on-hold: %q is not wait, succeed or fail", o.OnHold))
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"timeout", &o.Timeout}, {"poll-interval", &o.PollInterval}, {"max-poll-interval", &o.MaxPollInterval}} {
		v, err := ParseDuration(*vals[d.name])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.name, err))
		}
		*d.dst = v
	}
	// Polling faster than once a second is only for the simulator.
	if o.PollInterval > 0 && o.PollInterval < time.Second && !c.Loopback() {
		errs = append(errs, fmt.Errorf("poll-interval: %s is too fast for CircleCI; use 1s or more", o.PollInterval))
	}
	if o.MaxPollInterval > 0 && o.MaxPollInterval < o.PollInterval {
		errs = append(errs, fmt.Errorf("max-poll-interval %s is smaller than poll-interval %s", o.MaxPollInterval, o.PollInterval))
	}

	c.PipelineID = *vals["pipeline-id"]
	switch {
	case c.PipelineID != "":
		if !trigger.IsUUID(c.PipelineID) {
			errs = append(errs, fmt.Errorf("pipeline-id %q is not a pipeline id (a UUID)", c.PipelineID))
		}
		for _, n := range []string{"branch", "tag", "parameters", "definition-id", "targets"} {
			if explicit[n] {
				errs = append(errs, fmt.Errorf("%s cannot be used with pipeline-id, which waits for an existing pipeline", n))
			}
		}
		c.Wait = true
	case explicit["targets"]:
		for _, n := range []string{"project-slug", "branch", "tag", "definition-id"} {
			if explicit[n] {
				errs = append(errs, fmt.Errorf("%s cannot be used with targets: set it in each target", n))
			}
		}
		c.Fanout = true
		ts, err := parseTargets(*vals["targets"], *vals["parameters"])
		errs = append(errs, err)
		c.Targets = ts
	default:
		r, err := single(vals, explicit, getenv)
		errs = append(errs, err)
		c.Targets = []trigger.Request{r}
	}
	if err := errors.Join(errs...); err != nil {
		return c, &InputError{flatten(errs)}
	}
	return c, nil
}

// single builds the one request of a run without targets, with the defaults
// of the environment it runs in.
func single(vals map[string]*string, explicit map[string]bool, getenv func(string) string) (trigger.Request, error) {
	var errs []error
	params, err := trigger.ParseParameters(*vals["parameters"])
	errs = append(errs, err)
	cur := currentRepo(getenv)
	slugText := firstNonEmpty(*vals["project-slug"], cur.slug)
	r := trigger.Request{Branch: *vals["branch"], Tag: *vals["tag"], Parameters: params, DefinitionID: *vals["definition-id"]}
	if slugText == "" {
		errs = append(errs, errors.New("no project-slug: give one, like gh/acme/api (it defaults to the current repository only on GitHub and CircleCI)"))
		return r, errors.Join(errs...)
	}
	slug, err := trigger.ParseSlug(slugText)
	if err != nil {
		return r, errors.Join(append(errs, err)...)
	}
	r.Slug = slug
	if !explicit["branch"] && !explicit["tag"] && cur.slug != "" && sameProject(slugText, cur.slug) {
		r.Branch, r.Tag = cur.branch, cur.tag
	}
	errs = append(errs, r.Validate())
	return r, errors.Join(errs...)
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
func parseTargets(v, topParams string) ([]trigger.Request, error) {
	text := strings.TrimSpace(v)
	if !strings.HasPrefix(text, "[") {
		b, err := os.ReadFile(text)
		if err != nil {
			return nil, fmt.Errorf("targets: not a JSON array and not a readable file: %v", err)
		}
		text = string(b)
	}
	base, err := trigger.ParseParameters(topParams)
	if err != nil {
		return nil, err
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
	slug, err := trigger.ParseSlug(t.Slug)
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

// InputError is bad input: nothing was sent. Each error is one line.
type InputError struct{ Errs []error }

func (e *InputError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// flatten splits joined errors into their lines.
func flatten(errs []error) []error {
	var out []error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			out = append(out, flatten(j.Unwrap())...)
			continue
		}
		out = append(out, err)
	}
	return out
}

var secondsRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

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

func surface(getenv func(string) string) string {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return GitHub
	case getenv("CIRCLECI") == "true":
		return CircleCI
	}
	return CLI
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
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
