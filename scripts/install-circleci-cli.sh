#!/usr/bin/env bash
# Builds the pinned circleci CLI into the folder given ($1), unless it is
# there already. The module proxy refuses `go install` for it, so it is built
# from a throwaway module.
set -euo pipefail
bin=${1:?usage: install-circleci-cli.sh DIR}
[ -x "$bin/circleci" ] && exit 0
exec "$(dirname "$0")/build-go-tool.sh" "$bin" github.com/CircleCI-Public/circleci-cli v0.1.47860 circleci
