#!/usr/bin/env bash
# Installs the system programs tug's tests run against, if they are missing: the real etcd
# 3.4 (etcd-server) and etcdctl (etcd-client) from Debian. Tests never skip when these are
# absent; they fail, so this must run first. Needs root (or sudo) and Debian's apt.
#   bash scripts/setup-system.sh
set -euo pipefail

need=()
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)

if [ "${#need[@]}" -eq 0 ]; then
  echo "setup-system: etcd and etcdctl are present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "setup-system: need root to install ${need[*]}: run as root, or install them yourself" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: no apt-get here; install ${need[*]} (etcd 3.4 and etcdctl) yourself" >&2
  exit 1
fi

echo "setup-system: installing ${need[*]} with apt-get"
"${sudo_cmd[@]}" apt-get update -qq
# Debian's etcd-server package may try to start a service; nothing here depends on it.
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}"
command -v etcdctl >/dev/null && command -v etcd >/dev/null
echo "setup-system: done"
