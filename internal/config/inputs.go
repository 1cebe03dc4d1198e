package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/exit"
	"github.com/circleci-trigger/circleci-trigger/trigger"
)

// inputs are the flags, bound to typed fields. Every input is a flag, so
// --help shows all of them; fill completes those not given on the command
// line from the Action's inputs and the environment.
type inputs struct {
	surface                                            Surface
	projectSlug, branch, tag, parameters, definitionID string
	host, pipelineID, targets, onHold, shard           string
	concurrency                                        int
	wait, failFast, cancelOnExit, json, version        bool
	timeout, pollInterval, maxPollInterval             duration
	params                                             paramList
	ghaParams                                          string // auto, true or false
	ghaMeta                                            string
	retryFailed                                        count
	rerunWorkflow, jobs                                string
	artifacts                                          bool
}

// flagSet binds the inputs, in the order --help shows them.
func (in *inputs) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("circleci-trigger", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&in.projectSlug, "project-slug", "", "project to trigger: gh/org/repo, bb/org/repo or circleci/<org-id>/<project-id> (default: the current repository)")
	fs.StringVar(&in.branch, "branch", "", "branch to build, e.g. main or pull/123/head (default: the current branch for the current repository, else the project's default)")
	fs.StringVar(&in.tag, "tag", "", "tag to build, instead of a branch")
	fs.StringVar(&in.parameters, "parameters", "", `pipeline parameters as a JSON object, e.g. '{"deploy": true, "env": "prod"}'`)
	fs.Var(&in.params, "param", "one pipeline parameter, key=value, repeatable; the value keeps its JSON type (true, 3, \"3\"), merged over parameters")
	fs.StringVar(&in.definitionID, "definition-id", "", "pipeline definition id: use the pipeline/run endpoint (required for circleci/ slugs)")
	fs.StringVar(&in.host, "host", "", "CircleCI host, for CircleCI server (default: $CIRCLE_HOST, $CCI_HOST, else https://circleci.com)")
	fs.BoolVar(&in.wait, "wait", false, "wait for the pipeline's workflows and exit with their status")
	fs.StringVar(&in.pipelineID, "pipeline-id", "", "wait for this existing pipeline instead of triggering one")
	fs.Var(&in.timeout, "timeout", "longest wait: a Go duration (90s, 1h) or plain seconds (default 30m)")
	fs.Var(&in.pollInterval, "poll-interval", "first and smallest wait between polls (default 2s)")
	fs.Var(&in.maxPollInterval, "max-poll-interval", "largest wait between polls (default 30s)")
	fs.StringVar(&in.onHold, "on-hold", "wait", "what a workflow on hold (waiting for approval) means: wait, succeed or fail")
	fs.BoolVar(&in.failFast, "fail-fast", false, "stop as soon as any workflow is failing or failed")
	fs.BoolVar(&in.cancelOnExit, "cancel-on-exit", false, "on timeout or interruption, cancel the downstream workflows still running")
	fs.StringVar(&in.targets, "targets", "", "fan-out: a JSON array of {project-slug, branch, tag, parameters, definition-id}, or a file holding one")
	fs.Var(&in.retryFailed, "retry-failed", "when the wait ends with failed workflows, rerun them from failed and wait again, up to this many times (0 to 10)")
	fs.StringVar(&in.rerunWorkflow, "rerun-workflow", "", "rerun this workflow instead of triggering: its id, or its name in the newest pipeline of project-slug on branch")
	fs.StringVar(&in.jobs, "jobs", "", "with rerun-workflow: comma-separated names of the jobs to rerun, or failed (default: the whole workflow)")
	fs.BoolVar(&in.artifacts, "artifacts", false, "after the wait, list the artifacts of the downstream's jobs (the artifacts output)")
	fs.IntVar(&in.concurrency, "concurrency", 50, "fan-out: how many targets are triggered and polled at once (and connections kept open)")
	fs.StringVar(&in.shard, "shard", "", "fan-out: i/n takes share i of n (counting from 0, like CIRCLE_NODE_INDEX): targets i, i+n, i+2n, ... (default: CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL when set, else all)")
	fs.StringVar(&in.ghaParams, "gha-parameters", "auto", "GitHub Action: send the GHA_* parameters CircleCI's official action sends: auto (when configured its way), true or false")
	fs.BoolVar(&in.json, "json", false, "print the result as one JSON object on stdout")
	fs.BoolVar(&in.version, "version", false, "print the version and exit")
	return fs
}

// duration is a flag holding a ParseDuration value. A bad value is kept
// with its error, reported with every other problem rather than first.
type duration struct {
	v   time.Duration // zero when not set
	err error
}

func (d *duration) String() string { return d.v.String() }

func (d *duration) Set(s string) error {
	d.v, d.err = ParseDuration(s)
	return nil
}

