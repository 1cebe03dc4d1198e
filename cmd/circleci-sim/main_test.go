package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestHelpListsTheScenarios(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &stdout, &stderr); code != 0 || stderr.Len() != 0 {
		t.Fatalf("--help: exit %d, stderr %q", code, stderr.String())
	}
	for _, want := range []string{"-- COMMAND", "-scenario", "  demo ", "  hostile ", "gh/acme/mobile", "gh/acme/errored"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "demos"}, `circleci-sim: scenario: no scenario "demos": give a built-in one (demo, hostile) or a JSON file`},
		{[]string{"--scenario", "./nothing.json"}, "circleci-sim: scenario: stat ./nothing.json: no such file or directory"},
		{[]string{"--addr", "0.0.0.0:0"}, "circleci-sim: listen on a loopback address only"},
		{[]string{"--bogus"}, "circleci-sim: see circleci-sim --help"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		if code != 2 || !strings.HasSuffix(stderr.String(), tc.want+"\n") || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, stdout.String(), stderr.String(), tc.want)
		}
	}
}

// With a command, the simulator passes its exit code through and lists the
// requests it received.
func TestRunsACommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--", "sh", "-c", `echo "$CIRCLE_HOST"; exit 3`}, &stdout, &stderr)
	if code != 3 || !strings.HasPrefix(stdout.String(), "http://127.0.0.1:") || !strings.Contains(stderr.String(), "circleci-sim received 0 requests") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
