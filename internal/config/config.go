// Package config turns the inputs of every surface into one Config: CLI
// flags, GitHub Action inputs (INPUT_*), environment variables, and
// defaults derived from the GitHub or CircleCI environment, in that order of
// precedence. It checks everything that can be checked before a request.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/circleci-trigger/circleci-trigger/rerun"
	"github.com/circleci-trigger/circleci-trigger/trigger"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// Surface is where the binary runs; it decides how results are shown.
type Surface int

// Surfaces.
const (
	CLI      Surface = iota // a shell, or a plain run: step on GitHub
	Action                  // the GitHub Action (action.yml says so)
	CircleCI                // a CircleCI job: the orb, or a step of one's own
)

func (s Surface) String() string { return [...]string{"cli", "action", "circleci"}[s] }

// Environment is what the process's environment tells before any input
// is read: where the binary runs, the secrets no output may show, and the
// GitHub files to write to.
type Environment struct {
	Surface Surface
	// Secrets are the values of TokenVars: the Action masks them, and
	// every output is redacted of them.
	Secrets []string
	// Outputs and Summary are GITHUB_OUTPUT and GITHUB_STEP_SUMMARY: the
	// files of a GitHub step's outputs and job summary ("" elsewhere).
	Outputs, Summary string
}

// ReadEnvironment reads the environment. Only action.yml sets
// CIRCLECI_TRIGGER_SURFACE=action: a run: step on GitHub is a plain CLI.
func ReadEnvironment(getenv func(string) string) Environment {
	e := Environment{Surface: CLI, Outputs: getenv("GITHUB_OUTPUT"), Summary: getenv("GITHUB_STEP_SUMMARY")}
	switch {
	case getenv(EnvPrefix+"SURFACE") == "action":
		e.Surface = Action
	case getenv("CIRCLECI") == "true":
		e.Surface = CircleCI
	}
	for _, k := range TokenVars {
		if t := strings.TrimSpace(getenv(k)); t != "" {
			e.Secrets = append(e.Secrets, t)
		}
	}
	return e
}

// EnvPrefix names the environment variable of each input, for the orb and
// shells: project-slug is CIRCLECI_TRIGGER_PROJECT_SLUG.
const EnvPrefix = "CIRCLECI_TRIGGER_"

// TokenVars are where the token is looked for, in order: the Action's token
// input, then the variables CircleCI's own tools read. Loading and masking
// both use this list.
var TokenVars = []string{"INPUT_TOKEN", "CIRCLE_TOKEN", "CCI_TOKEN"}

// Config is everything a run needs.
type Config struct {
	Environment
	Token   string // never printed
	Host    string // e.g. https://circleci.com, no trailing slash
	Targets []trigger.Request
	Fanout  bool   // targets came from the targets input
	Total   int    // targets before sharding
	Shard   string // "i/n" when sharded
	// Concurrency is how many targets are triggered and polled at once.
	Concurrency int
	PipelineID  string // wait for this pipeline instead of triggering
	Wait        bool
	WaitOpts    wait.Options
	JSON        bool
	Version     bool
	// RetryFailed reruns failed workflows from failed, up to this many times.
	RetryFailed int
	// Artifacts lists the downstream's artifacts after the wait.
	Artifacts bool
	// Rerun, when set, reruns a workflow instead of triggering.
	Rerun *rerun.Request
}

// APIBase is the API's base URL.
func (c Config) APIBase() string { return c.Host + "/api/v2" }

// ErrHelp is returned for -h and --help after the usage is printed.
var ErrHelp = flag.ErrHelp

// InputError is bad input: nothing was sent. Each error is one line.
type InputError struct{ Errs []error }

func (e *InputError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads the configuration in environment e. getenv is the process
// environment; usage receives --help. Problems are returned together as
// an *InputError.
func (e Environment) Load(args []string, getenv func(string) string, usage io.Writer, version string) (Config, error) {
	c := Config{Environment: e, JSON: jsonAsked(args, getenv)} // even when the flags cannot be read
	in := inputs{surface: e.Surface}
	fs := in.flagSet()
	if err := parseArgs(fs, args, usage, version); err != nil {
		return c, err
	}
	if c.Version = in.version; c.Version {
		return c, nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	errs := fill(fs, set, lookup(getenv))
	errs = append(errs, in.compat(set, getenv)...)
	errs = append(errs, c.common(&in, set, getenv)...)
	switch {
	case set["rerun-workflow"]:
		errs = append(errs, exclusive("rerun-workflow", "reruns a workflow instead of triggering", set, "targets", "pipeline-id", "parameters", "param", "tag", "definition-id"))
		var err error
		c.Rerun, err = in.rerun(set, getenv)
		errs = append(errs, err)
	case c.PipelineID != "":
		errs = append(errs, exclusive("pipeline-id", "waits for an existing pipeline", set, "branch", "tag", "parameters", "param", "definition-id", "targets"))
		if !trigger.IsUUID(c.PipelineID) {
			errs = append(errs, fmt.Errorf("pipeline-id %q is not a pipeline id (a UUID)", c.PipelineID))
		}
		c.Wait = true
	case set["targets"]:
		errs = append(errs, c.fanout(&in, set, getenv)...)
	default:
		r, err := in.single(set, getenv)
		errs = append(errs, err)
		c.Targets = []trigger.Request{r}
	}
	if flat := flatten(errs); len(flat) > 0 {
		return c, &InputError{flat}
	}
	return c, nil
}

// jsonAsked tells whether the run asks for --json, read without the
// other flags (which may not parse): on the command line, or from the
// environment.
func jsonAsked(args []string, getenv func(string) string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		name, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "json" && strings.HasPrefix(a, "-") {
			b, err := strconv.ParseBool(v)
			return !hasValue || (err == nil && b)
		}
	}
	v, _ := lookup(getenv)("json")
	b, _ := strconv.ParseBool(v)
	return b
}

// parseArgs parses the command line: --help prints the usage.
func parseArgs(fs *flag.FlagSet, args []string, usage io.Writer, version string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(usage, fs, version)
			return ErrHelp
		}
		return inputError(usageError(err))
	}
	if fs.NArg() > 0 {
		return inputError(fmt.Errorf("unexpected argument %q: every input is a --flag (see --help)", fs.Arg(0)))
	}
	return nil
}

