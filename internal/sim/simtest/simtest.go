// Package simtest starts the CircleCI simulator for tests. It is the only
// part of the simulator that imports testing, so the circleci-sim binary
// does not link it.
package simtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/internal/clock"
	"github.com/circleci-trigger/circleci-trigger/internal/sim"
)

// Start runs the simulator over sc on loopback for the length of a test and
// returns it with its base URL (the tool's host). clk nil means the real
// clock. Build sc as a Go value, or with sim.MustParse for JSON.
func Start(tb testing.TB, sc *sim.Scenario, clk clock.Clock) (*sim.Server, string) {
	tb.Helper()
	if err := sc.Check(); err != nil {
		tb.Fatalf("scenario: %v", err)
	}
	s := sim.New(sc, clk)
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	tb.Cleanup(s.Close) // runs first: releases hanging requests so Close can return
	return s, srv.URL
}

// Median of the figures a benchmark collected, which it reports rather
// than their mean: these machines are shared and noisy.
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// StartCounting is Start, and counts the connections clients open to it.
func StartCounting(tb testing.TB, sc *sim.Scenario, clk clock.Clock) (*sim.Server, string, *atomic.Int64) {
	tb.Helper()
	if err := sc.Check(); err != nil {
		tb.Fatalf("scenario: %v", err)
	}
	s := sim.New(sc, clk)
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
