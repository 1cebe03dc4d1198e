package circlecitest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// jobRef finds a job by its project and number.
type jobRef struct {
	wf *workflow
	i  int // index in wf.jobs
}

// addWorkflow gives wf its id, job ids and job numbers, and adds it to
// pipeline pl; s.mu is held.
func (s *Simulator) addWorkflow(pl *pipeline, wf *workflow) {
	wf.id, wf.p = s.id(pl.id, len(pl.workflows)), pl
	wf.scale = s.scale(wf.spec)
	if wf.spec.timedByJobs() {
		s.timeJobs(wf)
	}
	for k, j := range wf.jobs {
		wf.jobIDs = append(wf.jobIDs, s.id(wf.id, k))
		var n int64
		if j.Type != "approval" || !j.Unnumbered {
			s.jobNums[pl.slug]++
			n = s.jobNums[pl.slug]
			s.jobByNum[pl.slug+"/"+strconv.FormatInt(n, 10)] = jobRef{wf, len(wf.jobNumbers)}
		}
		wf.jobNumbers = append(wf.jobNumbers, n)
	}
	pl.workflows = append(pl.workflows, wf)
	s.wfByID[wf.id] = wf
}

// id is a new id: random, or with a scenario's Seed made from it and the
// parts, so that the same seed makes the same ids.
func (s *Simulator) id(parts ...any) string {
	if s.sc.Seed == 0 {
		return newID()
	}
	return uuid(sum16(append([]any{s.sc.Seed}, parts...)...))
}

// rerunWorkflow is POST /workflow/{id}/rerun: 202 {"workflow_id"}, a new
// workflow of the same name in the same pipeline, doing what the spec's
// Reruns say. Its checks of the body follow the spec's description
// (from_failed and jobs exclusive; sparse_tree and enable_ssh need jobs);
// the messages are synthetic.
func (s *Simulator) rerunWorkflow(w http.ResponseWriter, r *http.Request, wf *workflow, now time.Time) {
	body, problem := rerunBody(r)
	st, _ := s.status(wf, now)
	switch {
	case problem != "":
	case wf.spec.Tag == "setup":
		problem = "Rerunning a setup workflow is not supported." // synthetic
	case !terminal(st):
		problem = "Workflow is still running." // synthetic
	}
	names, unknown := wf.rerunJobs(body)
	if problem == "" && unknown != "" {
		problem = "Job " + unknown + " is not in this workflow." // synthetic
	}
	if problem != "" {
		writeJSON(w, 400, msg(problem))
		return
	}
	next := s.rerun(wf, names, now)
	next.manual = true
	writeJSON(w, 202, map[string]string{"workflow_id": next.id})
}

// rerunRequest is the body of POST /workflow/{id}/rerun.
type rerunRequest struct {
	EnableSSH  bool     `json:"enable_ssh"`
	FromFailed bool     `json:"from_failed"`
	Jobs       []string `json:"jobs"`
	SparseTree bool     `json:"sparse_tree"`
}

// rerunBody reads the body, or says why CircleCI would refuse it.
func rerunBody(r *http.Request) (rerunRequest, string) {
	var body rerunRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		return body, "Unexpected request body provided."
	}
	if (body.FromFailed && len(body.Jobs) > 0) || ((body.SparseTree || body.EnableSSH) && len(body.Jobs) == 0) {
		return body, "Unexpected request body provided."
	}
	return body, ""
}

// rerunJobs are the names of the jobs a rerun runs again (from_failed:
// those that did not succeed; jobs: those; neither: all), and the first
// job id of the body that the workflow does not have.
func (w *workflow) rerunJobs(body rerunRequest) (names []string, unknown string) {
	for i, j := range w.jobs {
		switch {
		case body.FromFailed:
			if j.Type != "approval" && j.Status != "success" {
				names = append(names, j.Name)
			}
		case len(body.Jobs) > 0:
			if slices.Contains(body.Jobs, w.jobIDs[i]) {
				names = append(names, j.Name)
			}
		default:
			names = append(names, j.Name)
		}
	}
	for _, id := range body.Jobs {
		if !slices.Contains(w.jobIDs, id) {
			return names, id
		}
	}
	return names, ""
}

// rerun makes the new workflow of a rerun of wf that runs the named jobs;
// s.mu is held.
func (s *Simulator) rerun(wf *workflow, names []string, now time.Time) *workflow {
	first := wf.line()
	spec := first.spec
	if n := len(first.spec.Reruns); n > 0 {
		spec = &first.spec.Reruns[min(first.reruns, n-1)]
	}
	first.reruns++
	next := &workflow{spec: spec, first: first, rerunAt: now}
	final := spec.Steps[len(spec.Steps)-1].Status
	for _, name := range names {
		i := slices.IndexFunc(spec.Jobs, func(j JobSpec) bool { return j.Name == name })
		if i >= 0 {
			next.jobs = append(next.jobs, spec.Jobs[i])
			continue
		}
		j := wf.jobs[slices.IndexFunc(wf.jobs, func(j JobSpec) bool { return j.Name == name })]
		if final == "success" {
			j.Status, j.Tests = "success", nil
		}
		next.jobs = append(next.jobs, j)
	}
	s.addWorkflow(wf.p, next)
	return next
}

// owed tells that w failed at now and CircleCI owes it an automatic rerun:
// its line has max_auto_reruns left, and it is no manual rerun.
func (s *Simulator) owed(w *workflow, now time.Time) bool {
	if w.manual || w.autoNumber >= w.line().spec.MaxAutoReruns {
		return false
	}
	st, _ := s.status(w, now)
	return st == "failed"
}

