#!/bin/bash
# Makes the `ckpt diff` fixture pair: ONE container of diff-workload.c checkpointed twice with
# --leave-running, before (a.tar) and after (b.tar) it changes things (see diff-workload.c).
#
#   sudo flock /work/lab.lock testdata/diff/make-diff-pair.sh
#
# Environment: CKPT_LAB (lab scripts, default <repo>/../shared/checkpoint-lab), ROOT (lab root,
# default /srv/ckpt-lab).  Writes testdata/diff/{a.tar,b.tar,facts.json}.  Idempotent: the
# container, image and lab outputs (all named ckpt-i12-diff*) are removed first.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${CKPT_LAB:-$REPO/../shared/checkpoint-lab}
[ -x "$LAB/run.sh" ] || LAB=/work/shared/checkpoint-lab
ROOT=${ROOT:-/srv/ckpt-lab}
export ROOT
W=$ROOT/work/ckpt-i12-diff
O=$ROOT/out/ckpt-i12-diff
rm -rf "$W" "$O"
mkdir -p "$W" "$O"
gcc -static -O1 -pthread -Wall -Wextra -o "$W/diff-workload" "$HERE/diff-workload.c" 2> >(grep -v 'statically linked' >&2)
cat >"$W/in-lab.sh" <<'IN'
set -euo pipefail
W=/work/ckpt-i12-diff
O=/out/ckpt-i12-diff
IMAGE=localhost/ckpt-i12-diff:lab
NAME=ckpt-i12-diff
podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
R=/tmp/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/tmp"
chmod 1777 "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
for c in sh sleep cat echo ls; do ln -s busybox "$R/bin/$c"; done
install -m 0755 "$W/diff-workload" "$R/diff-workload"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
tar -C "$R" --numeric-owner --owner=0 --group=0 --mtime=@1700000000 -cf /tmp/rootfs.tar .
podman import /tmp/rootfs.tar "$IMAGE" >/dev/null
wait_line() { # phase
	for _ in $(seq 1 100); do
		podman logs "$NAME" 2>/dev/null | grep -q "^{\"phase\":\"$1\"" && return 0
		sleep 0.1
	done
	podman logs "$NAME" >&2 || true
	echo "no facts line $1" >&2
	return 1
}
trap 'podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true' EXIT
podman run -d --name "$NAME" --hostname "$NAME" -e DIFF_SECRET=ckpt-i12 "$IMAGE" /diff-workload >/dev/null
wait_line a
sleep 0.3
podman container checkpoint --leave-running --tcp-established --compress none --export "$O/a.tar" "$NAME" >/dev/null
podman kill -s USR1 "$NAME" >/dev/null
wait_line b
podman container checkpoint --leave-running --tcp-established --compress none --export "$O/b.tar" "$NAME" >/dev/null
podman logs "$NAME" | grep '^{' >"$O/facts.lines"
podman inspect --format '{{.Id}} {{.Image}}' "$NAME" >"$O/ids.txt"
{ criu --version | head -n 1; podman --version; } >"$O/versions.txt"
IN
"$LAB/run.sh" bash /work/ckpt-i12-diff/in-lab.sh
cp "$O/a.tar" "$HERE/a.tar"
cp "$O/b.tar" "$HERE/b.tar"
python3 - "$O/facts.lines" "$O/ids.txt" "$O/versions.txt" "$HERE/facts.json" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cid, image = open(sys.argv[2]).read().split()
out = {"container": {"name": "ckpt-i12-diff", "id": cid, "image": "localhost/ckpt-i12-diff:lab", "image_id": image},
       "versions": open(sys.argv[3]).read().strip().splitlines(),
       "a": next(l for l in lines if l["phase"] == "a"), "b": next(l for l in lines if l["phase"] == "b")}
open(sys.argv[4], "w").write(json.dumps(out, indent=2) + "\n")
PY
rm -rf "$W" "$O"
ls -la "$HERE"
