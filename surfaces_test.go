package main

// The orb as its users meet it: the command's script run with bash the way a
// CircleCI job runs it. (The GitHub Action's tests are in action/.)

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// orbCommand is the trigger command: from the packed orb when CI packed it
// (ORB_PACKED), else from the source with its include resolved.
type orbCommand struct {
	Parameters map[string]struct {
		Type    string `yaml:"type"`
		Default any    `yaml:"default"`
	} `yaml:"parameters"`
	Steps []struct {
		Run struct {
			Environment map[string]string `yaml:"environment"`
			Command     string            `yaml:"command"`
		} `yaml:"run"`
	} `yaml:"steps"`
}

func readOrbCommand(t *testing.T) orbCommand {
	t.Helper()
	var cmd orbCommand
	if packed := os.Getenv("ORB_PACKED"); packed != "" {
		b, err := os.ReadFile(packed)
		if err != nil {
			t.Fatal(err)
		}
		var orb struct {
			Commands map[string]orbCommand `yaml:"commands"`
		}
		if err := yaml.Unmarshal(b, &orb); err != nil {
			t.Fatal(err)
		}
		return orb.Commands["trigger"]
	}
	b, err := os.ReadFile("orb/src/commands/trigger.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &cmd); err != nil {
		t.Fatal(err)
	}
	run := &cmd.Steps[0].Run
	m := regexp.MustCompile(`^<<include\((.+)\)>>$`).FindStringSubmatch(strings.TrimSpace(run.Command))
	if m == nil {
		t.Fatalf("command is not an include: %q", run.Command)
	}
	script, err := os.ReadFile(filepath.Join("orb/src", m[1]))
	if err != nil {
		t.Fatal(err)
	}
	run.Command = string(script)
	return cmd
}

// orb runs the command's step with bash as CircleCI would: parameters
// substituted into the step's environment, the CircleCI environment, and the
// token in the variable the token parameter names.
func orb(t *testing.T, params map[string]string, path string) *process {
	cmd := readOrbCommand(t)
	values := map[string]string{}
	for name, p := range cmd.Parameters {
		values[name] = fmt.Sprint(p.Default)
	}
	maps.Copy(values, params)
	ref := regexp.MustCompile(`<<\s*parameters\.(\w+)\s*>>`)
	p := &process{t: t, scenario: world(), env: map[string]string{
		"CIRCLECI": "true", "CI": "true", "CIRCLE_PROJECT_USERNAME": "acme", "CIRCLE_PROJECT_REPONAME": "api",
		"CIRCLE_REPOSITORY_URL": "git@github.com:acme/api.git", "CIRCLE_BRANCH": "main", "CIRCLE_BUILD_NUM": "77",
		"PATH": path,
	}}
	for k, v := range cmd.Steps[0].Run.Environment {
		p.env[k] = ref.ReplaceAllStringFunc(v, func(s string) string { return values[ref.FindStringSubmatch(s)[1]] })
	}
	p.shell = cmd.Steps[0].Run.Command
	return p
}

// pathWithBinary is a PATH where circleci-trigger is found, like the image.
func pathWithBinary(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Symlink(binary, filepath.Join(dir, "circleci-trigger")); err != nil {
		t.Fatal(err)
	}
	return dir + ":/usr/bin:/bin"
}

func TestOrbCommandWithShellMetacharacters(t *testing.T) {
	t.Parallel()
	canary := filepath.Join(t.TempDir(), "pwned")
	nasty := `$(touch ` + canary + `) ` + "`touch " + canary + "`" + ` ; touch ` + canary + ` ' " \ $HOME * ?`
	params := fmt.Sprintf(`{"env": %q, "deploy": true}`, nasty)
	r := orb(t, map[string]string{"token": "MY_CIRCLE_TOKEN", "parameters": params, "branch": "feature/$(id)"}, pathWithBinary(t)).
		with("MY_CIRCLE_TOKEN", token).run()
	r.expect(t, 0, "on branch feature/$(id) triggered")
	q := r.requests("POST", "/project/gh/acme/api/pipeline")
	if len(q) != 1 {
		t.Fatalf("%d triggers", len(q))
	}
	b := body(t, q[0])
	if b["branch"] != "feature/$(id)" || b["parameters"].(map[string]any)["env"] != nasty {
		t.Errorf("parameters changed on the way: %s", q[0].Body)
	}
	if _, err := os.Stat(canary); err == nil {
		t.Error("a parameter was executed by the shell")
	}
}

func TestOrbCommandTriggersAndWaits(t *testing.T) {
	t.Parallel()
	r := orb(t, map[string]string{"wait": "true", "poll_interval": "1s", "max_poll_interval": "5s", "parameters": `{"replicas": 3}`}, pathWithBinary(t)).
		with("CIRCLE_TOKEN", token).run()
	r.expect(t, 0, "Pipeline #1 of gh/acme/api on branch main triggered", "build")
	if got := jsonOf(body(t, r.requests("POST", "/project/*/pipeline")[0])); got != `{"branch":"main","parameters":{"replicas":3}}` {
		t.Errorf("body = %s", got)
	}
}

func TestOrbCommandNeedsTheToken(t *testing.T) {
	t.Parallel()
	r := orb(t, map[string]string{"token": "NOT_SET_ANYWHERE"}, pathWithBinary(t)).run()
	r.expect(t, 2, "$NOT_SET_ANYWHERE is empty")
	r = orb(t, map[string]string{"token": "BAD;NAME"}, pathWithBinary(t)).run()
	r.expect(t, 2, "token must name an environment variable")
}

// releaseServer serves a fake release: the real binary as the asset for
// this platform.
func releaseServer(t *testing.T) (string, string) {
	t.Helper()
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1.0.0/circleci-trigger_linux_") {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hex.EncodeToString(sum[:])
}

func TestOrbDownloadsAndVerifies(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	url, sum := releaseServer(t)
	sums := fmt.Sprintf("%s  circleci-trigger_linux_amd64\n%s  circleci-trigger_linux_arm64\n", sum, sum)
	r := orb(t, map[string]string{"version": "1.0.0"}, "/usr/bin:/bin").
		with("CIRCLE_TOKEN", token, "CIRCLECI_TRIGGER_DOWNLOAD_URL", url, "CIRCLECI_TRIGGER_SHA256SUMS", sums).run()
	r.expect(t, 0, "Pipeline #1 of gh/acme/api")

	bad := strings.Repeat("0", 64)
	sums = fmt.Sprintf("%s  circleci-trigger_linux_amd64\n%s  circleci-trigger_linux_arm64\n", bad, bad)
	r = orb(t, map[string]string{"version": "1.0.0"}, "/usr/bin:/bin").
		with("CIRCLE_TOKEN", token, "CIRCLECI_TRIGGER_DOWNLOAD_URL", url, "CIRCLECI_TRIGGER_SHA256SUMS", sums).run()
	r.expect(t, 4, "checksum mismatch", "refusing to run it")
	if n := len(r.sim.Requests()); n != 0 {
		t.Errorf("the unverified binary ran: %d requests", n)
	}
}
