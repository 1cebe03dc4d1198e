// Package simtest starts the CircleCI simulator for tests. It is the only
// part of the simulator that imports testing, so the circleci-sim binary
// does not link it.
package simtest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
)

// Start runs the simulator over sc on loopback for the length of a test and
// returns it with its base URL (the tool's host). clk nil means the real
// clock. Build sc as a Go value, or with circlecitest.MustParse for JSON.
func Start(tb testing.TB, sc *circlecitest.Scenario, clk circleci.Clock) (*circlecitest.Simulator, string) {
	tb.Helper()
	if err := sc.Check(); err != nil {
		tb.Fatalf("scenario: %v", err)
	}
	s := circlecitest.NewServer(sc, clk)
	tb.Cleanup(s.Close)
	return s.Simulator, s.URL
}

// Median of the figures a benchmark collected, which it reports rather
// than their mean: these machines are shared and noisy.
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// StartCounting is Start, and counts the connections clients open to it.
func StartCounting(tb testing.TB, sc *circlecitest.Scenario, clk circleci.Clock) (*circlecitest.Simulator, string, *atomic.Int64) {
	tb.Helper()
	if err := sc.Check(); err != nil {
		tb.Fatalf("scenario: %v", err)
	}
	s := circlecitest.NewSimulator(sc, clk)
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	tb.Cleanup(srv.Close)
	tb.Cleanup(s.Close)
	return s, srv.URL, &conns
}

// MainWithBinary is a TestMain for tests that run the circleci-trigger
// binary as a process: it builds the command in dir (the module's root)
// once, sets *binary to its path, runs the tests, and removes it.
func MainWithBinary(m *testing.M, dir string, binary *string) {
	tmp, err := os.MkdirTemp("", "circleci-trigger-test")
	if err != nil {
		panic(err)
	}
	*binary = filepath.Join(tmp, "circleci-trigger")
	if out, err := exec.Command("go", "build", "-o", *binary, dir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(tmp)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}
