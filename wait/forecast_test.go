package wait

import (
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

func TestForecastFromInsights(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		d    circleci.Durations
		ok   bool
	}{
		{"history", circleci.Durations{Runs: 50, Median: 600 * time.Second, P95: 650 * time.Second}, true},
		{"stddev only", circleci.Durations{Runs: 50, Median: 600 * time.Second, P95: 600 * time.Second, StandardDeviation: 30 * time.Second}, true},
		{"too few runs", circleci.Durations{Runs: 2, Median: 600 * time.Second, P95: 650 * time.Second}, false},
		{"no median", circleci.Durations{Runs: 50}, false},
	} {
		f, ok := newForecast(tc.d)
		if ok != tc.ok {
			t.Errorf("%s: newForecast(%+v) ok = %v, want %v", tc.name, tc.d, ok, tc.ok)
			continue
		}
		if ok && !(f.lo < tc.d.Median && tc.d.Median < f.hi) {
			t.Errorf("%s: forecast %+v does not surround the median %s", tc.name, f, tc.d.Median)
		}
	}
}

func TestForecastNext(t *testing.T) {
	t.Parallel()
	const step, maxGap = 2500 * time.Millisecond, 30 * time.Second
	f := forecast{lo: 550 * time.Second, hi: 660 * time.Second}
	for _, tc := range []struct {
		name    string
		elapsed time.Duration
		want    time.Duration
	}{
		{"far: sparse, capped at max-poll-interval", 10 * time.Second, maxGap},
		{"close to the window: lands on its first point, lo + gap", 540 * time.Second, 12500 * time.Millisecond},
		{"in the window: the next grid point", 600 * time.Second, 2500 * time.Millisecond},
		{"just after a grid point: the one after", 600*time.Second + 100*time.Millisecond, 2400 * time.Millisecond},
		{"late: from step", 661 * time.Second, step},
		{"very late: half the lateness", 700 * time.Second, 20 * time.Second},
		{"hours late: max-poll-interval", 3 * time.Hour, maxGap},
	} {
		if got := f.next(tc.elapsed, step, maxGap); got != tc.want {
			t.Errorf("%s: next(%s) = %s, want %s", tc.name, tc.elapsed, got, tc.want)
		}
	}
	// A narrow forecast: one poll, at hi.
	narrow := forecast{lo: 19 * time.Second, hi: 22 * time.Second}
	if got := narrow.next(0, step, maxGap); got != 22*time.Second {
		t.Errorf("narrow: next(0) = %s, want 22s", got)
	}
	// Sparse polls never exceed max-poll-interval, wherever the end is.
	for e := time.Duration(0); e < 2*time.Hour; e += 7 * time.Second {
		if d := f.next(e, step, maxGap); d <= 0 || d > maxGap {
			t.Fatalf("next(%s) = %s", e, d)
		}
	}
}
