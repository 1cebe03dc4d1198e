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

	"github.com/circleci-trigger/circleci-trigger/internal/config"
	"github.com/sethvargo/go-githubactions"
)

// output is where each kind of text goes on a surface: results (the
// trigger line, the table, --json) on stdout; progress, warnings and errors
// on stderr, except in the Action, where the runner reads workflow
// commands from stdout. Everything written goes through redact, which takes
// out the token wherever a server echoed it; in the Action, lines that
// hold text from the server cannot pass for a workflow command.
type output struct {
	results, log io.Writer
	// commands writes the Action's own workflow commands (messages
	// escaped by go-githubactions); nil outside the Action.
	commands *githubactions.Action
	redact   func(string) string
	flush    []*lineWriter
	stderr   io.Writer
}

func newOutput(s config.Surface, stdout, stderr io.Writer, getenv func(string) string) *output {
	o := &output{redact: redactor(getenv), stderr: stderr}
	data := o.writer(stdout, o.redact)
	o.results, o.log = data, o.writer(stderr, o.redact)
	if s == config.Action {
		// A workflow name such as "::stop-commands::x" must not start a line
		// the runner reads as a command: a zero-width space goes first.
		data = o.writer(stdout, func(line string) string {
			if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
				line = "\u200b" + line
			}
			return o.redact(line)
		})
		o.results, o.log = data, data
		o.commands = githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(o.writer(stdout, o.redact)))
	}
	return o
}

func (o *output) writer(w io.Writer, fix func(string) string) *lineWriter {
	lw := &lineWriter{w: w, fix: fix}
	o.flush = append(o.flush, lw)
	return lw
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

// close writes out what is left of unfinished lines.
func (o *output) close() {
	for _, lw := range o.flush {
		lw.Flush()
	}
}

// redactor replaces the token, wherever the server echoed it, by ***.
func redactor(getenv func(string) string) func(string) string {
	var secrets []string
	for _, k := range config.TokenVars {
		// A token is long; a short value would blank out ordinary text.
		if t := strings.TrimSpace(getenv(k)); len(t) >= 8 {
			secrets = append(secrets, t)
		}
	}
	return func(s string) string {
		for _, t := range secrets {
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
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(b.String())
	return errors.Join(err, f.Close())
}

func randomDelimiter() string {
	var b [16]byte
	rand.Read(b[:])
	return "ghadelimiter_" + hex.EncodeToString(b[:])
}
