package report

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/fanout"
)

// Gantt is a Mermaid gantt chart of the downstream on one time axis: for
// one pipeline, a section per workflow with the workflow's bar (and those
// of its earlier attempts) and a bar per job; for a fan-out, one bar per
// target. Failed ones are marked crit. Names from the server are reduced
// to characters that cannot break the chart. "" when nothing has times.
func Gantt(outs []fanout.Outcome, fanout bool) string {
	c := &chart{}
	if fanout {
		c.section("targets")
		for _, o := range outs {
			if o.Wait == nil || o.Pipeline.CreatedAt.IsZero() {
				continue
			}
			end := o.Pipeline.CreatedAt
			for _, w := range o.Wait.Workflows {
				end = later(end, w.CreatedAt, w.StoppedAt)
			}
			c.bar("target "+o.Label, crit(o.Code != 0), o.Pipeline.CreatedAt, end)
		}
		return c.String()
	}
	for _, o := range outs {
		if o.Wait == nil {
			continue
		}
		for _, w := range o.Wait.Workflows {
			if w.CreatedAt.IsZero() {
				continue
			}
			c.section(w.Name)
			as := o.Wait.Attempts
			for i, a := range as[:max(len(as)-1, 0)] {
				for _, aw := range a.Workflows {
					if aw.Name == w.Name && aw.ID != w.ID && !aw.CreatedAt.IsZero() {
						c.bar(fmt.Sprintf("attempt %d", i+1), workflowTag(aw.Status), aw.CreatedAt, aw.StoppedAt)
					}
				}
			}
			c.bar("workflow "+w.Name, workflowTag(w.Status), w.CreatedAt, w.StoppedAt)
			jobs, ok := o.Details.Jobs[w.ID]
			if !ok {
				jobs = o.Wait.Jobs[w.ID]
			}
			for _, j := range jobs {
				start, end := j.StartedAt, j.StoppedAt
				if start.IsZero() { // approval jobs, jobs that never ran
					start, end = w.CreatedAt, w.CreatedAt
				}
				c.bar("job "+j.Name, jobTag(j), start, end)
			}
		}
	}
	return c.String()
}

func crit(b bool) string {
	if b {
		return "crit"
	}
	return "done"
}

func workflowTag(status string) string {
	switch status {
	case "failed", "failing", "error", "unauthorized":
		return "crit"
	case "running", "on_hold", "queued":
		return "active"
	}
	return "done"
}

func jobTag(j circleci.Job) string {
	switch {
	case failedJobStatus(j.Status):
		return "crit"
	case j.StartedAt.IsZero():
		return "milestone"
	case j.StoppedAt.IsZero():
		return "active"
	}
	return "done"
}

func later(t time.Time, ts ...time.Time) time.Time {
	for _, u := range ts {
		if u.After(t) {
			t = u
		}
	}
	return t
}

type task struct {
	section, name, tag string
	start, end         time.Time
}

type chart struct {
	tasks []task
	cur   string
}

func (c *chart) section(name string) { c.cur = name }

// bar adds a task; a zero end (still running) is filled in by String.
func (c *chart) bar(name, tag string, start, end time.Time) {
	c.tasks = append(c.tasks, task{c.cur, name, tag, start, end})
}

const ganttTime = "2006-01-02T15:04:05"

func (c *chart) String() string {
	if len(c.tasks) == 0 {
		return ""
	}
	var last time.Time
	for _, t := range c.tasks {
		last = later(last, t.start, t.end)
	}
	var b strings.Builder
	b.WriteString("gantt\n  dateFormat YYYY-MM-DDTHH:mm:ss\n  axisFormat %H:%M:%S\n")
	section := ""
	for i, t := range c.tasks {
		if i == 0 || t.section != section {
			section = t.section
			fmt.Fprintf(&b, "  section %s\n", chartText(section))
		}
		end := t.end
		if end.IsZero() || end.Before(t.start) {
			end = last
		}
		fmt.Fprintf(&b, "  %s :%s, t%d, %s, %s\n", chartText(t.name), t.tag, i+1, t.start.UTC().Format(ganttTime), end.UTC().Format(ganttTime))
	}
	return b.String()
}

// chartText reduces a name to letters, digits, spaces and a few
// punctuation marks that mean nothing to Mermaid's gantt grammar (":", "#",
// ";", "%", newlines and backticks do), on one line of at most 60
// characters.
func chartText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), strings.ContainsRune(" _-./()[]@+,=", r):
			return r
		}
		return ' '
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "..."
	}
	if s == "" {
		s = "(unnamed)"
	}
	return s
}
