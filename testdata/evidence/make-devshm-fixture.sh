#!/bin/bash
# A real Podman checkpoint whose /dev/shm holds files (devshm-checkpoint.tar with contents), for
# `ckpt recover`: the corpus fixtures have an empty /dev/shm.
#
#   sudo flock /work/lab.lock testdata/evidence/make-devshm-fixture.sh
#
# -> testdata/evidence/devshm-none.tar and testdata/facts/devshm.json (each file's path, size and
#    sha256 as the container's own busybox sha256sum printed them right before the checkpoint).
# Environment: CKPT_LAB (default <repo>/../shared/checkpoint-lab), ROOT (default /srv/ckpt-lab).
# Idempotent: the container and the output are removed first.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${CKPT_LAB:-$REPO/../shared/checkpoint-lab}
ROOT=${ROOT:-/srv/ckpt-lab}
export ROOT
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }
mkdir -p "$ROOT/work/ckpt-i9" "$ROOT/out/ckpt-i9"
rm -f "$ROOT/out/ckpt-i9/devshm-none.tar" "$ROOT/out/ckpt-i9/devshm-facts.txt"
cat >"$ROOT/work/ckpt-i9/devshm-in-lab.sh" <<'IN'
set -e
NAME=ckpt-i9-devshm
IMG=localhost/ckpt-i9-busybox:lab
podman rm -f -t 0 $NAME >/dev/null 2>&1 || true
if ! podman image exists $IMG; then
  rm -rf /tmp/rootfs; mkdir -p /tmp/rootfs/bin /tmp/rootfs/etc /tmp/rootfs/tmp
  cp /bin/busybox /tmp/rootfs/bin/busybox
  for c in sh sleep cat echo ls mkdir printf find sha256sum wc ln; do ln -s busybox /tmp/rootfs/bin/$c; done
  tar -C /tmp/rootfs -cf /tmp/rootfs.tar .
  podman import /tmp/rootfs.tar $IMG >/dev/null
fi
# two files (one in a subdirectory, one with binary bytes) and a symlink in /dev/shm
podman run -d --name $NAME $IMG sh -c '
  printf "CKPT-DEVSHM-SESSION-KEY-7c1d\n" > /dev/shm/ckpt-session.key
  mkdir /dev/shm/cache
  printf "\001\002\377CKPT-DEVSHM-BLOB-5e20\000end" > /dev/shm/cache/blob.bin
  ln -s /etc/passwd /dev/shm/link
  echo ready > /tmp/ready
  while :; do sleep 1; done' >/dev/null
for i in $(seq 50); do podman exec $NAME cat /tmp/ready >/dev/null 2>&1 && break; sleep 0.2; done
podman exec $NAME sh -c 'cd /dev/shm && for f in $(find . -type f); do echo "$(wc -c < $f) $(sha256sum $f)"; done' > /out/ckpt-i9/devshm-facts.txt
podman container checkpoint --compress none --export /out/ckpt-i9/devshm-none.tar $NAME >/dev/null
podman rm -f -t 0 $NAME >/dev/null
IN
"$LAB/run.sh" bash /work/ckpt-i9/devshm-in-lab.sh
cp "$ROOT/out/ckpt-i9/devshm-none.tar" "$HERE/devshm-none.tar"
python3 - "$ROOT/out/ckpt-i9/devshm-facts.txt" "$REPO/testdata/facts/devshm.json" <<'PY'
import json, sys
files = []
for line in open(sys.argv[1]):
    size, digest, path = line.split()
    files.append({"path": "/dev/shm/" + path.lstrip("./"), "size": int(size), "sha256": digest})
files.sort(key=lambda f: f["path"])
facts = {"container": {"name": "ckpt-i9-devshm", "image": "localhost/ckpt-i9-busybox:lab"},
         "devshm": {"files": files, "symlinks": [{"path": "/dev/shm/link", "target": "/etc/passwd"}],
                    "contents": {"/dev/shm/ckpt-session.key": "CKPT-DEVSHM-SESSION-KEY-7c1d\n"}}}
open(sys.argv[2], "w").write(json.dumps(facts, indent=2) + "\n")
PY
ls -la "$HERE/devshm-none.tar"
