#!/usr/bin/env bash
# Writes the shell completions the release archives ship, from the binary
# itself (`circleci-trigger completion bash|zsh|fish` prints the script),
# into completions/. GoReleaser runs it as a before hook (hooks get no shell).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf completions
mkdir -p completions
for sh in bash zsh fish; do
  go run . completion "$sh" > "completions/circleci-trigger.$sh"
done
