#!/usr/bin/env bash
# Builds the pinned circleci CLI into the folder given ($1), unless it is
# there already. The module proxy refuses `go install` for it, so it is built
# from a throwaway module.
set -euo pipefail
bin=${1:?usage: install-circleci-cli.sh DIR}
[ -x "$bin/circleci" ] && exit 0
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
mod=$(mktemp -d)
trap 'rm -rf "$mod"' EXIT
cd "$mod"
go mod init throwaway >/dev/null 2>&1
go get github.com/CircleCI-Public/circleci-cli@v0.1.47860 >/dev/null 2>&1
go build -o "$bin/circleci" github.com/CircleCI-Public/circleci-cli
