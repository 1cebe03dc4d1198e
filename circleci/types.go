package circleci

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tidwall/gjson"
)

// Pipeline states ([spec] Pipeline.state).
const (
	StateCreated      = "created"
	StateErrored      = "errored"
	StateSetupPending = "setup-pending"
	StatePending      = "pending"
)

// Pipeline is the part of a pipeline object the tool uses. Created is also
// what a trigger returns (id, number, state, created_at).
type Pipeline struct {
	ID          string
	Number      int64
	ProjectSlug string
	State       string
	CreatedAt   time.Time
	Errors      []string // errors[].message, prefixed with their type
	Branch      string   // vcs.branch
	Tag         string   // vcs.tag
	TriggerType string   // trigger.type
	Actor       string   // trigger.actor.login
	// TriggerParameters is trigger_parameters, decoded: strings, int64
	// (float64 for other numbers), bools and nested objects; nil when the
	// answer had none.
	TriggerParameters map[string]any
	// AsOf is the server's clock when it answered (its Date header, whole
	// seconds); zero when it sent none. AsOf minus CreatedAt is the
	// pipeline's age, whatever the local clock says.
	AsOf time.Time
}

func (p *Pipeline) setAsOf(t time.Time) { p.AsOf = t }

// Final reports whether the pipeline's state can no longer change.
func (p Pipeline) Final() bool { return p.State == StateCreated || p.State == StateErrored }

// ProjectSlugOr returns the pipeline's project slug, or slug when the
// answer had none (a trigger's answer has none).
func (p Pipeline) ProjectSlugOr(slug string) string {
	if p.ProjectSlug != "" {
		return p.ProjectSlug
	}
	return slug
}

// workflowStatuses are the workflow statuses the API documents (its enum,
// and "queued", which the docs mention), each with whether it is final.
var workflowStatuses = map[string]bool{
	"success": true, "failed": true, "error": true, "canceled": true, "unauthorized": true, "not_run": true,
	"running": false, "failing": false, "on_hold": false, "queued": false,
}

// KnownStatus reports whether this version knows a workflow status.
func KnownStatus(status string) bool {
	_, ok := workflowStatuses[status]
	return ok
}

// Final reports whether a workflow with this status has ended: an unknown
// status has not.
func (w Workflow) Final() bool { return workflowStatuses[w.Status] }

// Workflow is one workflow of a pipeline.
type Workflow struct {
	ID             string
	Name           string
	Status         string
	Tag            string // "setup" for the setup workflow of dynamic config
	PipelineID     string
	PipelineNumber int64
	ProjectSlug    string
	CreatedAt      time.Time
	StoppedAt      time.Time // zero while it runs
	AsOf           time.Time // the server's clock when it answered, as for Pipeline
	// MaxAutoReruns is the workflow's max_auto_reruns (1 to 5; 0 without):
	// CircleCI reruns a run that ends failed from failed by itself, up to
	// this many times. AutoRerunNumber is N on the Nth automatic rerun.
	MaxAutoReruns, AutoRerunNumber int
}

func (w *Workflow) setAsOf(t time.Time) { w.AsOf = t }

// Job is one job of a workflow, used for reporting only.
type Job struct {
	ID           string
	Name         string
	Type         string // build or approval
	Status       string
	Number       int64 // 0 when the answer has none (approval jobs, in older answers)
	StartedAt    time.Time
	StoppedAt    time.Time
	Dependencies []string  // the ids of the jobs it waits for
	AsOf         time.Time // the server's clock when it answered, as for Pipeline
}

func (j *Job) setAsOf(t time.Time) { j.AsOf = t }

// errNotJSON is wrapped by parsers when a body is not JSON at all.
var errNotJSON = errors.New("not JSON")

func parseObject(body []byte) (gjson.Result, error) {
	if !gjson.ValidBytes(body) {
		return gjson.Result{}, fmt.Errorf("%w: %s", errNotJSON, snippet(body))
	}
	r := gjson.ParseBytes(body)
	if !r.IsObject() {
		return gjson.Result{}, fmt.Errorf("expected a JSON object, got %s", snippet(body))
	}
	return r, nil
}

// ParsePipeline reads a pipeline object, or the smaller object a trigger
// returns. id, number and state are required; everything else is optional.
func ParsePipeline(body []byte) (Pipeline, error) {
	r, err := parseObject(body)
	if err != nil {
		return Pipeline{}, err
	}
	return pipelineFrom(r)
}

func pipelineFrom(r gjson.Result) (Pipeline, error) {
	p := Pipeline{
		ID:                str(r, "id"),
		ProjectSlug:       str(r, "project_slug"),
		State:             str(r, "state"),
		Branch:            str(r, "vcs.branch"),
		Tag:               str(r, "vcs.tag"),
		TriggerType:       str(r, "trigger.type"),
		Actor:             str(r, "trigger.actor.login"),
		TriggerParameters: decodeObject(r.Get("trigger_parameters")),
	}
	num := r.Get("number")
	if p.ID == "" || num.Type != gjson.Number || p.State == "" {
		return Pipeline{}, errors.New("pipeline is missing id, number or state")
	}
	p.Number = num.Int()
	p.CreatedAt = parseTime(r.Get("created_at"))
	for _, e := range r.Get("errors").Array() {
		msg := str(e, "message")
		if t := str(e, "type"); t != "" {
			msg = t + ": " + msg
		}
		p.Errors = append(p.Errors, msg)
	}
	return p, nil
}

