package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// Scenario is the simulator's world: who may call it, which projects exist,
// what their pipelines do over time, and which faults to inject. It is data,
// read from JSON, so users can rehearse their own fan-out offline.
type Scenario struct {
	// Tokens the API accepts (Circle-Token, basic auth, or Bearer). Empty:
	// DefaultToken only.
	Tokens []string `json:"tokens,omitempty"`
	// PageSize of every list; 0: 20.
	PageSize int `json:"page_size,omitempty"`
	// Latency is added to every API answer, like a distant server.
	Latency  Duration  `json:"latency,omitempty"`
	Projects []Project `json:"projects"`
	Faults   []Fault   `json:"faults,omitempty"`
}

// DefaultToken is accepted when a scenario names no token. It is obviously
// not a real CircleCI token.
const DefaultToken = "sim-token-not-a-secret"

// Project is one project and what each of its pipelines does.
type Project struct {
	Slug          string   `json:"slug"`
	DefaultBranch string   `json:"default_branch,omitempty"` // "main"
	Branches      []string `json:"branches,omitempty"`       // default: [default_branch]; "*" allows any
	Tags          []string `json:"tags,omitempty"`
	// Parameters declared in the project's config: name -> "string",
	// "boolean", "integer" or "enum".
	Parameters map[string]string `json:"parameters,omitempty"`
	// Undeclared says how a parameter that is not declared, or has the
	// wrong type, is answered: "errored" (201, then the pipeline errors, the
	// default) or "reject" (400). CircleCI's docs allow both readings.
	Undeclared string `json:"undeclared,omitempty"`
	// Definitions are the pipeline definition ids pipeline/run accepts.
	Definitions []string `json:"definitions,omitempty"`
	// NotCreated, when set, makes pipeline/run answer 200 with this message
	// and create nothing (e.g. "Ignoring pipeline due to CI skip in the commit").
	NotCreated string   `json:"not_created,omitempty"`
	Pipeline   Timeline `json:"pipeline"`
}

// Timeline is what a pipeline does after it is created.
type Timeline struct {
	// CreatedAfter is how long the pipeline stays pending (or setup-pending);
	// default 300ms.
	CreatedAfter Duration `json:"created_after,omitempty"`
	// Errors, when set, make the pipeline end errored with them, with no
	// workflow.
	Errors []PipelineError `json:"errors,omitempty"`
	// Workflows in the order they are created. Those tagged "setup" run
	// first, while the pipeline is in state setup; the others are
	// continuation workflows whose Appear counts from the setup's end.
	Workflows []WorkflowSpec `json:"workflows,omitempty"`
}

// PipelineError is one entry of a pipeline's errors[].
type PipelineError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// WorkflowSpec is one workflow's life.
type WorkflowSpec struct {
	Name string `json:"name"`
	Tag  string `json:"tag,omitempty"` // "setup" for dynamic config
	// Appear is when the workflow is listed, counted from the pipeline's
	// creation (or from the setup workflow's end, for continuation
	// workflows); default 200ms.
	Appear Duration `json:"appear,omitempty"`
	// Steps are the statuses it goes through, each at an offset from its
	// appearance. Shorthand: Duration and Status give running, then Status.
	Steps    []Step    `json:"steps,omitempty"`
	Duration Duration  `json:"duration,omitempty"`
	Status   string    `json:"status,omitempty"`
	Jobs     []JobSpec `json:"jobs,omitempty"`
}

// Step is one status change of a workflow.
type Step struct {
	At     Duration `json:"at"`
	Status string   `json:"status"`
}

// JobSpec is one job as listed once its workflow has finished or stopped.
type JobSpec struct {
	Name   string `json:"name"`
	Type   string `json:"type,omitempty"` // build (default) or approval
	Status string `json:"status"`
}