// get returns the value, or def when not set.
func (d duration) get(name string, def time.Duration) (time.Duration, error) {
	switch {
	case d.err != nil:
		return def, fmt.Errorf("%s: %w", name, d.err)
	case d.v == 0:
		return def, nil
	}
	return d.v, nil
}

// count is a flag holding a small non-negative integer; a bad value is
// kept with its error, like duration.
type count struct {
	v   int
	err error
}

func (c *count) String() string { return strconv.Itoa(c.v) }

func (c *count) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil:
		c.err = fmt.Errorf("%q is not a whole number", s)
	case n < 0 || n > MaxRetries:
		c.err = fmt.Errorf("%d is not between 0 and %d", n, MaxRetries)
	default:
		c.v, c.err = n, nil
	}
	return nil
}

// MaxRetries bounds retry-failed: CircleCI allows 100 reruns of a
// workflow, but a downstream that fails ten times is not flaky.
const MaxRetries = 10

// paramList collects --param key=value.
type paramList trigger.Parameters

func (p *paramList) String() string { return "" }

func (p *paramList) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("not key=value")
	}
	val, err := ParseParamValue(v)
	if err != nil {
		return fmt.Errorf("%s: %w", k, err)
	}
	if *p == nil {
		*p = paramList{}
	}
	(*p)[k] = val
	return nil
}

// ParseParamValue reads the value of --param: JSON true, false, an integer
// or a quoted string keep their type; anything else is the text itself.
func ParseParamValue(v string) (any, error) {
	switch {
	case v == "true" || v == "false":
		return v == "true", nil
	case strings.HasPrefix(v, `"`):
		var s string
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return nil, fmt.Errorf("%s is not a JSON string", v)
		}
		return s, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, nil
	}
	return v, nil
}

// compat reads the names of CircleCI's official trigger action, so that
// its users move over by changing the uses: line: target-slug, -branch and
// -tag (inputs, or TARGET_* variables) stand for project-slug, branch and
// tag when those are not set, and GHA_Meta is kept for ghaParameters.
func (in *inputs) compat(set map[string]bool, getenv func(string) string) []error {
	look := lookup(getenv)
	for _, alias := range []struct {
		from, to string
		dst      *string
	}{{"target-slug", "project-slug", &in.projectSlug}, {"target-branch", "branch", &in.branch}, {"target-tag", "tag", &in.tag}} {
		v, _ := look(alias.from)
		if v == "" && in.surface == Action {
			v = strings.TrimSpace(getenv(strings.ReplaceAll(strings.ToUpper(alias.from), "-", "_")))
		}
		if v != "" && !set[alias.to] {
			*alias.dst, set[alias.to] = v, true
		}
	}
	in.ghaMeta, _ = look("GHA_Meta")
	switch in.ghaParams {
	case "auto", "true", "false":
		return nil
	}
	return []error{fmt.Errorf("gha-parameters: %q is not auto, true or false", in.ghaParams)}
}

// legacy reports whether a GitHub Action step is configured the way
// CircleCI's official action is: with one of its inputs or variables.
func (in *inputs) legacy(getenv func(string) string) bool {
	if in.surface != Action {
		return false
	}
	look := lookup(getenv)
	for _, n := range []string{"target-slug", "target-branch", "target-tag", "GHA_Meta"} {
		if v, _ := look(n); v != "" {
			return true
		}
	}
	for _, k := range []string{"TARGET_SLUG", "TARGET_BRANCH", "TARGET_TAG"} {
		if getenv(k) != "" {
			return true
		}
	}
	return getenv("CCI_TOKEN") != "" && firstNonEmpty(getenv("INPUT_TOKEN"), getenv("CIRCLE_TOKEN")) == ""
}

// ghaParameters are the parameters CircleCI's official action sends with
// every pipeline: GHA_Actor, GHA_Action, GHA_Event and, when given,
// GHA_Meta. They are sent only where its users expect them (a pipeline
// whose config does not declare them fails), and the user's own
// parameters win.
func (in *inputs) ghaParameters(getenv func(string) string) trigger.Parameters {
	if in.ghaParams == "false" || (in.ghaParams != "true" && !in.legacy(getenv)) {
		return nil
	}
	p := trigger.Parameters{
		"GHA_Actor": getenv("GITHUB_ACTOR"), "GHA_Action": getenv("GITHUB_ACTION"), "GHA_Event": getenv("GITHUB_EVENT_NAME"),
	}
	if in.ghaMeta != "" {
		p["GHA_Meta"] = in.ghaMeta
	}
	return p
}

