#!/usr/bin/env bash
# Finds the circleci-trigger binary the action runs, and prints its path
# (only that goes to stdout; messages go to stderr). In order:
#
#  1. binary-path (INPUT_BINARY_PATH, else CIRCLECI_TRIGGER_BINARY_PATH):
#     that file, as the workflow names it.
#  2. The release pinned below for this ref of the action, for RUNNER_OS and
#     RUNNER_ARCH: from RUNNER_TOOL_CACHE, else downloaded from download-url
#     (INPUT_DOWNLOAD_URL, else CIRCLECI_TRIGGER_DOWNLOAD_URL, else GitHub's
#     release downloads). Either way its sha256 must match the pinned one
#     before it is used; a mismatch is never run.
#  3. No release pinned (uses: ./, a branch, a fork), or none for this
#     platform, or the download failed: built from the action's own source
#     ($GITHUB_ACTION_PATH) with the runner's Go.
#
# Bash 3.2 compatible (macOS runners); runs in Git Bash on Windows.
set -euo pipefail

# BEGIN PINNED RELEASE: scripts/pin-action.sh rewrites this block on release
# commits; elsewhere it stays empty and the action builds from source.
PINNED_VERSION=""
PINNED_SHA256SUMS=""
# END PINNED RELEASE

DEFAULT_DOWNLOAD_URL="https://github.com/circleci-trigger/circleci-trigger/releases/download"

on_github() { [ "${GITHUB_ACTIONS:-}" = true ]; }

say() { echo "circleci-trigger: $*" >&2; }

warn() {
  if on_github; then
    echo "::warning title=circleci-trigger::$*" >&2
  else
    say "warning: $*"
  fi
}

# fail CODE MESSAGE: 2 for what the workflow must change, 4 for downloads.
fail() {
  local code=$1
  shift
  if on_github; then
    echo "::error title=circleci-trigger::$*" >&2
  else
    say "$*"
  fi
  exit "$code"
}

# Git Bash on Windows hands us Windows paths (D:\a\_temp): use its own.
unix_path() {
  if [ -n "$1" ] && command -v cygpath >/dev/null 2>&1; then
    cygpath -u "$1"
  else
    printf '%s\n' "$1"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    fail 4 "neither sha256sum nor shasum is on PATH: cannot verify the download"
  fi
}

# verified FILE SHA256: does FILE have that sha256?
verified() { [ -f "$1" ] && [ "$(sha256_of "$1")" = "$2" ]; }

work_dir() {
  local base
  base=$(unix_path "${RUNNER_TEMP:-}")
  [ -n "$base" ] || base=${TMPDIR:-/tmp}
  mkdir -p "$base"
  mktemp -d "$base/circleci-trigger.XXXXXX"
}

# The platform, as release assets name it: goos, goarch and exe.
platform() {
  case "${RUNNER_OS:-$(uname -s)}" in
    Linux) goos=linux ;;
    macOS | Darwin) goos=darwin ;;
    Windows | MINGW* | MSYS* | CYGWIN*) goos=windows ;;
    *) goos="" ;;
  esac
  case "${RUNNER_ARCH:-$(uname -m)}" in
    X64 | x86_64 | amd64) goarch=amd64 ;;
    ARM64 | arm64 | aarch64) goarch=arm64 ;;
    *) goarch="" ;;
  esac
  exe=""
  if [ "$goos" = windows ]; then exe=.exe; fi
}

action_source() {
  local dir
  dir=$(unix_path "${GITHUB_ACTION_PATH:-}")
  if [ -z "$dir" ]; then
    dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  fi
  printf '%s\n' "${dir%/}"
}