// common reads the inputs of every kind of run: the token, the host, how
// to wait, and how many targets at once.
func (c *Config) common(in *inputs, set map[string]bool, getenv func(string) string) []error {
	var errs []error
	c.Token = firstNonEmpty(values(getenv, TokenVars)...)
	errs = append(errs, checkToken(c.Token, c.Surface))
	h, err := normalizeHost(firstNonEmpty(in.host, getenv("CIRCLE_HOST"), getenv("CCI_HOST"), "https://circleci.com"))
	errs = append(errs, err)
	c.Host, c.JSON, c.Wait = h, in.json, in.wait
	c.WaitOpts, err = in.waitOptions()
	errs = append(errs, err)
	c.Concurrency = in.concurrency
	if c.Concurrency < 1 || c.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf("concurrency: %d is not between 1 and %d", c.Concurrency, MaxConcurrency))
	}
	if set["shard"] && !set["targets"] {
		errs = append(errs, errors.New("shard needs targets: it takes a share of them"))
	}
	c.PipelineID = in.pipelineID
	c.RetryFailed, c.Artifacts = in.retryFailed.v, in.artifacts
	if err := in.retryFailed.err; err != nil {
		errs = append(errs, fmt.Errorf("retry-failed: %w", err))
	}
	if set["jobs"] && !set["rerun-workflow"] {
		errs = append(errs, errors.New("jobs needs rerun-workflow: it names jobs of the workflow to rerun"))
	}
	return errs
}

// fanout reads targets and takes this node's share of them.
func (c *Config) fanout(in *inputs, set map[string]bool, getenv func(string) string) []error {
	errs := []error{exclusive("targets", "set it in each target instead", set, "project-slug", "branch", "tag", "definition-id")}
	c.Fanout = true
	base, err := in.baseParameters(getenv)
	if err == nil {
		c.Targets, err = parseTargets(in.targets, base)
	}
	errs = append(errs, err)
	c.Total = len(c.Targets)
	shard := in.shard
	if !set["shard"] && getenv("CIRCLE_NODE_TOTAL") != "" && getenv("CIRCLE_NODE_TOTAL") != "1" {
		shard = getenv("CIRCLE_NODE_INDEX") + "/" + getenv("CIRCLE_NODE_TOTAL")
	}
	if shard != "" {
		i, n, err := parseShard(shard)
		errs = append(errs, err)
		if err == nil && n > 1 {
			c.Targets, c.Shard = Shard(c.Targets, i, n), fmt.Sprintf("%d/%d", i, n)
		}
	}
	return errs
}

func inputError(err error) error { return &InputError{[]error{err}} }

// usageError shortens the flag package's errors to one line that says
// what to fix.
func usageError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Errorf("unknown flag --%s (see --help)", strings.TrimLeft(name, "-"))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Errorf("--%s needs a value (see --help)", strings.TrimLeft(name, "-"))
	}
	// The flag package's own words, spelled as the user typed the flag:
	// "invalid value "x" for flag -name: why".
	if m := invalidValue.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("--%s %s: %s (see --help)", m[2], m[1], m[3])
	}
	return fmt.Errorf("%s (see --help)", msg)
}

