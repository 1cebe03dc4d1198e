#!/usr/bin/env bash
# Checks a release folder (GoReleaser's dist/) before anything is published:
#   scripts/verify-release.sh [--signed] DIR
# - checksums.txt is well formed and matches every file it lists;
# - each platform has its raw binary (the names the orb and the action
#   download), its archive and its SBOM, all listed in checksums.txt;
# - each archive holds the binary (the same bytes as the raw one), LICENSE,
#   README.md and the bash, zsh and fish completions;
# - with --signed, checksums.txt has its cosign bundle.
set -euo pipefail

signed=false
if [ "${1:-}" = --signed ]; then
  signed=true
  shift
fi
dir=${1:?usage: verify-release.sh [--signed] DIR}
cd "$dir"

errors=0
fail() {
  echo "verify-release: $*" >&2
  errors=$((errors + 1))
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

[ -s checksums.txt ] || { echo "verify-release: no checksums.txt in $dir" >&2; exit 1; }
if bad=$(grep -Evn '^[0-9a-f]{64}  [A-Za-z0-9_.-]+$' checksums.txt); then
  fail "malformed lines in checksums.txt: $bad"
fi
# Every listed file exists and matches.
while read -r want name; do
  if [ ! -f "$name" ]; then
    fail "$name is listed in checksums.txt but missing"
  elif [ "$(sha256 "$name")" != "$want" ]; then
    fail "$name does not match its checksum"
  fi
done < checksums.txt

listed() { grep -q "^[0-9a-f]\{64\}  $1\$" checksums.txt; }

# One version: the archives' names carry it.
version=$(find . -maxdepth 1 -name 'circleci-trigger_*_linux_amd64.tar.gz' | sed -E 's|^\./circleci-trigger_(.+)_linux_amd64\.tar\.gz$|\1|')
if [ -z "$version" ] || [ "$(printf '%s\n' "$version" | wc -l)" -ne 1 ]; then
  echo "verify-release: expected exactly one circleci-trigger_<version>_linux_amd64.tar.gz in $dir" >&2
  exit 1
fi
echo "version $version"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for os in linux darwin windows; do
  for arch in amd64 arm64; do
    ext="" archive="circleci-trigger_${version}_${os}_${arch}.tar.gz"
    if [ "$os" = windows ]; then
      ext=.exe archive="circleci-trigger_${version}_${os}_${arch}.zip"
    fi
    raw="circleci-trigger_${os}_${arch}${ext}"
    sbom="circleci-trigger_${version}_${os}_${arch}.cdx.json"
    for f in "$raw" "$archive" "$sbom"; do
      [ -f "$f" ] || fail "$f is missing"
      listed "$f" || fail "$f is not in checksums.txt"
    done
    if [ -f "$sbom" ] && ! grep -q '"bomFormat": *"CycloneDX"' "$sbom"; then
      fail "$sbom is not a CycloneDX document"
    fi
    [ -f "$archive" ] || continue

    out="$work/$os-$arch"
    mkdir -p "$out"
    case "$archive" in
      *.zip) unzip -q "$archive" -d "$out" ;;
      *) tar -xzf "$archive" -C "$out" ;;
    esac
    for f in "circleci-trigger$ext" LICENSE README.md \
      completions/circleci-trigger.bash completions/circleci-trigger.zsh completions/circleci-trigger.fish; do
      [ -s "$out/$f" ] || fail "$archive lacks $f"
    done
    if [ -f "$raw" ] && [ -f "$out/circleci-trigger$ext" ] &&
      [ "$(sha256 "$raw")" != "$(sha256 "$out/circleci-trigger$ext")" ]; then
      fail "the binary in $archive differs from $raw"
    fi
  done
done

if $signed && [ ! -s checksums.txt.sigstore.json ]; then
  fail "checksums.txt.sigstore.json (the cosign bundle) is missing"
fi

if [ "$errors" -gt 0 ]; then
  echo "verify-release: $errors problem(s) in $dir" >&2
  exit 1
fi
echo "verify-release: $dir is complete: $(wc -l < checksums.txt) files match checksums.txt"
