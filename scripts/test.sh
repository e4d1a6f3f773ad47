#!/usr/bin/env bash
# The one command that tests tug: installs dependencies exactly as locked, checks that the
# committed generated code matches proto/, type-checks, lints and runs every test. Starts a
# Docker engine (vfs) and builds the local images if they are missing.
# Needs Node 20 or newer; installs pnpm if it is missing. Run from anywhere:
#   bash scripts/test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PNPM_VERSION=9.15.9 # keep in step with "packageManager" in package.json
step="setup"
trap 'status=$?; if [ "$status" -ne 0 ]; then echo "test.sh: FAILED at step: $step (exit $status)" >&2; fi' EXIT

run() {
  step="$1"
  shift
  echo
  echo "==> $step: $*"
  "$@"
}

if ! command -v node >/dev/null 2>&1; then
  echo "test.sh: node is not installed; tug needs Node.js 20 or newer" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "test.sh: Node.js $(node --version) is too old; tug needs 20 or newer" >&2
  exit 1
fi
if ! command -v pnpm >/dev/null 2>&1; then
  run "install pnpm" npm install -g "pnpm@$PNPM_VERSION"
fi

run "install system programs (etcd, etcdctl)" bash scripts/setup-system.sh
# The agent's and the runtime's tests drive real containers: they fail, never skip, without
# an engine and the local images.
run "install and start Docker" bash scripts/setup-docker.sh
run "build local images" bash scripts/build-images.sh
run "install dependencies" pnpm install --frozen-lockfile
run "generated code up to date" node scripts/gen-proto.mjs --check
run "type-check" pnpm exec tsc -b
run "lint" pnpm exec biome check .
run "tests" pnpm exec vitest run

step="done"
echo
echo "test.sh: all steps passed"
