package cli_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

// fingerprint is what a run did, in order: every request the simulator
// answered (method, path, status, when) and the run's output. Requests
// that arrive at the same instant (cancels sent together) are in no
// particular order: they are sorted.
func fingerprint(r clitest.Result) string {
	var lines []string
	for _, q := range r.Sim.Requests() {
		lines = append(lines, fmt.Sprintf("%020d %s %s?%s %d lost=%v", q.At, q.Method, q.Path, q.Query, q.Status, q.Lost()))
	}
	slices.Sort(lines)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "exit %d\n%s\n%s\n%v\n%s", r.Code, byTarget(r.Stdout), byTarget(r.Stderr), r.Outputs, r.Summary)
	return b.String()
}

// byTarget are the lines of a stream, those of each target of a fan-out
// together: lines of targets that happen at the same instant are in no
// particular order between targets.
func byTarget(s string) string {
	var lines []string
	for i, l := range strings.Split(s, "\n") {
		target := regexp.MustCompile(`\[(gh/acme/p\d)\]`).FindString(l)
		lines = append(lines, fmt.Sprintf("%s %06d %s", target, i, l))
	}
	slices.SortStableFunc(lines, func(a, b string) int {
		return strings.Compare(a[:strings.IndexByte(a, ' ')], b[:strings.IndexByte(b, ' ')])
	})
	for i, l := range lines {
		lines[i] = l[strings.IndexByte(l, ' ')+8:]
	}
	return strings.Join(lines, "\n")
}

// Every seed replays identically: the same requests at the same virtual
// times, the same output. FAULT_REPLAYS (50 by default) seeds from
// FAULT_SEED_START (as TestFaultSchedule's) are run twice each.
func TestFaultScheduleReplays(t *testing.T) {
	n, first := uint64(50), uint64(0)
	if v, err := strconv.ParseUint(os.Getenv("FAULT_REPLAYS"), 10, 64); err == nil {
		n = v
	}
	if v, err := strconv.ParseUint(os.Getenv("FAULT_SEED_START"), 10, 64); err == nil {
		first = v
	}
	for seed := first; seed < first+n; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			var prints [2]string
			for i := range prints {
				prints[i] = fingerprint(draw(seed).run(t))
			}
			if prints[0] != prints[1] {
				a, b := strings.Split(prints[0], "\n"), strings.Split(prints[1], "\n")
				for i := range min(len(a), len(b)) {
					if a[i] != b[i] {
						t.Fatalf("seed %d does not replay: line %d\n  %s\n  %s", seed, i, a[i], b[i])
					}
				}
				t.Fatalf("seed %d does not replay: %d lines, then %d", seed, len(a), len(b))
			}
		})
	}
}