// rerunDue tells that CircleCI will rerun w by itself and has not yet, at
// now: it is owed a rerun, CircleCI does not decline it, and the rerun is
// not listed yet.
func (s *Simulator) rerunDue(w *workflow, now time.Time) bool {
	if !s.owed(w, now) || w.line().spec.DeclineAutoReruns {
		return false
	}
	if w.autoNext == nil {
		return true
	}
	_, listed := s.appearAt(w.autoNext, now)
	return !listed
}

// line is the first run of w's line of reruns: w itself, or the workflow
// its rerun reruns.
func (w *workflow) line() *workflow {
	if w.first != nil {
		return w.first
	}
	return w
}

// autoReruns makes the automatic reruns of p's workflows due by now, as
// CircleCI does when a workflow with max_auto_reruns fails: a rerun from
// failed, listed AutoRerunDelay after the failure, the Nth with
// auto_rerun_number N. Manual reruns get none. A rerun's times come from
// the timeline, not from when a request happens to see it, so the same
// timeline lists the same reruns whenever it is looked at. s.mu is held.
func (s *Simulator) autoReruns(p *pipeline, now time.Time) {
	for i := 0; i < len(p.workflows); i++ { // reruns are appended: they get their turn
		w := p.workflows[i]
		spec := w.line().spec
		if w.autoDone || !s.owed(w, now) {
			continue
		}
		_, stopped := s.status(w, now)
		at := stopped.Add(spec.AutoRerunDelay.D())
		if now.Before(at) {
			continue
		}
		w.autoDone = true
		if spec.DeclineAutoReruns {
			continue
		}
		names, _ := w.rerunJobs(rerunRequest{FromFailed: true})
		w.autoNext = s.rerun(w, names, at)
		w.autoNext.autoNumber = w.autoNumber + 1
	}
}

// onJob wraps handlers of /project/{slug}/{job-number}/…: 404 for a job
// not known (or whose workflow is not listed yet).
func (s *Simulator) onJob(h func(http.ResponseWriter, *http.Request, *workflow, int, bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.project(slugOf(r))
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.clk.Now()
		var ref jobRef
		ok := p != nil
		if ok {
			ref, ok = s.jobByNum[p.Slug+"/"+r.PathValue("number")]
		}
		if ok {
			_, ok = s.appearAt(ref.wf, now)
		}
		if !ok {
			writeJSON(w, 404, msg("Job not found")) // synthetic
			return
		}
		st, _ := s.status(ref.wf, now)
		h(w, r, ref.wf, ref.i, terminal(st) || st == "failing")
	}
}

// listTests serves a job's test results once its workflow has stopped (or
// is failing): before, none.
func (s *Simulator) listTests(w http.ResponseWriter, r *http.Request, wf *workflow, i int, done bool) {
	var items []any
	for _, t := range wf.jobs[i].Tests {
		if !done {
			break
		}
		if t.Result == "" {
			t.Result = "success"
		}
		if t.Source == "" {
			t.Source = "junit"
		}
		items = append(items, map[string]any{"name": t.Name, "classname": t.Classname, "file": t.File, "result": t.Result,
			"message": t.Message, "run_time": t.RunTime, "source": t.Source})
	}
	s.page(w, r, "tests"+wf.jobIDs[i], items)
}

// listArtifacts serves a job's artifacts once its workflow has stopped.
func (s *Simulator) listArtifacts(w http.ResponseWriter, r *http.Request, wf *workflow, i int, done bool) {
	var items []any
	for _, a := range wf.jobs[i].Artifacts {
		if !done {
			break
		}
		items = append(items, map[string]any{"path": a.Path, "node_index": a.NodeIndex,
			"url": "https://output.circle-artifacts.com/output/job/" + wf.jobIDs[i] + "/artifacts/" + strconv.FormatInt(a.NodeIndex, 10) + "/" + a.Path})
	}
	s.page(w, r, "artifacts"+wf.jobIDs[i], items)
}

// timeJobs draws how long each job of a workflow timed by its jobs runs
// this time, and when it starts: once the jobs it requires have ended (a
// required job the run does not have, as in a rerun of some jobs, counts
// as ended). A job that requires one that failed does not run: it is
// not_run once that one ends. The workflow is failing from its first failed
// job's end while others run, and ends with its last job, failed if a job
// failed. s.mu is held.
func (s *Simulator) timeJobs(wf *workflow) {
	ends := map[string]time.Duration{}
	failed := map[string]bool{}
	var end time.Duration
	firstFail := time.Duration(-1)
	for _, j := range wf.jobs {
		start, skip := time.Duration(0), false
		for _, r := range j.Requires {
			start = max(start, ends[r])
			skip = skip || failed[r]
		}
		d := time.Duration(float64(j.Duration.D()) * s.scale(wf.spec))
		if skip {
			d = 0
		}
		wf.jobStart, wf.jobEnd, wf.jobSkipped = append(wf.jobStart, start), append(wf.jobEnd, start+d), append(wf.jobSkipped, skip)
		ends[j.Name], failed[j.Name] = start+d, skip || j.Status == "failed"
		end = max(end, start+d)
		if j.Status == "failed" && !skip && (firstFail < 0 || start+d < firstFail) {
			firstFail = start + d
		}
	}
	final := wf.spec.Steps[len(wf.spec.Steps)-1].Status
	wf.steps = []Step{{Status: "running"}}
	if firstFail >= 0 {
		final = "failed"
		if firstFail < end {
			wf.steps = append(wf.steps, Step{At: Duration(firstFail), Status: "failing"})
		}
	}
	wf.steps = append(wf.steps, Step{At: Duration(end), Status: final})
}
