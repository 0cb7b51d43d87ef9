#!/bin/bash
# Makes testdata/piggie/: one real Podman checkpoint of ckpt-piggie.c (our stand-in for
# checkpointctl's test program) for the ported checkpointctl scenarios.
#   sudo flock /work/lab.lock testdata/piggie/make-piggie.sh
# Needs the checkpoint lab (CKPT_LAB, default <repo>/../shared/checkpoint-lab; ROOT default
# /srv/ckpt-lab) and gcc with a static libc on the host.  Idempotent.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${CKPT_LAB:-$REPO/../shared/checkpoint-lab}
[ -x "$LAB/run.sh" ] || LAB=/work/shared/checkpoint-lab
ROOT=${ROOT:-/srv/ckpt-lab}
export ROOT
mkdir -p "$ROOT/work/ckpt-i14-piggie"
gcc -static -O1 -Wall -Wextra -o "$ROOT/work/ckpt-i14-piggie/ckpt-piggie" "$HERE/ckpt-piggie.c" 2> >(grep -v 'statically linked' >&2)
cp "$HERE/piggie-in-lab.sh" "$ROOT/work/ckpt-i14-piggie/"
"$LAB/run.sh" bash /work/ckpt-i14-piggie/piggie-in-lab.sh
O=$ROOT/out/ckpt-i14-piggie
cp "$O/piggie.tar" "$HERE/piggie.tar"
rm -rf "$HERE/oracle" && cp -r "$O/oracle" "$HERE/oracle"
python3 - "$O/facts.line" "$O/id.txt" "$O/versions.txt" "$HERE/facts.json" <<'PY'
import json, sys
facts = json.loads(open(sys.argv[1]).read())
facts["container"] = {"name": "ckpt-i14-piggie", "id": open(sys.argv[2]).read().strip()}
facts["versions"] = open(sys.argv[3]).read().strip().splitlines()
open(sys.argv[4], "w").write(json.dumps(facts, indent=2) + "\n")
PY
chmod -R u+rwX,go+rX "$HERE"
ls -la "$HERE"
