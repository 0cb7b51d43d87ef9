#!/bin/bash
# Makes the "remote" fixture (testdata/podman/remote-none.tar, facts/remote.json) with Podman + CRIU
# from the checkpoint lab: a busybox container on the host's network whose `nc` connects to the
# host's own non-loopback address (eth0), where a second `nc -l` in the container accepted it and
# handed it to `sleep`. Both ends are TCP connections whose peer is not a loopback address: what
# the `remote-connection` finding is about (the compromised fixture's connection is over loopback).
#
#   flock /work/lab.lock testdata/make-remote.sh
#
# The facts are what the kernel said inside the container just before the checkpoint: each
# process's fds (socket:[inode]) and /proc/net/tcp and tcp6 (addresses and state by inode; the
# listener is dual-stack, so the accepted end is IPv6 with the host's address IPv4-mapped).
# Environment: CKPT_LAB (lab scripts, default <repo>/../shared/checkpoint-lab), ROOT (lab root,
# default /srv/ckpt-lab), HOST_IP (default: the first global IPv4 address of this machine).
# Runs as root on the host, ~15 s. Idempotent.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
LAB=${CKPT_LAB:-$REPO/../shared/checkpoint-lab}
[ -x "$LAB/run.sh" ] || LAB=$REPO/../../shared/checkpoint-lab
ROOT=${ROOT:-/srv/ckpt-lab}
export ROOT
die() { echo "make-remote: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$LAB/run.sh" ] || die "no lab at $LAB (set CKPT_LAB)"
HOST_IP=${HOST_IP:-$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -n 1)}
[ -n "$HOST_IP" ] || die "no global IPv4 address on this machine (set HOST_IP)"
PORT=7031

mkdir -p "$ROOT/work/ckpt-i10" "$ROOT/out/ckpt-i10-remote"
cat >"$ROOT/work/ckpt-i10/remote-in-lab.sh" <<IN
set -euo pipefail
NAME=ckpt-i10-remote
IMG=localhost/ckpt-i10-remote:lab
O=/out/ckpt-i10-remote
rm -f \$O/*
podman rm -f -t 0 \$NAME >/dev/null 2>&1 || true
podman rmi -f \$IMG >/dev/null 2>&1 || true
rm -rf /tmp/rootfs; mkdir -p /tmp/rootfs/bin /tmp/rootfs/tmp
cp /bin/busybox /tmp/rootfs/bin/busybox
for c in sh sleep cat nc readlink; do ln -s busybox /tmp/rootfs/bin/\$c; done
tar -C /tmp/rootfs --numeric-owner --owner=0 --group=0 --mtime=@1700000000 -cf /tmp/rootfs.tar .
podman import /tmp/rootfs.tar \$IMG >/dev/null
podman run -d --name \$NAME --network host \$IMG sh -c '
  nc -l -p $PORT -e sleep 100000 &
  sleep 0.5
  sleep 100000 | nc $HOST_IP $PORT &
  while :; do sleep 1; done' >/dev/null
sleep 2
podman exec \$NAME sh -c '
for d in /proc/[0-9]*; do
  p=\${d#/proc/}
  [ "\$p" = "\$\$" ] && continue
  [ -r "\$d/comm" ] || continue
  echo "== \$p \$(cat \$d/comm) \$(for f in \$d/fd/*; do echo -n "\${f##*/}=\$(readlink \$f);"; done)"
done
cat /proc/net/tcp /proc/net/tcp6' >\$O/proc.txt
podman container checkpoint --tcp-established --compress none --export \$O/remote-none.tar \$NAME >/dev/null
podman rm -f -t 0 \$NAME >/dev/null
podman rmi -f \$IMG >/dev/null 2>&1 || true
IN
"$LAB/run.sh" bash /work/ckpt-i10/remote-in-lab.sh
O=$ROOT/out/ckpt-i10-remote
cp "$O/remote-none.tar" "$HERE/podman/remote-none.tar"
python3 - "$O/proc.txt" "$HOST_IP" "$PORT" >"$HERE/facts/remote.json" <<'PY'
import json, socket, struct, sys
proc, host_ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def addr(h):
    ip, p = h.split(':')
    if len(ip) == 8:
        return f"{socket.inet_ntoa(struct.pack('<I', int(ip, 16)))}:{int(p, 16)}"
    # /proc/net/tcp6: four 32-bit words, each in host (little-endian) order
    raw = b''.join(struct.pack('<I', int(ip[i:i + 8], 16)) for i in range(0, 32, 8))
    return f"[{socket.inet_ntop(socket.AF_INET6, raw)}]:{int(p, 16)}"
fds, tcp = {}, {}
for line in open(proc):
    if line.startswith('== '):
        _, pid, comm, rest = (line.rstrip('\n') + ' ').split(' ', 3)
        for kv in filter(None, rest.strip().split(';')):
            fd, target = kv.split('=', 1)
            if target.startswith('socket:['):
                fds.setdefault(int(target[8:-1]), {'pid': int(pid), 'comm': comm, 'fd': int(fd)})
    elif ':' in line and not line.strip().startswith('sl'):
        f = line.split()
        tcp[int(f[9])] = {'local': addr(f[1]), 'remote': addr(f[2]), 'state': int(f[3], 16)}
conns = []
for ino, s in sorted(tcp.items()):
    if ino in fds and s['state'] == 1:  # TCP_ESTABLISHED
        conns.append({**fds[ino], 'inode': ino, 'local': s['local'], 'remote': s['remote']})
seen = set()
conns = [c for c in sorted(conns, key=lambda c: (c['pid'], c['fd'])) if not ((c['pid'], c['inode']) in seen or seen.add((c['pid'], c['inode'])))]
json.dump({'container': {'name': 'ckpt-i10-remote', 'image': 'localhost/ckpt-i10-remote:lab'}, 'host_ip': host_ip, 'port': port, 'connections': conns}, sys.stdout, indent=2)
print()
PY
chmod a+r "$HERE/podman/remote-none.tar" "$HERE/facts/remote.json"
ls -la "$HERE/podman/remote-none.tar"
cat "$HERE/facts/remote.json"
