#!/bin/bash
# End to end with real tools: a counting container is checkpointed in the lab, `ckpt build` turns
# the archive into an OCI checkpoint image (oci-archive tar), skopeo inspects it (--raw and not),
# Podman loads it and restores a container FROM THE IMAGE, and the counter carries on from the
# checkpointed value.  The log of the run is written to testdata/oci/build-e2e.log (committed).
#
#   sudo testdata/oci/make-build-e2e.sh        # takes the lab lock itself, once per lab call
#
# Needs: the checkpoint lab (CKPT_LAB, default <repo>/../shared/checkpoint-lab; ROOT default
# /srv/ckpt-lab), a built ckpt (npm run build), and skopeo inside the lab (installed when absent).
# Names: container/image/outputs all start with ckpt-i12-build; everything is removed at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${CKPT_LAB:-$REPO/../shared/checkpoint-lab}
[ -x "$LAB/run.sh" ] || LAB=/work/shared/checkpoint-lab
ROOT=${ROOT:-/srv/ckpt-lab}
export ROOT
LOCK=${CKPT_LAB_LOCK:-/work/lab.lock}
W=$ROOT/work/ckpt-i12-build
O=$ROOT/out/ckpt-i12-build
LOG=$HERE/build-e2e.log
rm -rf "$W" "$O"
mkdir -p "$W" "$O"
exec > >(tee "$LOG") 2>&1
echo "# testdata/oci/make-build-e2e.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
lab() { flock "$LOCK" "$LAB/run.sh" "$@"; }

# ---- 1. in the lab: a counting container, checkpointed to an archive, then removed ----
cat >"$W/checkpoint.sh" <<'IN'
set -euo pipefail
IMAGE=localhost/ckpt-i12-build-base:lab
NAME=ckpt-i12-build
podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
if ! podman image exists "$IMAGE"; then
	R=/tmp/rootfs
	mkdir -p "$R/bin" "$R/tmp"
	cp /bin/busybox "$R/bin/busybox"
	for c in sh sleep echo cat; do ln -s busybox "$R/bin/$c"; done
	tar -C "$R" --numeric-owner --owner=0 --group=0 -cf /tmp/rootfs.tar .
	podman import /tmp/rootfs.tar "$IMAGE" >/dev/null
fi
podman run -d --name "$NAME" "$IMAGE" sh -c 'i=0; while true; do i=$((i+1)); echo "count=$i"; sleep 0.2; done' >/dev/null
sleep 3
podman container checkpoint --compress none --export /out/ckpt-i12-build/counter.tar "$NAME" >/dev/null
echo "checkpointed at: $(podman logs "$NAME" | tail -n 1)"
podman rm -f -t 0 "$NAME" >/dev/null
command -v skopeo >/dev/null || { apt-get update -qq >/dev/null 2>&1 || true; apt-get install -y -qq skopeo >/dev/null; }
skopeo --version
IN
echo "## lab: podman run (a counter), podman container checkpoint --export counter.tar, podman rm"
lab bash /work/ckpt-i12-build/checkpoint.sh

# ---- 2. on the host: ckpt build ----
echo "## host: ckpt build counter.tar localhost/ckpt-i12-build:checkpoint -o image.tar"
node "$REPO/bin/ckpt.js" build "$O/counter.tar" localhost/ckpt-i12-build:checkpoint -o "$O/image.tar"

# ---- 3. in the lab: skopeo inspect, podman load, podman container restore <image> ----
cat >"$W/restore.sh" <<'IN'
set -euo pipefail
O=/out/ckpt-i12-build
IMG=localhost/ckpt-i12-build:checkpoint
echo "## skopeo inspect --raw oci-archive:image.tar (the manifest)"
skopeo inspect --raw "oci-archive:$O/image.tar"
echo
echo "## skopeo inspect oci-archive:image.tar"
skopeo inspect "oci-archive:$O/image.tar"
echo "## podman load -i image.tar"
podman rmi -f "$IMG" >/dev/null 2>&1 || true
podman load -i "$O/image.tar"
podman image inspect --format '{{json .Annotations}}' "$IMG" || true
echo "## podman container restore $IMG"
old=$(cat /proc/sys/fs/nr_open)
ulimit -Hn >/proc/sys/fs/nr_open
trap 'echo "$old" >/proc/sys/fs/nr_open; podman rm -f -t 0 ckpt-i12-build >/dev/null 2>&1 || true; podman rmi -f "$IMG" >/dev/null 2>&1 || true' EXIT
podman container restore "$IMG"
sleep 2
podman ps --format '{{.Names}} {{.Image}} {{.Status}}'
echo "## podman logs after the restore (last 5 lines)"
podman logs ckpt-i12-build | tail -n 5
IN
echo "## lab: skopeo inspect, podman load, podman container restore <image>"
lab bash /work/ckpt-i12-build/restore.sh

sleep 0.5
# ---- 4. the verdict: the counter went on from the checkpointed value ----
python3 - "$LOG" <<'PY'
import re, sys
log = open(sys.argv[1]).read()
at = int(re.search(r"checkpointed at: count=(\d+)", log).group(1))
after = [int(x) for x in re.findall(r"^count=(\d+)$", log.split("## podman logs after the restore")[1], re.M)]
assert after and min(after) > at, f"counter did not carry on: checkpointed at {at}, after restore {after}"
assert after == list(range(after[0], after[0] + len(after))), after
print(f"VERDICT: restored from the image; the counter was at {at} when checkpointed and reads {after[-1]} after the restore")
PY
rm -rf "$W" "$O"
