#!/bin/bash
# Makes the "compromised" fixture (testdata/podman/compromised-none.tar, facts/compromised.json)
# with Podman + CRIU from the checkpoint lab: a container whose pid 1 (compromised/implant.c)
# plants writable+executable memory, a patched libc code page, a memfd program named
# [kworker/0:1], a program whose binary is deleted, an LD_PRELOAD library, a listener on 0.0.0.0
# with a shell on a connection to it, and files on disk (setuid, passwd, /tmp executables, ...).
#
#   flock /work/lab.lock testdata/make-compromised.sh
#
# Environment: CKPT_LAB (lab scripts, default <repo>/../shared/checkpoint-lab), ROOT (lab root,
# default /srv/ckpt-lab).  Runs as root on the host, ~20 s.  Idempotent.  Dynamically linked
# against the host's glibc; the image gets that glibc's loader and libc.so.6.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
LAB=${CKPT_LAB:-$REPO/../shared/checkpoint-lab}
[ -x "$LAB/run.sh" ] || LAB=$REPO/../../shared/checkpoint-lab
ROOT=${ROOT:-/srv/ckpt-lab}
export ROOT
die() { echo "make-compromised: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$LAB/run.sh" ] || die "no lab at $LAB (set CKPT_LAB)"
for t in gcc python3 tar; do command -v $t >/dev/null || die "$t not found"; done

W=$ROOT/work/ckpt-i10
rm -rf "$W"
mkdir -p "$W/root/usr/bin" "$W/root/usr/lib" "$W/root/lib/x86_64-linux-gnu" "$W/root/lib64"
gcc -O1 -Wall -Wextra -o "$W/root/usr/bin/implant" "$HERE/compromised/implant.c"
gcc -O1 -Wall -Wextra -shared -fPIC -o "$W/root/usr/lib/libhook.so" "$HERE/compromised/hook.c"
strip "$W/root/usr/bin/implant" "$W/root/usr/lib/libhook.so"
libc=$(gcc -print-file-name=libc.so.6)
ld=$(readlink -f /lib64/ld-linux-x86-64.so.2)
cp -L "$(readlink -f "$libc")" "$W/root/lib/x86_64-linux-gnu/libc.so.6"
cp -L "$ld" "$W/root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$W/root/lib64/ld-linux-x86-64.so.2"
cp "$HERE/lab/compromised-in-lab.sh" "$W/in-lab.sh"

"$LAB/run.sh" bash /work/ckpt-i10/in-lab.sh
O=$ROOT/out/ckpt-i10

mkdir -p "$HERE/podman" "$HERE/facts" "$HERE/oracle/compromised"
cp "$O/compromised-none.tar" "$HERE/podman/compromised-none.tar"
rm -rf "$HERE/oracle/compromised" && cp -r "$O/oracle" "$HERE/oracle/compromised"
python3 "$HERE/lab/compromised-facts.py" "$O" "$HERE/facts/compromised.json"
chmod -R u+rwX,go+rX "$HERE/podman" "$HERE/facts" "$HERE/oracle/compromised"
ls -la "$HERE/podman/compromised-none.tar"
