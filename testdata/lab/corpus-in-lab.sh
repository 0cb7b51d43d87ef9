#!/bin/bash
# Runs INSIDE the checkpoint lab (started by testdata/make-corpus.sh through the lab's run.sh).
# Inputs:  /work/corpus/ckpt-workload (static binary built on the host)
# Outputs: /out/corpus/{procs,net,files}-none.tar, procs-podman-zstd.tar, facts-*.line,
#          id-*.txt, bare/procs-tree/, oracle/<fixture>/*.json
# Containers only live for this one call (/run and /tmp are fresh), so everything happens here.
set -euo pipefail
W=/work/corpus
O=/out/corpus
IMAGE=localhost/ckpt-workload:corpus
FIXTURES=${CKPT_FIXTURES:-procs net files bare}

log() { echo "[corpus] $*" >&2; }

rm -rf "$O"
mkdir -p "$O"

# ---------- image: busybox + the workload + a few files the files fixture changes ----------
for c in ckpt-procs ckpt-net ckpt-files; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
R=/tmp/rootfs
rm -rf "$R"
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/var/tmp"
chmod 1777 "$R/tmp" "$R/var/tmp"
cp /bin/busybox "$R/bin/busybox"
for c in sh sleep cat echo ls mkdir ps; do ln -s busybox "$R/bin/$c"; done
install -m 0755 "$W/ckpt-workload" "$R/ckpt-workload"
printf 'Welcome to the ckpt corpus image.\n' >"$R/etc/motd"
printf '# this file is deleted by the files workload before the checkpoint\nkey=value\n' >"$R/etc/delete-me.conf"
printf 'ckpt corpus image marker (the files workload refuses to run without it)\n' >"$R/etc/ckpt-corpus-image"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
tar -C "$R" --numeric-owner --owner=0 --group=0 --mtime=@1700000000 -cf /tmp/rootfs.tar .
podman import /tmp/rootfs.tar "$IMAGE" >/dev/null
log "image $IMAGE imported"

# ---------- one container per fixture ----------
wait_facts() { # name
	for _ in $(seq 1 200); do
		if podman logs "$1" 2>/dev/null | grep -q '^{'; then return 0; fi
		if [ "$(podman inspect --format '{{.State.Running}}' "$1")" != true ]; then
			podman logs "$1" >&2 || true
			log "container $1 exited"; return 1
		fi
		sleep 0.1
	done
	log "no facts line from $1"; return 1
}

run_fixture() { # fixture, extra checkpoint flags...
	local f=$1; shift
	local name=ckpt-$f
	podman run -d --name "$name" --hostname "$name" \
		-e CKPT_CONTAINER_SECRET=CKPT-CONTAINER-ENV-SECRET-$f \
		"$IMAGE" /ckpt-workload "$f" >/dev/null
	wait_facts "$name"
	sleep 0.5
	podman logs "$name" | grep '^{' | head -n 1 >"$O/facts-$f.line"
	podman inspect --format '{{.Id}}' "$name" >"$O/id-$f.txt"
	podman inspect --format '{{.Image}}' "$name" >"$O/image-$f.txt"
	log "checkpointing $name"
	podman container checkpoint --leave-running --compress none "$@" --export "$O/$f-none.tar" "$name" >/dev/null
	if [ "$f" = procs ]; then
		# a second checkpoint of the same (still running) container, compressed by podman itself
		podman container checkpoint --leave-running --compress zstd "$@" --export "$O/procs-podman-zstd.tar" "$name" >/dev/null
	fi
	podman rm -f -t 0 "$name" >/dev/null
}

for f in $FIXTURES; do
	case $f in
	procs) run_fixture procs ;;
	net) run_fixture net --tcp-established ;;
	files) run_fixture files ;;
	esac
done

# ---------- bare CRIU image directory (no engine) ----------
if [[ " $FIXTURES " == *" bare "* ]]; then
	D=$O/bare/procs-tree
	mkdir -p "$D"
	rm -f /tmp/facts-tree.json
	setsid "$W/ckpt-workload" tree /tmp/facts-tree.json </dev/null >/dev/null 2>&1 &
	for _ in $(seq 1 100); do [ -s /tmp/facts-tree.json ] && break; sleep 0.1; done
	[ -s /tmp/facts-tree.json ] || { log "tree workload printed no facts"; exit 1; }
	sleep 0.3
	cp /tmp/facts-tree.json "$O/facts-bare-procs-tree.line"
	pid=$(sed -n 's/^{"mode":"tree","pid":\([0-9]*\),.*/\1/p' /tmp/facts-tree.json)
	log "criu dump -t $pid"
	criu dump -t "$pid" -D "$D" --shell-job --tcp-established -o /tmp/criu-dump.log -v4 ||
		{ tail -n 40 /tmp/criu-dump.log >&2; exit 1; }
	rm -f "$D/dump.log" "$D/stats-dump.log"
fi

# ---------- oracle: crit's own decoding of every protobuf image ----------
oracle() { # fixture-name, image dir
	local name=$1 dir=$2 out=$O/oracle/$1
	mkdir -p "$out"
	: >"$out/_skipped.txt"
	for img in "$dir"/*.img; do
		local b
		b=$(basename "$img" .img)
		case $b in
		pages-*) echo "$b.img: raw page data (no protobuf); read through pagemap-*.img" >>"$out/_skipped.txt"; continue ;;
		esac
		if ! crit decode --pretty -i "$img" -o "$out/$b.json" 2>/tmp/crit.err; then
			rm -f "$out/$b.json"
			echo "$b.img: crit decode failed: $(tail -n 1 /tmp/crit.err)" >>"$out/_skipped.txt"
		fi
	done
}
for f in $FIXTURES; do
	case $f in
	procs | net | files)
		rm -rf /tmp/x && mkdir -p /tmp/x && tar -C /tmp/x -xf "$O/$f-none.tar"
		oracle "$f" /tmp/x/checkpoint ;;
	bare) oracle bare-procs-tree "$O/bare/procs-tree" ;;
	esac
done
crit --version >"$O/crit-version.txt" 2>&1 || true
{ criu --version; podman --version; crun --version | head -n 1; uname -r; } >"$O/versions.txt" 2>&1 || true
log "done"
