#!/usr/bin/env bash
# Builds a Go command at a pinned version into a folder, from a throwaway
# module: `go install pkg@version` also asks the proxy for the module's
# version list, which it refuses for some modules.
#   scripts/build-go-tool.sh DIR PACKAGE VERSION [NAME]
set -euo pipefail
dir=${1:?usage: build-go-tool.sh DIR PACKAGE VERSION [NAME]}
pkg=${2:?usage: build-go-tool.sh DIR PACKAGE VERSION [NAME]}
version=${3:?usage: build-go-tool.sh DIR PACKAGE VERSION [NAME]}
name=${4:-$(basename "$pkg")}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mod=$(mktemp -d)
trap 'rm -rf "$mod"' EXIT
cd "$mod"
go mod init throwaway >/dev/null 2>&1
go get "$pkg@$version" >/dev/null 2>&1
go build -o "$dir/$name" "$pkg"