// decodeObject decodes a JSON object, keeping integers exact.
func decodeObject(r gjson.Result) map[string]any {
	if !r.IsObject() {
		return nil
	}
	out := map[string]any{}
	r.ForEach(func(k, v gjson.Result) bool {
		out[k.String()] = decodeValue(v)
		return true
	})
	return out
}

func decodeValue(v gjson.Result) any {
	switch {
	case v.Type == gjson.Number:
		if n, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
			return n
		}
		return v.Float()
	case v.IsObject():
		return decodeObject(v)
	case v.IsArray():
		var out []any
		for _, e := range v.Array() {
			out = append(out, decodeValue(e))
		}
		return out
	}
	return v.Value() // string, bool or nil
}

// page is one page of a paginated list.
type page struct {
	Items []gjson.Result
	Next  string // "" on the last page
}

// parsePage reads {"items": [...], "next_page_token": string|null}.
func parsePage(body []byte) (page, error) {
	r, err := parseObject(body)
	if err != nil {
		return page{}, err
	}
	items := r.Get("items")
	if !items.IsArray() {
		return page{}, errors.New(`list answer has no "items" array`)
	}
	return page{Items: items.Array(), Next: r.Get("next_page_token").String()}, nil
}

// parseWorkflow reads one workflow object; id, name and status are required.
func parseWorkflow(r gjson.Result) (Workflow, error) {
	w := Workflow{
		ID:              str(r, "id"),
		Name:            str(r, "name"),
		Status:          str(r, "status"),
		Tag:             str(r, "tag"),
		PipelineID:      str(r, "pipeline_id"),
		PipelineNumber:  r.Get("pipeline_number").Int(),
		ProjectSlug:     str(r, "project_slug"),
		CreatedAt:       parseTime(r.Get("created_at")),
		StoppedAt:       parseTime(r.Get("stopped_at")),
		MaxAutoReruns:   count(r.Get("max_auto_reruns")),
		AutoRerunNumber: count(r.Get("auto_rerun_number")),
	}
	if w.ID == "" || w.Name == "" || w.Status == "" {
		return Workflow{}, errors.New("workflow is missing id, name or status")
	}
	return w, nil
}

// count reads a small count (1 to 100) from an answer; anything else is 0.
func count(r gjson.Result) int {
	if r.Type != gjson.Number || r.Num < 1 || r.Num > 100 || r.Num != float64(int(r.Num)) {
		return 0
	}
	return int(r.Num)
}

// IsApproval tells an approval job, with or without a job number.
func (j Job) IsApproval() bool { return j.Type == "approval" }

// HasPage tells a job with a page, tests and artifacts of its own: one with
// a number that is no approval.
func (j Job) HasPage() bool { return j.Number != 0 && !j.IsApproval() }

// parseJob reads one job object; id, name and status are required.
func parseJob(r gjson.Result) (Job, error) {
	j := Job{
		ID:        str(r, "id"),
		Name:      str(r, "name"),
		Type:      str(r, "type"),
		Status:    str(r, "status"),
		Number:    r.Get("job_number").Int(),
		StartedAt: parseTime(r.Get("started_at")),
		StoppedAt: parseTime(r.Get("stopped_at")),
	}
	// dependencies lists the ids; requires (newer) maps them to the
	// statuses they must end with.
	for _, d := range r.Get("dependencies").Array() {
		if id := d.String(); id != "" {
			j.Dependencies = append(j.Dependencies, id)
		}
	}
	r.Get("requires").ForEach(func(id, _ gjson.Result) bool {
		if !slices.Contains(j.Dependencies, id.String()) {
			j.Dependencies = append(j.Dependencies, id.String())
		}
		return true
	})
	if j.ID == "" || j.Name == "" || j.Status == "" {
		return Job{}, errors.New("job is missing id, name or status")
	}
	return j, nil
}

// ParseMessage extracts the human message from an answer body: {"message"},
// {"error"}, or plain text (CircleCI sends "Rate limited." as text).
func ParseMessage(body []byte) string {
	if gjson.ValidBytes(body) {
		r := gjson.ParseBytes(body)
		for _, k := range []string{"message", "error"} {
			if m := r.Get(k); m.Type == gjson.String && m.Str != "" {
				return oneLine(m.Str, 300)
			}
		}
	}
	if looksLikeHTML(body) {
		return ""
	}
	return oneLine(string(body), 300)
}

func looksLikeHTML(body []byte) bool {
	s := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 64)])))
	return strings.HasPrefix(s, "<!doctype") || strings.HasPrefix(s, "<html") || strings.HasPrefix(s, "<")
}

func parseTime(r gjson.Result) time.Time {
	if r.Type != gjson.String {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, r.Str)
	if err != nil {
		return time.Time{}
	}
	return t
}

// snippet shows the start of a body that could not be read, on one line.
func snippet(body []byte) string {
	if len(body) == 0 {
		return "an empty body"
	}
	if looksLikeHTML(body) {
		return "an HTML page"
	}
	return fmt.Sprintf("%q", oneLine(string(body), 60))
}

// str reads a string from an answer as data that is safe to show: valid
// UTF-8, with control characters (newlines included) as blanks, so that no
// text from the server can start a line of its own in a log, an output or
// a job summary.
func str(r gjson.Result, path string) string { return clean(r.Get(path).String()) }

func clean(s string) string {
	return strings.Map(func(c rune) rune {
		if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' {
			return ' '
		}
		return c
	}, s) // strings.Map turns each invalid byte into U+FFFD, as encoding/json does
}

func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(clean(s)), " ")
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
