#!/bin/bash
# Regenerate the real checkpoint corpus in testdata/ with Podman + CRIU from the checkpoint lab.
#
#   sudo testdata/make-corpus.sh            # all fixtures (procs net files bare)
#   sudo testdata/make-corpus.sh procs      # only some of them
#
# Environment: CKPT_LAB (lab scripts, default <repo>/../shared/checkpoint-lab),
#              ROOT (lab root file system, default /srv/ckpt-lab).
# Runs as root on the host; takes about a minute.  Idempotent: old containers, the old image and
# the old outputs of the selected fixtures are removed first.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
LAB=${CKPT_LAB:-$REPO/../shared/checkpoint-lab}
ROOT=${ROOT:-/srv/ckpt-lab}
export ROOT
FIXTURES=${*:-procs net files bare}

die() { echo "make-corpus: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$LAB/run.sh" ] || die "no lab at $LAB (set CKPT_LAB)"
[ -d "$ROOT/usr/sbin" ] || die "no lab root at $ROOT (run $LAB/setup.sh, or set ROOT)"
for t in gcc gzip zstd python3 tar; do command -v $t >/dev/null || die "$t not found"; done

# 1. the workload, static so it runs in a busybox image and in the lab alike
mkdir -p "$ROOT/work/corpus"
gcc -static -O1 -pthread -Wall -Wextra -o "$ROOT/work/corpus/ckpt-workload" "$HERE/workload/ckpt-workload.c" \
	2> >(grep -v 'statically linked' >&2)
cp "$HERE/lab/corpus-in-lab.sh" "$ROOT/work/corpus/corpus-in-lab.sh"

# 2. containers, checkpoints, bare dump and crit oracle, all inside the lab
CKPT_FIXTURES="$FIXTURES" "$LAB/run.sh" env CKPT_FIXTURES="$FIXTURES" bash /work/corpus/corpus-in-lab.sh
O=$ROOT/out/corpus

# 3. copy into testdata/: the none tar as exported, gzip and zstd derived from that same tar
mkdir -p "$HERE/podman" "$HERE/facts" "$HERE/oracle" "$HERE/bare"
for f in $FIXTURES; do
	case $f in
	procs | net | files)
		cp "$O/$f-none.tar" "$HERE/podman/$f-none.tar"
		gzip -9n <"$O/$f-none.tar" >"$HERE/podman/$f-gzip.tar"
		zstd -19 -q -f "$O/$f-none.tar" -o "$HERE/podman/$f-zstd.tar"
		if [ "$f" = procs ]; then cp "$O/procs-podman-zstd.tar" "$HERE/podman/procs-podman-zstd.tar"; fi
		python3 - "$O/facts-$f.line" "$HERE/facts/$f.json" "$(cat "$O/id-$f.txt")" "ckpt-$f" "$(cat "$O/image-$f.txt")" <<'PY'
import json, sys
src, dst, cid, name, image = sys.argv[1:6]
facts = json.loads(open(src).read())
out = {"container": {"name": name, "id": cid, "image": "localhost/ckpt-workload:corpus", "image_id": image,
                     "env_secret": "CKPT_CONTAINER_SECRET=CKPT-CONTAINER-ENV-SECRET-" + facts["mode"]}}
out.update(facts)
open(dst, "w").write(json.dumps(out, indent=2) + "\n")
PY
		;;
	bare)
		rm -rf "$HERE/bare/procs-tree"
		cp -r "$O/bare/procs-tree" "$HERE/bare/procs-tree"
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d={"criu_dump":"criu dump -t PID -D DIR --shell-job --tcp-established", **d}; open(sys.argv[2],"w").write(json.dumps(d, indent=2)+"\n")' \
			"$O/facts-bare-procs-tree.line" "$HERE/facts/bare-procs-tree.json"
		f=bare-procs-tree ;;
	*) die "unknown fixture $f" ;;
	esac
	rm -rf "$HERE/oracle/$f"
	cp -r "$O/oracle/$f" "$HERE/oracle/$f"
done
cp "$O/versions.txt" "$HERE/oracle/versions.txt"

# 4. check every planted secret is where the facts say; add image locations and a marker index
python3 "$HERE/lab/verify-corpus.py" "$HERE" $(for f in $FIXTURES; do [ "$f" = bare ] && echo bare-procs-tree || echo "$f"; done)
chmod -R u+rwX,go+rX "$HERE/podman" "$HERE/facts" "$HERE/oracle" "$HERE/bare"
du -sh "$HERE"
