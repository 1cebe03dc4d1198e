#!/usr/bin/env bash
# The benchmark suite (SPEC §7): runs every benchmark several times against
# the simulator and prints the medians (benchstat), with the binary's size.
# About 40 minutes: the fan-outs run this commit's binary and, side by
# side, that of the commit before the rate-limit budget (BENCH_BASELINE,
# "none" to skip it). COUNT=n changes the number of runs (default 3).
#   scripts/bench.sh [output-file]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-3}
out=${1:-$(mktemp)}
benchstat="go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

{
  # Simulated time: the wait schedule's lag and requests, 20 iterations a run.
  go test -run '^$' -bench 'WaitSchedule' -benchtime 20x -count "$count" ./wait
  # Predicted ends against other schedules: 200 pipelines per cell, one
  # iteration (simulated time and seeded draws: every run is the same).
  go test -run '^$' -bench 'PredictedWait' -benchtime 1x ./wait
  # Real processes against the simulator.
  go test -run '^$' -bench 'TriggerOnly' -benchtime 20x -count "$count" .
  go test -run '^$' -bench 'Fanout50|FanoutScale|WaitProcess20s' -benchtime 1x -count "$count" -timeout 90m .
} | tee "$out"

echo
echo "== medians over $count runs"
$benchstat "$out"

CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "${TMPDIR:-/tmp}/circleci-trigger.bench" .
size=$(stat -c %s "${TMPDIR:-/tmp}/circleci-trigger.bench")
echo
echo "== stripped binary (linux/$(go env GOARCH)): $size bytes"
cat <<'TARGETS'

SPEC §7 targets:
  trigger-only overhead-ms          a few milliseconds on top of the API round trip
  Fanout50 x-single                 about 1 (as long as the slowest single trigger; issue: within 2x)
  WaitSchedule/20s, WaitProcess20s  lag-s under poll-interval + 1s (3s)
  WaitSchedule/5m, /30m             lag-s under max-poll-interval + 1s (31s)
  WaitSchedule/30m req/pipeline-min about 2 a minute during a long wait
  Fanout50 peak-MB                  under 25 MB while waiting on 50 pipelines
  PredictedWait/*/predicted         lag-p50-s <= 1.5, lag-p90-s <= 3, x-fixed10s <= 0.6 at 2, 10, 30 min
  FanoutScale/1000                  trigger-round-trips <= round-trips-allowed, connections <= 50, 429s 0
  FanoutScale/wait40/*/new          429s 0
  binary                            under 10 MB stripped
TARGETS
