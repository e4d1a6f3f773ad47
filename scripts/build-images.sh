#!/usr/bin/env bash
# Builds the local images tug's tests and examples use, since no registry is reachable here:
#   tug/busybox:latest  a shell, httpd, wget, nc, sleep ... (Debian's busybox-static)
#   tug/pause:latest    holds a pod's network namespace; exits at once on SIGTERM/SIGINT
# Each is a `docker import` of a root filesystem made from /usr/bin/busybox. An image that
# exists already is kept unless --force is given. Needs a running engine (setup-docker.sh).
#   bash scripts/build-images.sh [--force]
set -euo pipefail

force=0
[ "${1:-}" = "--force" ] && force=1

BUSYBOX="$(command -v busybox || true)"
if [ -z "$BUSYBOX" ]; then
  echo "build-images: busybox is not installed; run scripts/setup-docker.sh first" >&2
  exit 1
fi
if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "build-images: no Docker engine answers; run scripts/setup-docker.sh first" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A root filesystem with busybox and a link for each of its applets, plus the files programs
# expect to find (passwd, group, hosts, resolv.conf and nsswitch are bind-mounted by Docker).
make_rootfs() {
  local root="$1"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/www,proc,sys,dev,root,home}
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list-full); do
    [ "$applet" = "bin/busybox" ] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

build() {
  local image="$1" cmd="$2"
  if [ "$force" -eq 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
    echo "build-images: $image is present"
    return
  fi
  local root="$work/${image//[\/:]/_}"
  make_rootfs "$root"
  tar -C "$root" -c . | docker import \
    --change "CMD $cmd" \
    --change "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "LABEL io.tug.image=$image" \
    - "$image" >/dev/null
  echo "build-images: built $image ($(docker image inspect "$image" --format '{{.Size}}') bytes)"
}

build tug/busybox:latest '["sh"]'
# PID 1 gets no default signal handlers, so the pause process traps TERM and INT itself and
# waits on a child sleep (busybox's sleep has no "infinity"; 2^31-1 s is 68 years).
build tug/pause:latest '["/bin/sh", "-c", "trap \"exit 0\" TERM INT; sleep 2147483647 & wait"]'
