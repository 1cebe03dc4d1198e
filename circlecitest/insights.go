package circlecitest

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"
)

// Insights makes the simulator serve CircleCI's insights
// for it: each workflow of its timeline has Runs past runs on the default
// branch, their durations drawn around the workflow's duration with its
// Spread, as the project's later pipelines will draw theirs. Without it
// (or with Runs 0) insights know no run of the project: a new project.
type Insights struct {
	Runs int `json:"runs"`
}

// scale draws the duration factor of a new run of w; s.mu is held.
func (s *Simulator) scale(w *WorkflowSpec) float64 {
	if w.Spread <= 0 {
		return 1
	}
	if s.rng == nil {
		s.rng = rand.New(rand.NewPCG(uint64(s.sc.Seed), 0x9e3779b97f4a7c15))
	}
	return math.Exp(s.rng.NormFloat64() * w.Spread)
}

// history are the durations of the past runs of workflow w of project p,
// oldest first: the same draws for the same scenario.
func (s *Simulator) history(p *Project, w *WorkflowSpec) []time.Duration {
	ends, _ := s.pastRuns(p, w)
	return ends
}

// pastRuns are the past runs of workflow w of project p, oldest first:
// how long each took, and for a workflow timed by its jobs how long each
// of its jobs took (jobs[run][job]), drawn as its new runs are.
func (s *Simulator) pastRuns(p *Project, w *WorkflowSpec) (ends []time.Duration, jobs [][]time.Duration) {
	if p.Insights == nil || p.Insights.Runs <= 0 {
		return nil, nil
	}
	h := fnv.New64a()
	h.Write([]byte(p.Slug + "\x00" + w.Name))
	rng := rand.New(rand.NewPCG(uint64(s.sc.Seed), h.Sum64()))
	draw := func(d time.Duration) time.Duration {
		if w.Spread > 0 {
			return time.Duration(float64(d) * math.Exp(rng.NormFloat64()*w.Spread))
		}
		return d
	}
	end := w.Steps[len(w.Steps)-1].At.D()
	ends = make([]time.Duration, p.Insights.Runs)
	for i := range ends {
		if !w.timedByJobs() {
			ends[i] = draw(end)
			continue
		}
		done := map[string]time.Duration{}
		run := make([]time.Duration, len(w.Jobs))
		for k, j := range w.Jobs {
			start := time.Duration(0)
			for _, r := range j.Requires {
				start = max(start, done[r])
			}
			run[k] = draw(j.Duration.D())
			done[j.Name] = start + run[k]
			ends[i] = max(ends[i], done[j.Name])
		}
		jobs = append(jobs, run)
	}
	return ends, jobs
}

// insightsRefused answers an insights request the scenario refuses, as
// CircleCI server or a plan without insights would; it reports whether it
// did.
func (s *Simulator) insightsRefused(w http.ResponseWriter) bool {
	switch code := s.sc.InsightsStatus; {
	case code == 0:
		return false
	case code == 403:
		writeJSON(w, code, msg("Permission denied."))
	default:
		writeJSON(w, code, msg(defaultMessage(code)))
	}
	return true
}

// workflowMetrics is GET /insights/{project-slug}/workflows
// (getProjectWorkflowMetrics): the duration metrics of every workflow with
// a history. The branch filter is accepted; history is on every branch.
func (s *Simulator) workflowMetrics(w http.ResponseWriter, r *http.Request) {
	if s.insightsRefused(w) {
		return
	}
	p := s.project(slugOf(r))
	if p == nil {
		writeJSON(w, 404, msg("Project not found"))
		return
	}
	now := s.now()
	var items []any
	seen := map[string]bool{}
	for i := range p.Pipeline.Workflows {
		wf := &p.Pipeline.Workflows[i]
		runs := s.history(p, wf)
		if len(runs) == 0 || seen[wf.Name] {
			continue
		}
		seen[wf.Name] = true
		items = append(items, map[string]any{
			"name": wf.Name, "project_id": projectID(p.Slug),
			"window_start": now.Add(-90 * 24 * time.Hour).UTC().Format(time.RFC3339), "window_end": now.UTC().Format(time.RFC3339),
			"metrics": map[string]any{
				"total_runs": len(runs), "successful_runs": len(runs), "failed_runs": 0, "success_rate": 1.0,
				"mttr": 0, "total_credits_used": 10 * len(runs), "total_recoveries": 0, "throughput": float64(len(runs)) / 90,
				"duration_metrics": durationMetrics(runs),
			},
		})
	}
	s.page(w, r, "insights"+p.Slug, items)
}

// jobMetrics is GET /insights/{project-slug}/workflows/{name}/jobs
// (getProjectWorkflowJobMetrics): the duration metrics of each job of a
// workflow timed by its jobs.
func (s *Simulator) jobMetrics(w http.ResponseWriter, r *http.Request) {
	p, wf, _, now, ok := s.workflowHistory(w, r)
	if !ok {
		return
	}
	_, runs := s.pastRuns(p, wf)
	items := []any{}
	for k, j := range wf.Jobs {
		if len(runs) == 0 { // not timed by its jobs
			break
		}
		durations := make([]time.Duration, len(runs))
		for i, run := range runs {
			durations[i] = run[k]
		}
		items = append(items, map[string]any{
			"name":         j.Name,
			"window_start": now.Add(-90 * 24 * time.Hour).UTC().Format(time.RFC3339), "window_end": now.UTC().Format(time.RFC3339),
			"metrics": map[string]any{
				"total_runs": len(runs), "successful_runs": len(runs), "failed_runs": 0, "success_rate": 1.0,
				"total_credits_used": 10 * len(runs), "throughput": float64(len(runs)) / 90,
				"duration_metrics": durationMetrics(durations),
			},
		})
	}
	s.page(w, r, "jobs"+p.Slug+wf.Name, items)
}