# from_release prints the verified binary's path, or returns 1 when it
# cannot be had (no asset for this platform, download failed); it exits on a
# checksum mismatch.
from_release() {
  if [ -z "$goos" ] || [ -z "$goarch" ]; then
    warn "release v$PINNED_VERSION has no binary for ${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}"
    return 1
  fi
  local asset="circleci-trigger_${goos}_${goarch}${exe}" want
  want=$(printf '%s\n' "$PINNED_SHA256SUMS" | awk -v f="$asset" '$2 == f { print $1; exit }')
  [ -n "$want" ] || {
    warn "release v$PINNED_VERSION pins no sha256 for $asset"
    return 1
  }

  local cache="" cached=""
  if [ -n "${RUNNER_TOOL_CACHE:-}" ]; then
    cache="$(unix_path "$RUNNER_TOOL_CACHE")/circleci-trigger/$PINNED_VERSION/${goos}-${goarch}"
    cached="$cache/circleci-trigger$exe"
    if verified "$cached" "$want"; then
      say "using release v$PINNED_VERSION ($asset) from the tool cache, sha256 verified"
      printf '%s\n' "$cached"
      return 0
    fi
    if [ -e "$cached" ]; then
      warn "the cached $cached does not match the pinned sha256: downloading it again"
      rm -f "$cached"
    fi
  fi

  local base url dir got
  base=${INPUT_DOWNLOAD_URL:-${CIRCLECI_TRIGGER_DOWNLOAD_URL:-$DEFAULT_DOWNLOAD_URL}}
  url="${base%/}/v$PINNED_VERSION/$asset"
  dir=$(work_dir)
  if ! curl -fsSL --retry 3 --connect-timeout 20 --max-time 300 --proto '=https,http' -o "$dir/$asset" "$url"; then
    warn "could not download $url (set download-url to a mirror of the release, or binary-path)"
    rm -rf "$dir"
    return 1
  fi
  got=$(sha256_of "$dir/$asset")
  if [ "$got" != "$want" ]; then
    rm -rf "$dir"
    fail 4 "checksum mismatch for $url: got sha256 $got, want $want (pinned in this ref of the action). Refusing to run it."
  fi
  chmod +x "$dir/$asset"
  say "using release v$PINNED_VERSION ($asset) from $base, sha256 verified"
  if [ -n "$cache" ] && mkdir -p "$cache" 2>/dev/null && cp "$dir/$asset" "$cached.$$" 2>/dev/null; then
    mv -f "$cached.$$" "$cached"
  fi
  printf '%s\n' "$dir/$asset"
}

# from_source builds the action's own source with the runner's Go.
from_source() {
  local why=$1 src dir out ref
  src=$(action_source)
  if ! command -v go >/dev/null 2>&1; then
    fail 2 "$why, so the action builds circleci-trigger from its own source, which needs Go on PATH. Either add a step 'uses: actions/setup-go' with 'go-version-file' set to this action's go.mod before this one, use a release of the action (a tag, or its commit SHA), or set 'binary-path' to a circleci-trigger binary."
  fi
  [ -f "$src/go.mod" ] || fail 2 "$why, and $src holds no go.mod to build from: set 'binary-path' to a circleci-trigger binary"
  dir=$(work_dir)
  out="$dir/circleci-trigger$exe"
  ref=$(printf '%s' "${GITHUB_ACTION_REF:-local}" | tr -c 'A-Za-z0-9._-' '-')
  say "$why: building it from source with $(go version | cut -d' ' -f3)"
  if ! (cd "$src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=source-$ref" -o "$out" .) >&2; then
    fail 2 "go build failed in $src (see above)"
  fi
  printf '%s\n' "$out"
}

main() {
  local path
  path=${INPUT_BINARY_PATH:-${CIRCLECI_TRIGGER_BINARY_PATH:-}}
  if [ -n "$path" ]; then
    path=$(unix_path "$path")
    [ -f "$path" ] || fail 2 "binary-path: $path is not a file"
    [ -x "$path" ] || fail 2 "binary-path: $path is not executable"
    say "using $path (binary-path), as the workflow names it"
    printf '%s\n' "$path"
    return 0
  fi

  platform
  if [ -z "$PINNED_VERSION" ]; then
    from_source "this ref of the action pins no release (uses: ./, a branch or a fork)"
    return 0
  fi
  from_release || from_source "release v$PINNED_VERSION cannot be used here"
}

main
