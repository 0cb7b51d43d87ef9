#!/bin/bash
# Runs INSIDE the checkpoint lab (started by testdata/make-compromised.sh through the lab's run.sh).
# Inputs:  /work/ckpt-i10/root/ (implant, libhook.so, glibc's loader and libc, built on the host)
# Outputs: /out/ckpt-i10/compromised-none.tar, facts.line, proc/<pid>.{maps,comm,exe,cmdline}, oracle/
set -euo pipefail
W=/work/ckpt-i10
O=/out/ckpt-i10
IMAGE=localhost/ckpt-i10-compromised:lab
NAME=ckpt-i10-compromised
log() { echo "[compromised] $*" >&2; }

rm -rf "$O"
mkdir -p "$O/proc"
podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
podman rmi -f "$IMAGE" >/dev/null 2>&1 || true

R=/tmp/rootfs
rm -rf "$R"
cp -a "$W/root" "$R"
mkdir -p "$R/bin" "$R/etc/cron.d" "$R/tmp" "$R/var/tmp" "$R/root" "$R/usr/local/bin"
chmod 1777 "$R/tmp" "$R/var/tmp"
cp /bin/busybox "$R/bin/busybox"
for c in sh cat ls readlink tr; do ln -s busybox "$R/bin/$c"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
tar -C "$R" --numeric-owner --owner=0 --group=0 --mtime=@1700000000 -cf /tmp/rootfs.tar .
podman import /tmp/rootfs.tar "$IMAGE" >/dev/null
log "image $IMAGE imported"

podman run -d --name "$NAME" --hostname "$NAME" "$IMAGE" /usr/bin/implant >/dev/null
for _ in $(seq 1 100); do
	podman logs "$NAME" 2>/dev/null | grep -q '^{' && break
	if [ "$(podman inspect --format '{{.State.Running}}' "$NAME")" != true ]; then podman logs "$NAME" >&2 || true; log "container exited"; exit 1; fi
	sleep 0.1
done
podman logs "$NAME" | grep '^{' | head -n 1 >"$O/facts.line"
[ -s "$O/facts.line" ] || { podman logs "$NAME" >&2; log "no facts line"; exit 1; }
podman inspect --format '{{.Id}}' "$NAME" >"$O/id.txt"
podman inspect --format '{{.Image}}' "$NAME" >"$O/image.txt"

# what the kernel says about every process, read inside the container before the checkpoint
podman exec "$NAME" sh -c '
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	[ "$p" = "$$" ] && continue
	[ -r "$d/maps" ] || continue
	cat "$d/maps" > /tmp/.m 2>/dev/null || continue
	echo "== $p"
	echo "comm $(cat $d/comm)"
	echo "exe $(readlink $d/exe)"
	echo "cmdline $(tr "\0" " " < $d/cmdline)"
	echo "fds $(for f in $d/fd/*; do echo -n "${f##*/}=$(readlink $f);"; done)"
	cat /tmp/.m
done; rm -f /tmp/.m' >"$O/proc.txt"
sleep 0.3

log "checkpointing $NAME"
podman container checkpoint --tcp-established --compress none --export "$O/compromised-none.tar" "$NAME" >/dev/null
podman rm -f -t 0 "$NAME" >/dev/null
podman rmi -f "$IMAGE" >/dev/null 2>&1 || true

# oracle: crit's own decoding of every protobuf image (as testdata/lab/corpus-in-lab.sh does)
rm -rf /tmp/x && mkdir -p /tmp/x "$O/oracle"
tar -C /tmp/x -xf "$O/compromised-none.tar"
: >"$O/oracle/_skipped.txt"
for img in /tmp/x/checkpoint/*.img; do
	b=$(basename "$img" .img)
	case $b in
	pages-*) echo "$b.img: raw page data (no protobuf); read through pagemap-*.img" >>"$O/oracle/_skipped.txt"; continue ;;
	esac
	if ! crit decode --pretty -i "$img" -o "$O/oracle/$b.json" 2>/tmp/crit.err; then
		rm -f "$O/oracle/$b.json"
		echo "$b.img: crit decode failed: $(tail -n 1 /tmp/crit.err)" >>"$O/oracle/_skipped.txt"
	fi
done
ls -la "$O"
