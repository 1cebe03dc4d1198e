#!/usr/bin/env bash
# Pins the GitHub Action to a release: rewrites, in place, the version and
# the sha256 of each binary in action/install.sh, so that the action at this
# commit runs that release's binary and refuses one that does not match.
#   scripts/pin-action.sh VERSION CHECKSUMS_FILE
# CHECKSUMS_FILE holds sha256sum lines, "<sha256>  circleci-trigger_<os>_<arch>[.exe]"
# (os linux, darwin or windows; arch amd64 or arm64); other files listed there
# are ignored. Run it on the commit the release tag points to, not on main:
# main builds from its own source, which a pinned binary would not match.
set -euo pipefail

usage() { echo "usage: scripts/pin-action.sh VERSION CHECKSUMS_FILE" >&2; exit 2; }
[ $# -eq 2 ] || usage
version=${1#v}
sums=$2
install="$(dirname "$0")/../action/install.sh"

[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([.+-][0-9A-Za-z.-]+)?$ ]] || { echo "bad version: $1" >&2; exit 2; }
[ -f "$sums" ] || { echo "no such file: $sums" >&2; exit 2; }
bad=$(grep -Ev '^[0-9a-f]{64} [ *][A-Za-z0-9_.-]+$' "$sums" || true)
[ -z "$bad" ] || { printf 'unexpected line in %s:\n%s\n' "$sums" "$bad" >&2; exit 2; }

pinned=$(sed -E 's/^([0-9a-f]{64}) [ *]/\1  /' "$sums" |
  grep -E '  circleci-trigger_((linux|darwin)_(amd64|arm64)|windows_(amd64|arm64)\.exe)$' | sort -k2 || true)
[ -n "$pinned" ] || { echo "no circleci-trigger binaries in $sums" >&2; exit 2; }
for os in linux darwin windows; do
  for arch in amd64 arm64; do
    asset="circleci-trigger_${os}_${arch}"
    [ "$os" = windows ] && asset="$asset.exe"
    grep -q "  $asset\$" <<<"$pinned" || echo "warning: no $asset in $sums: the action builds from source there" >&2
  done
done

if ! grep -q '^# BEGIN PINNED RELEASE' "$install" || ! grep -q '^# END PINNED RELEASE' "$install"; then
  echo "$install has no PINNED RELEASE block" >&2
  exit 2
fi
VERSION=$version SUMS=$pinned awk '
  /^# BEGIN PINNED RELEASE/ { inblock = 1; print; next }
  /^# END PINNED RELEASE/ {
    print "PINNED_VERSION=\"" ENVIRON["VERSION"] "\""
    print "PINNED_SHA256SUMS=\047" ENVIRON["SUMS"] "\047"
    inblock = 0
  }
  inblock && (/^PINNED_/ || /^[0-9a-f]+  /) { next }
  { print }' "$install" > "$install.new"
chmod --reference="$install" "$install.new" 2>/dev/null || chmod 755 "$install.new"
mv "$install.new" "$install"
grep -q "^PINNED_VERSION=\"$version\"\$" "$install"
bash -n "$install"
echo "pinned the action to v$version: $(grep -c . <<<"$pinned") binaries" >&2
