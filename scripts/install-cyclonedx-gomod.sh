#!/usr/bin/env bash
# Builds the pinned cyclonedx-gomod (GoReleaser's SBOM tool, see
# .goreleaser.yaml) into the folder given ($1), unless it is there already.
# Built from a throwaway module: `go install pkg@version` also asks the proxy
# for the module's version list, which some proxies refuse.
set -euo pipefail
bin=${1:?usage: install-cyclonedx-gomod.sh DIR}
version=v1.10.0
if [ -x "$bin/cyclonedx-gomod" ] && "$bin/cyclonedx-gomod" version 2>/dev/null | grep -q "Version:[[:space:]]*$version\$"; then
  exit 0
fi
exec "$(dirname "$0")/build-go-tool.sh" "$bin" github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod "$version"