// parseSlug is circleci.ParseSlug, with a hint for the most common slip.
func parseSlug(s string) (circleci.Slug, error) {
	slug, err := circleci.ParseSlug(s)
	if err != nil && strings.HasPrefix(s, "https://") {
		return slug, fmt.Errorf("%w (give the slug, not the project's URL)", err)
	}
	return slug, err
}

// usageGroups are the flags as --help shows them, with the placeholder of
// each value.
var usageGroups = []struct {
	title string
	flags [][2]string // name, placeholder ("" for a switch)
}{
	{"What to trigger", [][2]string{{"project-slug", "SLUG"}, {"branch", "NAME"}, {"tag", "NAME"}, {"parameters", "JSON"},
		{"param", "KEY=VALUE"}, {"definition-id", "UUID"}}},
	{"Waiting", [][2]string{{"wait", ""}, {"timeout", "DURATION"}, {"poll-interval", "DURATION"}, {"max-poll-interval", "DURATION"},
		{"on-hold", "wait|succeed|fail"}, {"fail-fast", ""}, {"cancel-on-exit", ""}, {"pipeline-id", "UUID"}}},
	{"Fan-out", [][2]string{{"targets", "JSON|FILE"}, {"concurrency", "N"}, {"shard", "I/N"}}},
	{"Retries, reruns and artifacts", [][2]string{{"retry-failed", "N"}, {"rerun-workflow", "ID|NAME"}, {"jobs", "NAMES|failed"}, {"artifacts", ""}}},
	{"Output and connection", [][2]string{{"json", ""}, {"host", "URL"}, {"gha-parameters", "auto|true|false"}, {"version", ""}}},
}

// usageExamples are --help's examples, each a comment and its commands (a
// test runs every command against the simulator).
var usageExamples = []struct {
	what string
	cmds []string
}{
	{"Trigger a branch, with typed pipeline parameters", []string{`circleci-trigger --project-slug gh/acme/api --branch main --param deploy=true --param replicas=3`}},
	{"Trigger and wait; the exit code is the pipeline's", []string{`circleci-trigger --project-slug gh/acme/api --wait --timeout 45m`}},
	{"Fan out to two projects; stop at the first failure, cancel what runs on exit", []string{`circleci-trigger --wait --fail-fast --cancel-on-exit --targets '[{"project-slug":"gh/acme/web"},{"project-slug":"gh/acme/docs","branch":"main"}]'`}},
	{"Keep the pipeline's URL (the last word of stdout), or the whole outcome as JSON", []string{
		`URL=$(circleci-trigger --project-slug gh/acme/api | awk '{print $NF}') && echo "$URL"`,
		`circleci-trigger --project-slug gh/acme/api --wait --json > result.json`,
	}},
}

// UsageExamples are the commands of --help's examples.
func UsageExamples() []string {
	var out []string
	for _, e := range usageExamples {
		out = append(out, e.cmds...)
	}
	return out
}

func printUsage(w io.Writer, fs *flag.FlagSet, version string) {
	fmt.Fprintf(w, `Trigger a CircleCI pipeline, optionally wait for its workflows, and exit with their status.

Usage:
  circleci-trigger [flags]
  circleci-trigger completion bash|zsh|fish

Examples:
`)
	for i, e := range usageExamples {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "  # %s\n", e.what)
		for _, c := range e.cmds {
			fmt.Fprintf(w, "  %s\n", c)
		}
	}
	for _, g := range usageGroups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, f := range g.flags {
			fl := fs.Lookup(f[0])
			name := "--" + f[0]
			if f[1] != "" {
				name += " " + f[1]
			}
			def := ""
			if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "0s" && fl.DefValue != "0" {
				def = fmt.Sprintf(" (default %s)", fl.DefValue)
			}
			fmt.Fprintf(w, "  %s\n      %s%s\n", name, fl.Usage, def)
		}
	}
	fmt.Fprintf(w, `
Environment:
  CIRCLE_TOKEN, CCI_TOKEN  a personal API token (never a flag: flags show in ps)
  CIRCLE_HOST, CCI_HOST    the host, as --host
  %sNAME    any flag, e.g. %sPROJECT_SLUG=gh/acme/api
  Every flag is also a GitHub Action input of the same name.

Exit codes:
%s
circleci-trigger %s · https://github.com/circleci-trigger/circleci-trigger
`, EnvPrefix, EnvPrefix, exit.Help(), version)
}

// FlagNames lists the flags in --help order, for shell completion.
func FlagNames() []string {
	var in inputs
	var names []string
	in.flagSet().VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// FlagUsage is a flag's one-line description.
func FlagUsage(name string) string {
	var in inputs
	if f := in.flagSet().Lookup(name); f != nil {
		return f.Usage
	}
	return ""
}

// IsBoolFlag reports whether the flag takes no value.
func IsBoolFlag(name string) bool {
	var in inputs
	f := in.flagSet().Lookup(name)
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
