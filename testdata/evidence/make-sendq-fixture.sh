#!/bin/bash
# A real Podman checkpoint with a TCP send queue (the corpus has receive queues only): inside one
# container, `nc -l -p 7010 -e sleep 100000` accepts a connection and hands it to `sleep`, which
# never reads; a second `nc` sends 200000 lines `CKPT-TCP-SENDQ-LINE-<n>\n` (n from 0) read from a
# pipe. When the checkpoint is taken (with --tcp-established) the receiver's queue, the sender's
# send queue and the pipe into the sender hold consecutive parts of that stream.
#
#   sudo flock /work/lab.lock testdata/evidence/make-sendq-fixture.sh
#
# -> testdata/evidence/sendq-zstd.tar (`zstd -19` of the exported --compress none tar: 4.9 MB of
#    repetitive queue data become 92 KB) and testdata/facts/sendq.json.
# Environment: CKPT_LAB (default <repo>/../shared/checkpoint-lab), ROOT (default /srv/ckpt-lab).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${CKPT_LAB:-$REPO/../shared/checkpoint-lab}
ROOT=${ROOT:-/srv/ckpt-lab}
export ROOT
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }
command -v zstd >/dev/null || { echo "zstd not found" >&2; exit 1; }
mkdir -p "$ROOT/work/ckpt-i9" "$ROOT/out/ckpt-i9"
rm -f "$ROOT/out/ckpt-i9/sendq-none.tar"
cat >"$ROOT/work/ckpt-i9/sendq-in-lab.sh" <<'IN'
set -e
NAME=ckpt-i9-sendq
IMG=localhost/ckpt-i9-busybox:lab
podman rm -f -t 0 $NAME >/dev/null 2>&1 || true
if ! podman image exists $IMG; then
  rm -rf /tmp/rootfs; mkdir -p /tmp/rootfs/bin /tmp/rootfs/etc /tmp/rootfs/tmp
  cp /bin/busybox /tmp/rootfs/bin/busybox
  for c in sh sleep cat echo ls mkdir printf find sha256sum wc ln nc; do ln -s busybox /tmp/rootfs/bin/$c; done
  tar -C /tmp/rootfs -cf /tmp/rootfs.tar .
  podman import /tmp/rootfs.tar $IMG >/dev/null
fi
podman run -d --name $NAME $IMG sh -c '
  nc -l -p 7010 -e sleep 100000 &
  sleep 0.5
  (i=0; while [ $i -lt 200000 ]; do echo "CKPT-TCP-SENDQ-LINE-$i"; i=$((i+1)); done) | nc 127.0.0.1 7010 &
  while :; do sleep 1; done' >/dev/null
sleep 8
podman container checkpoint --tcp-established --compress none --export /out/ckpt-i9/sendq-none.tar $NAME >/dev/null
podman rm -f -t 0 $NAME >/dev/null
IN
"$LAB/run.sh" bash /work/ckpt-i9/sendq-in-lab.sh
zstd -19 -q -f "$ROOT/out/ckpt-i9/sendq-none.tar" -o "$HERE/sendq-zstd.tar"
cat >"$REPO/testdata/facts/sendq.json" <<'JSON'
{
  "container": { "name": "ckpt-i9-sendq", "image": "localhost/ckpt-i9-busybox:lab" },
  "stream": { "line": "CKPT-TCP-SENDQ-LINE-%d\n", "first": 0, "count": 200000 },
  "receiver": { "comm": "sleep", "fd": 0, "port": 7010, "reads": false },
  "sender": { "comm": "nc", "fd": 3, "stdin_fd": 0 },
  "order": ["receiver receive queue", "sender send queue", "pipe into the sender"]
}
JSON
ls -la "$HERE/sendq-zstd.tar"
