#!/usr/bin/env bash
# Packs the orb with its script pinned to a release: the version it
# downloads when circleci-trigger is not on PATH, and the sha256 of each
# binary, so the job refuses a download that does not match.
#   scripts/pin-orb.sh VERSION CHECKSUMS_FILE > orb.yml
set -euo pipefail
version=$1
sums=$2
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([.-][0-9A-Za-z.-]+)?$ ]] || { echo "bad version: $version" >&2; exit 2; }
grep -Eq '^[0-9a-f]{64}  circleci-trigger_' "$sums" || { echo "no checksums in $sums" >&2; exit 2; }
grep -Ev '^[0-9a-f]{64}  [A-Za-z0-9_.-]+$' "$sums" && { echo "unexpected line in $sums" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Only the raw binaries the command downloads: the release's checksums.txt
# also lists archives and SBOMs.
grep -E '^[0-9a-f]{64}  circleci-trigger_(linux|darwin|windows)_(amd64|arm64)(\.exe)?$' "$sums" > "$work/binaries.txt"
cp -R "$(dirname "$0")/../orb/src" "$work/src"
script="$work/src/scripts/trigger.sh"
awk -v v="$version" -v sums="$(cat "$work/binaries.txt")" '
  /^PINNED_VERSION=""$/ { print "PINNED_VERSION=\"" v "\""; next }
  /^PINNED_SHA256SUMS=""$/ { print "PINNED_SHA256SUMS=\047" sums "\047"; next }
  { print }' "$script" > "$script.new"
mv "$script.new" "$script"
grep -q "^PINNED_VERSION=\"$version\"" "$script"
circleci orb pack --skip-update-check "$work/src"