// Fault makes matching requests fail.
type Fault struct {
	Method string `json:"method,omitempty"` // empty: any
	// Path matches the path below /api/v2; '*' matches anything, '/' included.
	Path string `json:"path"`
	// Skip lets the first Skip matching requests through; Count then fails
	// that many (0: all following ones).
	Skip  int `json:"skip,omitempty"`
	Count int `json:"count,omitempty"`
	// From and Until limit the fault to a window of the simulator's time,
	// counted from its start.
	From  Duration `json:"from,omitempty"`
	Until Duration `json:"until,omitempty"`

	Status      int               `json:"status,omitempty"` // answer with this status …
	Body        string            `json:"body,omitempty"`   // … and this body (default: CircleCI's message for it)
	ContentType string            `json:"content_type,omitempty"`
	RetryAfter  string            `json:"retry_after,omitempty"` // Retry-After header, verbatim
	Headers     map[string]string `json:"headers,omitempty"`     // more headers, e.g. Location
	Delay       Duration          `json:"delay,omitempty"`       // wait this long first (slow answers)
	Drop        bool              `json:"drop,omitempty"`        // close the connection without an answer
	// AfterEffect handles the request normally (a pipeline is created, a
	// workflow canceled) and then fails: the ambiguous failure a client must
	// not answer by sending again blindly.
	AfterEffect bool `json:"after_effect,omitempty"`

	re *regexp.Regexp
}

// Duration is a time.Duration written as "1.5s" in JSON (or a number of seconds).
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s any
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	switch v := s.(type) {
	case float64:
		*d = Duration(v * float64(time.Second))
	case string:
		x, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*d = Duration(x)
	default:
		return fmt.Errorf("duration must be a string like \"1.5s\" or a number of seconds, got %s", b)
	}
	return nil
}

// Load reads a scenario file.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse reads a scenario from JSON, refusing unknown fields (a typo would
// otherwise silently change the rehearsal), and fills in defaults.
func Parse(b []byte) (*Scenario, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	return &s, s.normalize()
}

var workflowStatuses = map[string]bool{
	"success": true, "running": true, "not_run": true, "failed": true, "error": true,
	"failing": true, "on_hold": true, "canceled": true, "unauthorized": true, "queued": true,
}

func (s *Scenario) normalize() error {
	if len(s.Tokens) == 0 {
		s.Tokens = []string{DefaultToken}
	}
	if s.PageSize <= 0 {
		s.PageSize = 20
	}
	var errs []error
	for i := range s.Projects {
		p := &s.Projects[i]
		if strings.Count(p.Slug, "/") != 2 {
			errs = append(errs, fmt.Errorf("projects[%d]: slug %q is not vcs/org/repo", i, p.Slug))
		}
		if p.DefaultBranch == "" {
			p.DefaultBranch = "main"
		}
		if len(p.Branches) == 0 {
			p.Branches = []string{p.DefaultBranch}
		}
		switch p.Undeclared {
		case "":
			p.Undeclared = "errored"
		case "errored", "reject":
		default:
			errs = append(errs, fmt.Errorf("projects[%d]: undeclared must be errored or reject", i))
		}
		if p.Pipeline.CreatedAfter == 0 {
			p.Pipeline.CreatedAfter = Duration(300 * time.Millisecond)
		}
		for j := range p.Pipeline.Workflows {
			w := &p.Pipeline.Workflows[j]
			if w.Name == "" {
				errs = append(errs, fmt.Errorf("projects[%d].workflows[%d]: no name", i, j))
			}
			if w.Appear == 0 {
				w.Appear = Duration(200 * time.Millisecond)
			}
			if len(w.Steps) == 0 {
				if w.Status == "" {
					w.Status = "success"
				}
				w.Steps = []Step{{At: 0, Status: "running"}, {At: w.Duration, Status: w.Status}}
			}
			for _, st := range w.Steps {
				if !workflowStatuses[st.Status] && !strings.HasPrefix(st.Status, "x-") {
					errs = append(errs, fmt.Errorf("projects[%d].workflows[%d]: unknown status %q (statuses made up on purpose start with x-)", i, j, st.Status))
				}
			}
		}
	}
	for i := range s.Faults {
		f := &s.Faults[i]
		f.re = glob(f.Path)
		if f.Status == 0 && !f.Drop && f.Delay == 0 {
			errs = append(errs, fmt.Errorf("faults[%d]: give a status, drop or delay", i))
		}
	}
	return errors.Join(errs...)
}
