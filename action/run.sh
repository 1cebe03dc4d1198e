#!/usr/bin/env bash
# The action's one step: get the binary (install.sh) and run it with the
# step's environment, where action.yml puts every input as INPUT_<NAME>
# (an empty value means "not set", so env configuration still applies).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$(bash "$here/install.sh")

# GitHub's runner gives a composite action's steps no INPUT_* variables of
# its own; act (nektos/act#2874) also exports each input under its dashed
# name (INPUT_PROJECT-SLUG). Drop those, so that act runs the binary exactly
# as GitHub does.
drop=()
while IFS= read -r name; do
  drop+=(-u "$name")
done < <(env | sed -n 's/^\(INPUT_[A-Za-z0-9_]*-[A-Za-z0-9_-]*\)=.*/\1/p')

exec env ${drop[@]+"${drop[@]}"} "$bin"
