#!/bin/bash
# Makes the coredump fixture with Podman + CRIU in the checkpoint lab:
#   testdata/coredump/dyn-none.tar    a checkpoint of ckpt-dyn (dynamically linked, 2 threads)
#   testdata/coredump/dyn-root.tar.xz the image's root: ckpt-dyn, ld-linux, libc.so.6, libthread_db
#                                     and a data file (for `ckpt coredump --rootfs` and gdb's `set sysroot`)
#   testdata/coredump/dyn.json        the facts line the program printed (pids, addresses)
#   testdata/coredump/oracle/         crit decode of the core-*.img and mm-*.img images
#
#   sudo flock /work/lab.lock testdata/coredump/make-fixture.sh
#
# The root holds the host's glibc (the one gcc links against). Runs as root; CKPT_LAB and ROOT as
# for testdata/make-corpus.sh. Containers and the image are named ckpt-i11-* and removed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${CKPT_LAB:-$REPO/../shared/checkpoint-lab}
[ -x "$LAB/run.sh" ] || LAB=/work/shared/checkpoint-lab
ROOT=${ROOT:-/srv/ckpt-lab}
export ROOT
W=$ROOT/work/ckpt-i11
O=$ROOT/out/ckpt-i11
rm -rf "$W" "$O"
mkdir -p "$W/root/lib/x86_64-linux-gnu" "$W/root/lib64" "$W/root/etc" "$W/root/var" "$O"

gcc -O1 -g -pthread -Wall -Wextra -o "$W/root/ckpt-dyn" "$HERE/ckpt-dyn.c"
cp -L /lib/x86_64-linux-gnu/libc.so.6 "$W/root/lib/x86_64-linux-gnu/libc.so.6"
cp -L /lib64/ld-linux-x86-64.so.2 "$W/root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
# glibc's libthread_db (as in any Debian root): gdb needs the one matching the inferior's libc
cp -L /lib/x86_64-linux-gnu/libthread_db.so.1 "$W/root/lib/x86_64-linux-gnu/libthread_db.so.1"
ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$W/root/lib64/ld-linux-x86-64.so.2"
printf 'CKPT-DYN-IMAGE-SECRET-19f0\n' >"$W/root/etc/ckpt-image-data"
tar -C "$W/root" --numeric-owner --owner=0 --group=0 --mtime=@1700000000 --sort=name -cf "$W/root.tar" .

cat >"$W/in-lab.sh" <<'LAB'
set -euo pipefail
W=/work/ckpt-i11
O=/out/ckpt-i11
IMAGE=localhost/ckpt-i11-dyn:fixture
podman rm -f -t 0 ckpt-i11-dyn >/dev/null 2>&1 || true
podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
podman import "$W/root.tar" "$IMAGE" >/dev/null
podman run -d --name ckpt-i11-dyn "$IMAGE" /ckpt-dyn >/dev/null
for _ in $(seq 1 100); do podman logs ckpt-i11-dyn 2>/dev/null | grep -q '^{' && break; sleep 0.1; done
podman logs ckpt-i11-dyn | grep '^{' | head -n 1 >"$O/dyn.json"
podman container checkpoint --compress none --export "$O/dyn-none.tar" ckpt-i11-dyn >/dev/null
podman rm -f -t 0 ckpt-i11-dyn >/dev/null
podman rmi -f "$IMAGE" >/dev/null
mkdir -p /tmp/x "$O/oracle"
tar -C /tmp/x -xf "$O/dyn-none.tar" checkpoint
for f in /tmp/x/checkpoint/core-*.img /tmp/x/checkpoint/mm-*.img /tmp/x/checkpoint/pstree.img; do
	crit decode --pretty -i "$f" >"$O/oracle/$(basename "$f" .img).json"
done
LAB
"$LAB/run.sh" bash /work/ckpt-i11/in-lab.sh

[ -s "$O/dyn.json" ] || { echo "make-fixture: no facts line" >&2; exit 1; }
cp "$O/dyn-none.tar" "$HERE/dyn-none.tar"
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), indent=2))' "$O/dyn.json" >"$HERE/dyn.json"
rm -rf "$HERE/oracle"
cp -r "$O/oracle" "$HERE/oracle"
xz -9e -T1 <"$W/root.tar" >"$HERE/dyn-root.tar.xz"
chmod -R u+rwX,go+rX "$HERE"
ls -l "$HERE"