var invalidValue = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-+([\w-]+): (?:parse error)?(.*)$`)

// lookup reads an input that was not given as a flag: the Action's input
// (INPUT_PROJECT-SLUG as the runner names it, or INPUT_PROJECT_SLUG as
// action.yml passes it), then CIRCLECI_TRIGGER_PROJECT_SLUG. Empty is unset.
func lookup(getenv func(string) string) func(name string) (string, string) {
	return func(name string) (string, string) {
		upper := strings.ToUpper(name)
		under := strings.ReplaceAll(upper, "-", "_")
		for _, k := range []string{"INPUT_" + upper, "INPUT_" + under, EnvPrefix + under} {
			if v := strings.TrimSpace(getenv(k)); v != "" {
				return v, k
			}
		}
		return "", ""
	}
}

// cliOnly are the flags that no Action input or variable sets:
// CIRCLECI_TRIGGER_VERSION is the orb's choice of release, not --version.
var cliOnly = map[string]bool{"version": true, "param": true}

// fill sets every flag not given on the command line from lookup, and
// records it as set.
func fill(fs *flag.FlagSet, set map[string]bool, look func(string) (string, string)) []error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || cliOnly[f.Name] {
			return
		}
		v, from := look(f.Name)
		if v == "" {
			return
		}
		set[f.Name] = true
		if err := fs.Set(f.Name, v); err != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				err = fmt.Errorf("%q is not true or false", v)
			}
			errs = append(errs, fmt.Errorf("%s (from %s): %w", f.Name, from, err))
		}
	})
	return errs
}

func checkToken(token string, s Surface) error {
	switch {
	case token == "" && s == Action:
		return errors.New("no token: set the token input to a personal API token, e.g. token: ${{ secrets.CIRCLE_TOKEN }} (secrets are not passed to workflows triggered from forks)")
	case token == "":
		return errors.New("no token: set CIRCLE_TOKEN to a personal API token (project tokens do not work with API v2)")
	case !validHeaderValue(token):
		return errors.New("the token contains characters that cannot be sent in a header: check how it was copied")
	}
	return nil
}

// exclusive refuses inputs that make no sense together with name.
func exclusive(name, why string, set map[string]bool, others ...string) error {
	var errs []error
	for _, o := range others {
		if set[o] {
			errs = append(errs, fmt.Errorf("%s cannot be used with %s, which %s", o, name, why))
		}
	}
	return errors.Join(errs...)
}

func (in *inputs) waitOptions() (wait.Options, error) {
	o := wait.Options{OnHold: in.onHold, FailFast: in.failFast, CancelOnExit: in.cancelOnExit}
	var errs []error
	for _, d := range []struct {
		name string
		in   duration
		def  time.Duration
		dst  *time.Duration
	}{
		{"timeout", in.timeout, 30 * time.Minute, &o.Timeout},
		{"poll-interval", in.pollInterval, 2 * time.Second, &o.PollInterval},
		{"max-poll-interval", in.maxPollInterval, 30 * time.Second, &o.MaxPollInterval},
	} {
		var err error
		*d.dst, err = d.in.get(d.name, d.def)
		errs = append(errs, err)
	}
	switch o.OnHold {
	case "":
		o.OnHold = wait.HoldWait
	case wait.HoldWait, wait.HoldSucceed, wait.HoldFail:
	default:
		errs = append(errs, fmt.Errorf("on-hold: %q is not wait, succeed or fail", o.OnHold))
	}
	if o.PollInterval < MinPollInterval {
		errs = append(errs, fmt.Errorf("poll-interval: %s is too fast; use %s or more", o.PollInterval, MinPollInterval))
	}
	if o.MaxPollInterval < o.PollInterval {
		errs = append(errs, fmt.Errorf("max-poll-interval %s is smaller than poll-interval %s", o.MaxPollInterval, o.PollInterval))
	}
	return o, errors.Join(errs...)
}

// MinPollInterval keeps polling gentle on the API.
const MinPollInterval = time.Second

// single builds the one request of a run without targets, with the defaults
// of the environment it runs in.
func (in *inputs) single(set map[string]bool, getenv func(string) string) (trigger.Request, error) {
	params, perr := in.baseParameters(getenv)
	cur := currentRepo(getenv)
	r := trigger.Request{Branch: in.branch, Tag: in.tag, Parameters: params, DefinitionID: in.definitionID}
	slugText := firstNonEmpty(in.projectSlug, cur.slug)
	if slugText == "" {
		// Every other problem is told too.
		return r, errors.Join(perr, errors.New("no project-slug: give one, like gh/acme/api (it defaults to the current repository only on GitHub and CircleCI)"), r.Validate())
	}
	slug, err := parseSlug(slugText)
	if err != nil {
		return r, errors.Join(perr, err, r.Validate())
	}
	r.Slug = slug
	switch {
	case set["branch"] || set["tag"]:
	case in.legacy(getenv):
		// The official action builds the ref of the workflow's run, in
		// whatever project it triggers.
		r.Branch, r.Tag = officialRef(getenv("GITHUB_REF"))
	case cur.slug != "":
		if c, err := parseSlug(cur.slug); err == nil && c.SameProject(slug) {
			r.Branch, r.Tag = cur.branch, cur.tag
		}
	}
	return r, errors.Join(perr, r.Validate())
}

// baseParameters are the parameters input with --param on top, and on
// top of both nothing: the GitHub Action's compatibility parameters go
// under them.
func (in *inputs) baseParameters(getenv func(string) string) (trigger.Parameters, error) {
	p, err := trigger.ParseParameters(in.parameters)
	if err != nil {
		return nil, err
	}
	return trigger.Merge(trigger.Merge(in.ghaParameters(getenv), p), trigger.Parameters(in.params)), nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func values(getenv func(string) string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = getenv(k)
	}
	return out
}

// flatten splits joined errors into their lines and drops nils.
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
