#!/usr/bin/env bash
# Makes a Docker engine available for tug's agent tests and local clusters: installs Debian's
# docker.io, busybox-static and iptables when they are missing, starts dockerd in the
# background when no engine answers on /var/run/docker.sock, and waits until it does.
# The engine uses the vfs storage driver, which works on every filesystem (overlay does not
# work on these machines). Its log goes to $TUG_DOCKERD_LOG (default /var/log/tug-dockerd.log).
#   bash scripts/setup-docker.sh
set -euo pipefail

SOCKET=/var/run/docker.sock
LOG="${TUG_DOCKERD_LOG:-/var/log/tug-dockerd.log}"
START_TIMEOUT_S=60 # dockerd with vfs starts in 1-3 s here; a cold first start can take longer

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "setup-docker: need root to install and start Docker: run as root" >&2
    exit 1
  fi
fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker >/dev/null 2>&1 || need+=(docker.io)
command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
if [ "${#need[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-docker: no apt-get here; install ${need[*]} yourself" >&2
    exit 1
  fi
  echo "setup-docker: installing ${need[*]} with apt-get"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi

engine_up() { docker -H "unix://$SOCKET" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if engine_up; then
  echo "setup-docker: Docker engine $(docker version --format '{{.Server.Version}}') is running"
  exit 0
fi

echo "setup-docker: starting dockerd (vfs storage), log in $LOG"
# setsid: the engine outlives this script and the shell that ran it.
"${sudo_cmd[@]}" setsid dockerd --storage-driver=vfs -H "unix://$SOCKET" >>"$LOG" 2>&1 </dev/null &
for _ in $(seq 1 "$START_TIMEOUT_S"); do
  if engine_up; then
    echo "setup-docker: Docker engine $(docker version --format '{{.Server.Version}}') is running"
    exit 0
  fi
  sleep 1
done
echo "setup-docker: dockerd did not answer on $SOCKET within ${START_TIMEOUT_S}s; its log:" >&2
tail -n 30 "$LOG" >&2 || true
exit 1
