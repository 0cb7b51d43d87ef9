#!/bin/bash
# Runs INSIDE the checkpoint lab (started by testdata/piggie/make-piggie.sh through the lab's run.sh).
# Input:  /work/ckpt-i14-piggie/ckpt-piggie (static binary built on the host)
# Output: /out/ckpt-i14-piggie/piggie.tar (podman checkpoint --export, no compression),
#         facts.line, id.txt, versions.txt, oracle/*.json (crit decode --pretty of every protobuf image)
set -euo pipefail
W=/work/ckpt-i14-piggie
O=/out/ckpt-i14-piggie
IMAGE=localhost/ckpt-i14-piggie:fixture
NAME=ckpt-i14-piggie
log() { echo "[piggie] $*" >&2; }
rm -rf "$O"; mkdir -p "$O"
podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
R=/tmp/rootfs; rm -rf "$R"; mkdir -p "$R/bin" "$R/etc" "$R/tmp"
chmod 1777 "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
for c in sh sleep cat; do ln -s busybox "$R/bin/$c"; done
install -m 0755 "$W/ckpt-piggie" "$R/piggie"
printf 'piggie configuration: the regular file pid 1 keeps open\n' >"$R/etc/piggie.conf"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
tar -C "$R" --numeric-owner --owner=0 --group=0 --mtime=@1700000000 -cf /tmp/rootfs.tar .
podman import /tmp/rootfs.tar "$IMAGE" >/dev/null
podman run -d --name "$NAME" --hostname "$NAME" -e TEST_ENV=BAR -e TEST_ENV_EMPTY= "$IMAGE" /piggie >/dev/null
for _ in $(seq 1 100); do podman logs "$NAME" 2>/dev/null | grep -q '^{' && break; sleep 0.1; done
podman logs "$NAME" | grep '^{' | head -n 1 >"$O/facts.line"
[ -s "$O/facts.line" ] || { podman logs "$NAME" >&2; log "no facts line"; podman rm -f -t 0 "$NAME"; exit 1; }
podman inspect --format '{{.Id}}' "$NAME" >"$O/id.txt"
podman exec "$NAME" cat /proc/1/status >/dev/null 2>&1 || true
log "checkpointing"
podman container checkpoint --tcp-established --compress none --export "$O/piggie.tar" "$NAME" >/dev/null
podman rm -f -t 0 "$NAME" >/dev/null
podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
mkdir -p /tmp/x "$O/oracle" && tar -C /tmp/x -xf "$O/piggie.tar"
for img in /tmp/x/checkpoint/*.img; do
	b=$(basename "$img" .img)
	case $b in pages-*) continue ;; esac
	crit decode --pretty -i "$img" -o "$O/oracle/$b.json" 2>/dev/null || rm -f "$O/oracle/$b.json"
done
crit decode --pretty -i /tmp/x/stats-dump -o "$O/oracle/stats-dump.json" 2>/dev/null || true
{ criu --version; podman --version; uname -r; } >"$O/versions.txt" 2>&1 || true
log done
