#!/bin/sh
# Runs circleci-trigger with the orb's parameters, which CircleCI passes as
# CIRCLECI_TRIGGER_* environment variables: nothing here is eval'ed or left
# unquoted. Uses the binary on PATH (the circleci-trigger image), or
# downloads the release for this platform and checks its sha256 first.
set -eu

# The release workflow pins these when it publishes the orb.
PINNED_VERSION=""
PINNED_SHA256SUMS=""

fail() {
  echo "circleci-trigger orb: $*" >&2
  exit 4
}

# The token: the parameter names the variable that holds it.
token_var="${CIRCLECI_TRIGGER_TOKEN_VAR:-CIRCLE_TOKEN}"
unset CIRCLECI_TRIGGER_TOKEN_VAR
case "$token_var" in
  "" | [0-9]* | *[!A-Za-z0-9_]*)
    echo "circleci-trigger orb: token must name an environment variable, got '$token_var'" >&2
    exit 2 ;;
esac
token="$(printenv "$token_var" || true)"
if [ -z "$token" ]; then
  echo "circleci-trigger orb: \$$token_var is empty: add a personal API token to the project's environment variables or a context" >&2
  exit 2
fi
CIRCLE_TOKEN="$token"
export CIRCLE_TOKEN
unset token

# Empty parameters mean "not given": let the tool apply its defaults.
for name in PROJECT_SLUG BRANCH TAG PARAMETERS DEFINITION_ID HOST PIPELINE_ID TARGETS VERSION; do
  if [ -z "$(printenv "CIRCLECI_TRIGGER_$name" || true)" ]; then
    unset "CIRCLECI_TRIGGER_$name"
  fi
done

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

install_binary() {
  version="${CIRCLECI_TRIGGER_VERSION:-$PINNED_VERSION}"
  [ -n "$version" ] || fail "circleci-trigger is not on PATH and this orb pins no release: set the version parameter"
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) fail "no circleci-trigger release for $(uname -s)" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) fail "no circleci-trigger release for $(uname -m)" ;;
  esac
  asset="circleci-trigger_${os}_${arch}"
  base="${CIRCLECI_TRIGGER_DOWNLOAD_URL:-https://github.com/circleci-trigger/circleci-trigger/releases/download}/v${version}"
  dir="$(mktemp -d)"
  fetch "$base/$asset" "$dir/$asset" || fail "could not download $base/$asset"

  # Checksums: pinned in the orb for its own release; for another version,
  # the release's checksums file.
  sums="${CIRCLECI_TRIGGER_SHA256SUMS:-}"
  if [ -z "$sums" ] && [ "$version" = "$PINNED_VERSION" ]; then
    sums="$PINNED_SHA256SUMS"
  fi
  if [ -z "$sums" ]; then
    fetch "$base/checksums.txt" "$dir/checksums.txt" || fail "could not download $base/checksums.txt"
    sums="$(cat "$dir/checksums.txt")"
  fi
  want="$(printf '%s\n' "$sums" | awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }')"
  [ -n "$want" ] || fail "no checksum for $asset: refusing to run it"
  got="$(sha256 "$dir/$asset")"
  if [ "$got" != "$want" ]; then
    rm -f "$dir/$asset"
    fail "checksum mismatch for $asset (got $got, want $want): refusing to run it"
  fi
  chmod +x "$dir/$asset"
  bin="$dir/$asset"
}

if command -v circleci-trigger >/dev/null 2>&1; then
  bin="$(command -v circleci-trigger)"
else
  install_binary
fi
exec "$bin"
