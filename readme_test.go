package main

// Every command of the README that runs the tool, and every example of
// --help, run as a user pastes them: with bash, the built binaries in bin/,
// against the demo scenario, ending with the exit code the README gives
// (a trailing "# exit N", else 0).

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
	"github.com/circleci-trigger/circleci-trigger/internal/config"
)

// shellCommand is one command of a ```sh block, and the commands before it
// in that block that prepare files (cp).
type shellCommand struct {
	line    int
	text    string
	prepare []string
}

// readmeCommands are the commands of the README's ```sh blocks that run
// the tool or the simulator, continuation lines joined.
func readmeCommands(t *testing.T) []shellCommand {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []shellCommand
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```sh" {
			continue
		}
		var prepare []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			start, text := i+1, lines[i]
			// A command goes on while a line ends in \ or a quote is open.
			for (strings.HasSuffix(text, `\`) || quoteOpen(text)) && i+1 < len(lines) && lines[i+1] != "```" {
				i++
				text += "\n" + lines[i]
			}
			switch {
			case strings.HasPrefix(text, "cp "):
				prepare = append(prepare, text)
			case strings.HasPrefix(text, "go build -o bin/ ") && strings.Contains(text, "&& "):
				// bin/ is built already: the part after the build.
				out = append(out, shellCommand{start, text[strings.Index(text, "&& ")+3:], prepare})
			case strings.HasPrefix(text, "circleci-trigger "),
				strings.HasPrefix(text, "bin/circleci-sim ") && strings.Contains(text, " -- "):
				out = append(out, shellCommand{start, text, prepare})
			}
		}
	}
	return out
}

// quoteOpen says whether text ends inside single quotes, comments aside.
func quoteOpen(text string) bool {
	open := false
	for i, r := range text {
		switch {
		case r == '\'':
			open = !open
		case r == '#' && !open && (i == 0 || text[i-1] == ' '):
			if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
				return quoteOpen(text[i+j+1:])
			}
			return false
		}
	}
	return open
}

var buildSim = sync.OnceValue(func() error {
	out, err := exec.Command("go", "build", "-o", filepath.Dir(clitest.Binary), "./cmd/circleci-sim").CombinedOutput()
	if err != nil {
		return &exec.Error{Name: string(out), Err: err}
	}
	return nil
})

var wantExit = regexp.MustCompile(`#\s*exit (\d+)`)

// TestREADMECommands runs the commands side by side, not as parallel
// subtests: they mostly wait on the demo's clock, and -parallel is the
// number of cores.
func TestREADMECommands(t *testing.T) {
	t.Parallel()
	if err := buildSim(); err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(t)
	if len(cmds) < 10 {
		t.Fatalf("%d commands found in the README", len(cmds))
	}
	for _, c := range config.UsageExamples() {
		cmds = append(cmds, shellCommand{text: c}) // --help's
	}
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Go(func() { errs[i] = runPasted(t, c.text, c.prepare) })
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			continue
		}
		where := "--help"
		if cmds[i].line > 0 {
			where = "README.md:" + strconv.Itoa(cmds[i].line)
		}
		t.Errorf("%s: %v", where, err)
	}
}

// runPasted runs text with bash in a fresh folder holding bin/ and the
// demo scenario; a command of the tool alone gets a simulator of the demo,
// as if CIRCLE_HOST and CIRCLE_TOKEN were set for it.
func runPasted(t *testing.T, text string, prepare []string) error {
	dir := t.TempDir()
	scenarios := filepath.Join(dir, "circlecitest", "scenarios")
	demo, err := os.ReadFile("circlecitest/scenarios/demo.json")
	if err == nil {
		err = os.MkdirAll(scenarios, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(scenarios, "demo.json"), demo, 0o644)
	}
	if err == nil {
		err = os.Symlink(filepath.Dir(clitest.Binary), filepath.Join(dir, "bin"))
	}
	if err != nil {
		return err
	}
	env := []string{"PATH=" + filepath.Join(dir, "bin") + ":" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir}
	if !strings.HasPrefix(text, "bin/circleci-sim ") {
		sc, err := circlecitest.Open("demo")
		if err != nil {
			return err
		}
		srv := httptest.NewServer(circlecitest.NewSimulator(sc, nil))
		defer srv.Close()
		env = append(env, "CIRCLE_HOST="+srv.URL, "CIRCLE_TOKEN="+sc.Tokens[0])
	}
	cmd := exec.Command("bash", "-c", strings.Join(append(prepare, text), "\n"))
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return err
		}
		code = ee.ExitCode()
	}
	want := 0
	if m := wantExit.FindStringSubmatch(text); m != nil {
		want, _ = strconv.Atoi(m[1])
	}
	if code != want {
		return fmt.Errorf("%s\nexited %d, want %d\nstdout:\n%s\nstderr:\n%s", text, code, want, stdout.String(), stderr.String())
	}
	return nil
}

// CI runs the README's two set-up commands as the README gives them.
func TestCIRunsTheREADMESetUp(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(readme), "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	lines := strings.Split(strings.TrimSpace(block), "\n")
	if len(lines) != 2 {
		t.Fatalf("the README's set-up is %d commands, want 2:\n%s", len(lines), block)
	}
	for _, l := range lines {
		cmd, _, _ := strings.Cut(l, "#")
		if cmd = strings.TrimSpace(cmd); !strings.Contains(string(ci), cmd) {
			t.Errorf(".ci/run does not run the README's %q", cmd)
		}
	}
}