// workflowHistory finds the workflow an insights request names and its
// runs, or answers why not.
func (s *Simulator) workflowHistory(w http.ResponseWriter, r *http.Request) (*Project, *WorkflowSpec, []time.Duration, time.Time, bool) {
	if s.insightsRefused(w) {
		return nil, nil, nil, time.Time{}, false
	}
	p, wf := s.insightsWorkflow(w, r)
	if wf == nil {
		return nil, nil, nil, time.Time{}, false
	}
	return p, wf, s.history(p, wf), s.now(), true
}

// workflowSummary is GET /insights/{project-slug}/workflows/{name}/summary.
func (s *Simulator) workflowSummary(w http.ResponseWriter, r *http.Request) {
	_, wf, runs, now, ok := s.workflowHistory(w, r)
	if !ok {
		return
	}
	writeJSON(w, 200, map[string]any{
		"metrics": map[string]any{
			"total_runs": len(runs), "successful_runs": len(runs), "failed_runs": 0, "success_rate": 1.0, "completed_runs": len(runs),
			"mttr": 0, "total_credits_used": 10 * len(runs), "throughput": float64(len(runs)) / 90,
			"window_start": now.Add(-90 * 24 * time.Hour).UTC().Format(time.RFC3339), "window_end": now.UTC().Format(time.RFC3339),
			"duration_metrics": durationMetrics(runs),
		},
		"trends": map[string]any{"total_runs": 0.0, "failed_runs": 0.0, "success_rate": 0.0, "p95_duration_secs": 0.0,
			"median_duration_secs": 0.0, "total_credits_used": 0.0, "mttr": 0.0, "throughput": 0.0},
		"workflow_names": []string{wf.Name},
	})
}

// workflowRuns is GET /insights/{project-slug}/workflows/{name}
// (getProjectWorkflowRuns): its recent runs, newest first.
func (s *Simulator) workflowRuns(w http.ResponseWriter, r *http.Request) {
	p, wf, runs, now, ok := s.workflowHistory(w, r)
	if !ok {
		return
	}
	var items []any
	for i := len(runs) - 1; i >= 0; i-- {
		stopped := now.Add(-time.Duration(len(runs)-i) * time.Hour)
		created := stopped.Add(-runs[i])
		items = append(items, map[string]any{
			"id": uuid(sum16(p.Slug, wf.Name, i)), "branch": p.DefaultBranch, "duration": int64(runs[i].Seconds()),
			"created_at": created.UTC().Format(time.RFC3339), "stopped_at": stopped.UTC().Format(time.RFC3339),
			"credits_used": 10, "status": "success", "is_approval": false,
		})
	}
	s.page(w, r, "runs"+p.Slug+wf.Name, items)
}

// insightsWorkflow finds the workflow an insights request names, or
// answers 404.
func (s *Simulator) insightsWorkflow(w http.ResponseWriter, r *http.Request) (*Project, *WorkflowSpec) {
	p := s.project(slugOf(r))
	if p == nil {
		writeJSON(w, 404, msg("Project not found"))
		return nil, nil
	}
	name := r.PathValue("name")
	for i := range p.Pipeline.Workflows {
		if wf := &p.Pipeline.Workflows[i]; wf.Name == name && p.Insights != nil && p.Insights.Runs > 0 { // it has a history
			return p, wf
		}
	}
	writeJSON(w, 404, msg("Workflow not found")) // synthetic
	return nil, nil
}

// durationMetrics are the duration_metrics of runs, in whole seconds.
func durationMetrics(runs []time.Duration) map[string]any {
	secs := make([]float64, len(runs))
	mean := 0.0
	for i, d := range runs {
		secs[i] = d.Seconds()
		mean += secs[i]
	}
	mean /= float64(len(secs))
	variance := 0.0
	for _, v := range secs {
		variance += (v - mean) * (v - mean)
	}
	slices.Sort(secs)
	q := func(p float64) int64 { return int64(math.Round(secs[int(math.Ceil(p*float64(len(secs))))-1])) }
	return map[string]any{"min": int64(math.Round(secs[0])), "max": int64(math.Round(secs[len(secs)-1])),
		"mean": int64(math.Round(mean)), "median": q(0.5), "p95": q(0.95),
		"standard_deviation": math.Sqrt(variance / float64(len(secs)))}
}

func projectID(slug string) string { return uuid(sum16(slug)) }

func sum16(parts ...any) [16]byte {
	h := fnv.New128a()
	for _, p := range parts {
		fmt.Fprint(h, p)
		h.Write([]byte{0})
	}
	return [16]byte(h.Sum(nil))
}
