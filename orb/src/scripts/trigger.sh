#!/bin/sh
# Runs circleci-trigger with the orb's parameters, which CircleCI passes as
# CIRCLECI_TRIGGER_* environment variables: nothing here is eval'ed or left
# unquoted. Uses the binary on PATH (the circleci-trigger image), or
# downloads the release for this platform into a temporary folder, checks
# its sha256, runs it, and removes the folder, whatever the outcome.
# POSIX sh: Linux and macOS shells, and Git Bash on Windows.
set -eu

# The release workflow pins these when it publishes the orb.
PINNED_VERSION=""
PINNED_SHA256SUMS=""

die() { # exit code, message
  code=$1
  shift
  echo "circleci-trigger orb: $*" >&2
  exit "$code"
}

# The token: the parameter names the variable that holds it.
token_var="${CIRCLECI_TRIGGER_TOKEN_VAR:-CIRCLE_TOKEN}"
unset CIRCLECI_TRIGGER_TOKEN_VAR
case "$token_var" in
  "" | [0-9]* | *[!A-Za-z0-9_]*)
    die 2 "token must name an environment variable, got '$token_var'" ;;
esac
token="$(printenv "$token_var" || true)"
if [ -z "$token" ]; then
  die 2 "\$$token_var is empty: add a personal API token to the project's environment variables or a context"
fi
CIRCLE_TOKEN="$token"
export CIRCLE_TOKEN
unset token

# String parameters. Empty means "not given": the tool applies its default.
# A value holding $VAR or ${VAR} is expanded the CircleCI way, by
# `circleci env subst` (an unset variable becomes empty). Without the
# circleci CLI in the job, values are used as written.
have_cli=false
if command -v circleci >/dev/null 2>&1; then
  have_cli=true
fi
for name in PROJECT_SLUG BRANCH TAG PARAMETERS DEFINITION_ID HOST PIPELINE_ID \
  TIMEOUT POLL_INTERVAL MAX_POLL_INTERVAL TARGETS CONCURRENCY SHARD VERSION; do
  var="CIRCLECI_TRIGGER_$name"
  value="$(printenv "$var" || true)"
  if [ -z "$value" ]; then
    unset "$var"
    continue
  fi
  case "$value" in
    *'$'*)
      if $have_cli; then
        value="$(printf '%s' "$value" | circleci env subst)" ||
          die 2 "circleci env subst failed on $var: update the circleci CLI, or remove the \$ from the parameter"
        export "$var=$value"
      else
        echo "circleci-trigger orb: no circleci CLI in this job: $var keeps its \$ as written" >&2
      fi ;;
  esac
done
version="${CIRCLECI_TRIGGER_VERSION:-$PINNED_VERSION}"
unset CIRCLECI_TRIGGER_VERSION

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

fetch() { # url file
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 --proto '=https,http' -o "$2" "$1"
  else
    wget -q -O "$2" "$1"
  fi
}

# install_binary downloads and verifies the release binary into $tmp and
# sets bin.
install_binary() {
  [ -n "$version" ] || die 2 "circleci-trigger is not on PATH and this orb pins no release: set the version parameter"
  if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then
    die 2 "neither curl nor wget is installed, so circleci-trigger cannot be downloaded: install one (apt-get install -y curl, apk add curl, …) or use an executor with circleci-trigger on PATH"
  fi
  if ! command -v sha256sum >/dev/null 2>&1 && ! command -v shasum >/dev/null 2>&1; then
    die 2 "neither sha256sum nor shasum is installed, so the download cannot be verified: install coreutils or perl"
  fi
  ext=""
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) os=windows ext=.exe ;;
    *) die 2 "no circleci-trigger release for $(uname -s): put circleci-trigger on PATH" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64 | x64) arch=amd64 ;;
    aarch64 | arm64 | armv8*) arch=arm64 ;;
    *) die 2 "no circleci-trigger release for $(uname -m): put circleci-trigger on PATH" ;;
  esac
  asset="circleci-trigger_${os}_${arch}${ext}"
  base="${CIRCLECI_TRIGGER_DOWNLOAD_URL:-https://github.com/circleci-trigger/circleci-trigger/releases/download}/v${version}"
  fetch "$base/$asset" "$tmp/$asset" || die 4 "could not download $base/$asset"

  # Checksums: CIRCLECI_TRIGGER_SHA256SUMS (a mirror's own list), else
  # those pinned in the orb for its own release, else the release's file.
  sums="${CIRCLECI_TRIGGER_SHA256SUMS:-}"
  if [ -z "$sums" ] && [ "$version" = "$PINNED_VERSION" ]; then
    sums="$PINNED_SHA256SUMS"
  fi
  if [ -z "$sums" ]; then
    fetch "$base/checksums.txt" "$tmp/checksums.txt" || die 4 "could not download $base/checksums.txt"
    sums="$(cat "$tmp/checksums.txt")"
  fi
  want="$(printf '%s\n' "$sums" | awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }')"
  [ -n "$want" ] || die 4 "no checksum for $asset: refusing to run it"
  got="$(sha256 "$tmp/$asset")"
  if [ "$got" != "$want" ]; then
    rm -f "$tmp/$asset"
    die 4 "checksum mismatch for $asset (got $got, want $want): refusing to run it"
  fi
  chmod +x "$tmp/$asset"
  bin="$tmp/$asset"
}

# With `parallelism: N` every node runs this step: only a release that
# takes its share of the targets from CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL
# may run there, or each pipeline would be triggered N times.
check_parallelism() {
  [ "${CIRCLE_NODE_TOTAL:-1}" != 1 ] || return 0
  help="$("$1" --help 2>&1 || true)"
  case "$help" in
    *shard*) ;;
    *) die 2 "this job runs on ${CIRCLE_NODE_TOTAL} parallel nodes, but this circleci-trigger release cannot share targets between them: every node would trigger every pipeline; remove parallelism" ;;
  esac
}

if command -v circleci-trigger >/dev/null 2>&1; then
  # Nothing to clean up: the process becomes the binary.
  check_parallelism circleci-trigger
  unset CIRCLECI_TRIGGER_DOWNLOAD_URL CIRCLECI_TRIGGER_SHA256SUMS
  exec circleci-trigger
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Until the binary runs, a cancel just ends the script (and the EXIT trap
# cleans up); sh does not run EXIT traps on signals by itself.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
install_binary
check_parallelism "$bin"
unset CIRCLECI_TRIGGER_DOWNLOAD_URL CIRCLECI_TRIGGER_SHA256SUMS

# Run the binary as a child, not with exec, so the folder can be removed
# after it. A cancelled job signals this shell: pass the signal on (the
# binary then cancels the downstream workflows with cancel_on_exit), wait
# for the binary to finish, and exit with its status.
signalled=""
# shellcheck disable=SC2317 # called by the traps below
forward() {
  signalled=$1
  kill -s "$1" "$child" 2>/dev/null || true
}
"$bin" &
child=$!
trap 'forward TERM' TERM
trap 'forward INT' INT
trap 'forward HUP' HUP
status=0
wait "$child" || status=$?
while [ -n "$signalled" ]; do
  # The signal cut the wait short: wait for the binary's own status (127:
  # it had already been collected).
  signalled=""
  again=0
  wait "$child" 2>/dev/null || again=$?
  [ "$again" = 127 ] || status=$again
done
exit "$status"
