#!/usr/bin/env bash
# The one command that brings up tug on this machine and runs the main job. On a Debian machine
# with Node.js 20 or newer it installs what is missing (pnpm, etcd client tools, the Docker
# engine, the local images, the locked packages), builds, starts a local cluster with
# `tug up` (3 tug-store members, an API server, the scheduler, the controller manager and two
# node agents with their runtimes), then applies the example Deployment and NodePort Service,
# waits for the Deployment to be ready and fetches the page its pods serve through NodePort 31515.
# Arguments go to `tug up` (e.g. --agents 1). Run from anywhere:
#   bash scripts/up.sh
# Stop it all with: node packages/cli/dist/bin/tug.js down
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PNPM_VERSION=9.15.9 # keep in step with "packageManager" in package.json
DEPLOY_READY_TIMEOUT_S=180 # 3 pods pulled from local images start in ~20 s; cold machines are slower
FETCH_TIMEOUT_S=5
NODE_PORT_TIMEOUT_S=30 # the proxy syncs at most once a second; endpoints follow readiness
step="setup"
trap 'status=$?; if [ "$status" -ne 0 ]; then echo "up.sh: FAILED at step: $step (exit $status)" >&2; fi' EXIT

run() {
  step="$1"
  shift
  echo
  echo "==> $step: $*"
  "$@"
}

if ! command -v node >/dev/null 2>&1; then
  echo "up.sh: node is not installed; tug needs Node.js 20 or newer" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "up.sh: Node.js $(node --version) is too old; tug needs 20 or newer" >&2
  exit 1
fi
if ! command -v pnpm >/dev/null 2>&1; then
  run "install pnpm" npm install -g "pnpm@$PNPM_VERSION"
fi

run "install system programs (etcd, etcdctl)" bash scripts/setup-system.sh
run "install and start Docker" bash scripts/setup-docker.sh
run "build local images" bash scripts/build-images.sh
run "install dependencies" pnpm install --frozen-lockfile
run "build" pnpm build

tug() { node packages/cli/dist/bin/tug.js "$@"; }

if tug status >/dev/null 2>&1; then
  echo
  echo "==> a local cluster is already up and healthy; using it (tug status shows it)"
else
  run "start the cluster" tug up "$@"
fi

step="main job"
echo
echo "==> main job: the example Deployment and NodePort Service"
tug apply -f packages/api/test/fixtures/client-deployment.yaml
tug apply -f packages/api/test/fixtures/client-node-port.yaml

echo "waiting for deployment client-deployment to be ready (up to ${DEPLOY_READY_TIMEOUT_S}s)..."
deadline=$((SECONDS + DEPLOY_READY_TIMEOUT_S))
while :; do
  want="$(tug get deployment client-deployment -o 'jsonpath={.spec.replicas}')"
  ready="$(tug get deployment client-deployment -o 'jsonpath={.status.readyReplicas}')"
  echo "  ${ready:-0}/${want} ready"
  if [ -n "$ready" ] && [ "$ready" = "$want" ]; then break; fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    tug get pods -l component=web -o wide
    echo "up.sh: deployment client-deployment not ready after ${DEPLOY_READY_TIMEOUT_S}s; see tug describe pods -l component=web" >&2
    exit 1
  fi
  sleep 2
done
tug get pods -l component=web -o wide

# Fetch with Node (curl may be missing on a fresh machine); prints the body, fails on no answer.
fetch_page() {
  node -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(Number(process.argv[2]) * 1000) })
      .then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); })
      .catch(() => process.exit(1));
  ' "$1" "$FETCH_TIMEOUT_S"
}

# The NodePort answers on every address of the host (tug up's nodes share it), 127.0.0.1
# included; the first node's agent programs it within a second or two of the pods turning ready.
node_ip="$(tug get nodes -o 'jsonpath={.items[0].status.addresses[0].address}')"
node_port_url="http://${node_ip}:31515/"
echo
echo "==> GET $node_port_url (the NodePort Service client-node-port):"
deadline=$((SECONDS + NODE_PORT_TIMEOUT_S))
until answer="$(fetch_page "$node_port_url")"; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    tug get service client-node-port -o wide
    echo "up.sh: $node_port_url did not answer within ${NODE_PORT_TIMEOUT_S}s; see the first agent's log ($HOME/.tug/cluster/logs/agent-tug-node-1.log) and iptables-save -t nat | grep TUG-" >&2
    exit 1
  fi
  sleep 1
done
echo "$answer"

step="done"
echo
echo "up.sh: the cluster is up and the main job ran. Try: node packages/cli/dist/bin/tug.js get pods -o wide"
echo "       stop it with: node packages/cli/dist/bin/tug.js down"
