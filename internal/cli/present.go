package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/config"
	"github.com/circleci-trigger/circleci-trigger/internal/exit"
	"github.com/circleci-trigger/circleci-trigger/internal/fanout"
	"github.com/circleci-trigger/circleci-trigger/internal/report"
	"github.com/sethvargo/go-githubactions"
)

// output is where each kind of text goes on a surface: results (the
// trigger line, the table, --json) on stdout; progress, warnings and errors
// on stderr, except in the Action, where the runner reads workflow
// commands from stdout. Everything written goes through redact, which takes
// out the token wherever a server echoed it; in the Action, lines that
// hold text from the server cannot pass for a workflow command.
type output struct {
	env          config.Environment
	results, log io.Writer
	stdout       io.Writer // results, or the JSON object with --json
	// commands writes the Action's own workflow commands (messages
	// escaped by go-githubactions); nil outside the Action.
	commands *githubactions.Action
	redact   func(string) string
	flush    []*lineWriter
	printer  *report.Printer
	urls     circleci.WebURLs
}

func newOutput(env config.Environment, stdout, stderr io.Writer) *output {
	o := &output{env: env, redact: redactor(env.Secrets)}
	if env.Surface == config.Action {
		// Mask the token before anything else is printed. This is the one
		// place the token is written, for the runner to read: only the
		// Action does it.
		mask := githubactions.New(githubactions.WithGetenv(noEnv), githubactions.WithWriter(stdout))
		for _, t := range env.Secrets {
			mask.AddMask(t)
		}
	}
	data := o.writer(stdout, o.redact)
	o.results, o.log = data, o.writer(stderr, o.redact)
	if env.Surface == config.Action {
		// A workflow name such as "::stop-commands::x" must not start a line
		// the runner reads as a command: a zero-width space goes first.
		data = o.writer(stdout, func(line string) string {
			if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
				line = "\u200b" + line
			}
			return o.redact(line)
		})
		o.results, o.log = data, data
		o.commands = githubactions.New(githubactions.WithGetenv(noEnv), githubactions.WithWriter(o.writer(stdout, o.redact)))
	}
	o.stdout = o.results
	return o
}

// noEnv keeps go-githubactions from reading the environment: config does.
func noEnv(string) string { return "" }

// configure sets the output up for a run: --json keeps stdout for the
// JSON object, and the printer shows progress.
func (o *output) configure(cfg config.Config) {
	if cfg.JSON {
		o.results = o.log
	}
	o.urls = circleci.NewWebURLs(cfg.Host)
	o.printer = &report.Printer{Log: o.log, Results: o.results, URLs: o.urls, Fanout: cfg.Fanout, OnHold: cfg.WaitOpts.OnHold}
	if o.commands != nil {
		o.printer.Warn = func(msg string) { o.commands.Warningf("%s", msg) }
	}
}

// summary tells whether a job summary is written: wherever GitHub gives a
// summary file, in the Action or in a run: step.
func (o *output) summary() bool { return o.env.Summary != "" }

// chart tells whether the summary has a chart of the jobs, which needs
// every job listed.
func (o *output) chart(cfg config.Config) bool { return o.summary() && cfg.Wait && !cfg.Fanout }

// begin and end frame the run: the shard it takes, and on GitHub a log group
// around the wait.
func (o *output) begin(cfg config.Config) {
	if cfg.Shard != "" {
		// More shards than targets leaves some with none: they succeed,
		// with status no-targets.
		fmt.Fprintf(o.log, "Shard %s: %d of %d targets\n", cfg.Shard, len(cfg.Targets), cfg.Total)
	}
	if o.commands != nil && cfg.Wait {
		o.commands.Group("Waiting for CircleCI")
	}
}

func (o *output) end(cfg config.Config) {
	if o.commands != nil && cfg.Wait {
		o.commands.EndGroup()
	}
}

// finish shows the outcomes: the table, the JSON object, the Action's
// outputs and job summary, what was canceled, and the errors; it returns
// the exit code.
func (o *output) finish(cfg config.Config, outs []fanout.Outcome) exit.Code {
	if cfg.Wait || cfg.Fanout {
		fmt.Fprintln(o.results)
		report.Table(o.results, outs, o.urls, cfg.Fanout)
	}
	if cfg.Artifacts {
		fmt.Fprintln(o.results)
		report.ArtifactsTable(o.results, outs, cfg.Fanout)
	}
	res := report.Summarize(outs, o.urls, report.Asked{Fanout: cfg.Fanout, Attempts: cfg.RetryFailed > 0, Artifacts: cfg.Artifacts})
	if cfg.JSON {
		o.json(res)
	}
	if o.commands != nil && o.env.Outputs != "" {
		if err := writeOutputs(o.env.Outputs, res.Outputs(), o.redact); err != nil {
			o.fail(fmt.Errorf("write the outputs: %w", err))
		}
	}
	if o.summary() && (cfg.Wait || cfg.Fanout) {
		if err := appendFile(o.env.Summary, o.redact(report.Markdown(outs, o.urls, cfg.Fanout))+"\n"); err != nil {
			o.fail(fmt.Errorf("write the job summary: %w", err))
		}
	}
	for _, oc := range outs {
		o.printer.Aftermath(oc)
		if oc.Err != nil {
			msg := oc.Err.Error()
			if h := hint(oc.Err, oc.Request); h != "" {
				msg += " (" + h + ")"
			}
			o.fail(errors.New(msg))
		}
	}
	return report.Worst(outs)
}

// json prints the outputs as one JSON object on stdout.
func (o *output) json(res report.Result) {
	fmt.Fprintln(o.stdout, res.JSON())
}

// invalid reports bad input: the problems, and with --json the object
// that says so.
func (o *output) invalid(cfg config.Config, err error) exit.Code {
	o.fail(err)
	if cfg.JSON {
		o.json(report.Invalid(err))
	}
	return exit.BadInput
}

// fail reports an error, one line at a time.
func (o *output) fail(err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		if o.commands != nil {
			o.commands.Errorf("%s", line)
		} else {
			fmt.Fprintf(o.log, "circleci-trigger: %s\n", line)
		}
	}
}

func (o *output) writer(w io.Writer, fix func(string) string) *lineWriter {
	lw := &lineWriter{w: w, fix: fix}
	o.flush = append(o.flush, lw)
	return lw
}

// close writes out what is left of unfinished lines.
func (o *output) close() {
	for _, lw := range o.flush {
		lw.Flush()
	}
}

// redactor replaces the token, wherever the server echoed it, by ***.
func redactor(secrets []string) func(string) string {
	var long []string
	for _, t := range secrets {
		// A token is long; a short value would blank out ordinary text.
		if len(t) >= 8 {
			long = append(long, t)
		}
	}
	return func(s string) string {
		for _, t := range long {
			s = strings.ReplaceAll(s, t, "***")
		}
		return s
	}
}

// lineWriter passes whole lines through fix on their way to w.
type lineWriter struct {
	w   io.Writer
	fix func(string) string
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(l.buf[:i+1])
		l.buf = l.buf[i+1:]
		if _, err := io.WriteString(l.w, l.fix(line)); err != nil {
			return len(p), err
		}
	}
}

// Flush writes an unfinished last line.
func (l *lineWriter) Flush() {
	if len(l.buf) > 0 {
		io.WriteString(l.w, l.fix(string(l.buf)))
		l.buf = nil
	}
}

// writeOutputs appends GitHub outputs to the GITHUB_OUTPUT file, each value
// between delimiters drawn at random, so that no value can end its own
// early and add or rewrite another output.
func writeOutputs(path string, kvs [][2]string, redact func(string) string) error {
	var b strings.Builder
	for _, kv := range kvs {
		v := redact(kv[1])
		delim := randomDelimiter()
		for strings.Contains(v, delim) {
			delim = randomDelimiter()
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", kv[0], delim, v, delim)
	}
	return appendFile(path, b.String())
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	return errors.Join(err, f.Close())
}

func randomDelimiter() string {
	var b [16]byte
	rand.Read(b[:])
	return "ghadelimiter_" + hex.EncodeToString(b[:])
}
