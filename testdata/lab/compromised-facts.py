#!/usr/bin/env python3
"""Builds facts/compromised.json from what the implant printed (facts.line) and what the kernel
said inside the container just before the checkpoint (proc.txt: /proc/PID/{comm,exe,cmdline,fd,maps})."""
import json, sys

out_dir, dst = sys.argv[1:3]
facts = json.loads(open(f"{out_dir}/facts.line").read())
procs = {}
cur = None
for line in open(f"{out_dir}/proc.txt"):
    line = line.rstrip("\n")
    if line.startswith("== "):
        cur = {"pid": int(line[3:]), "maps": []}
        procs[cur["pid"]] = cur
    elif cur is None:
        continue
    elif line.startswith(("comm ", "exe ", "cmdline ", "fds ")):
        k, _, v = line.partition(" ")
        if k == "fds":
            cur["fds"] = {int(a): b for a, _, b in (x.partition("=") for x in v.split(";") if x)}
        else:
            cur[k] = v.rstrip() if k == "cmdline" else v
    else:
        parts = line.split(None, 5)
        rng, perms, off = parts[0], parts[1], parts[2]
        s, e = rng.split("-")
        cur["maps"].append({"start": "0x" + s.lstrip("0") if s.strip("0") else "0x0", "end": "0x" + e.lstrip("0"), "perms": perms,
                            "offset": hex(int(off, 16)), "path": parts[5] if len(parts) > 5 else ""})

def region_at(pid, addr):
    a = int(addr, 16)
    for m in procs[pid]["maps"]:
        if int(m["start"], 16) <= a < int(m["end"], 16):
            return m
    raise SystemExit(f"no region of pid {pid} holds {addr}")

facts["rwx"]["region"] = region_at(facts["pid"], facts["rwx"]["start"])
facts["libc_patch"]["region"] = region_at(facts["pid"], facts["libc_patch"]["addr"])
assert facts["rwx"]["region"]["perms"] == "rwxp", facts["rwx"]
assert facts["libc_patch"]["region"]["perms"] == "r-xp" and "libc.so.6" in facts["libc_patch"]["region"]["path"], facts["libc_patch"]
facts["container"] = {"name": "ckpt-i10-compromised", "id": open(f"{out_dir}/id.txt").read().strip(),
                      "image": "localhost/ckpt-i10-compromised:lab", "image_id": open(f"{out_dir}/image.txt").read().strip()}
facts["files"] = {
    "setuid": "/usr/local/bin/.sysupdate", "passwd_line": "backdoor:x:0:0:backdoor:/root:/bin/sh",
    "tmp_executable": "/tmp/payload", "hidden_executable": "/var/tmp/.cache/.x", "authorized_keys": "/root/.ssh/authorized_keys",
    "cron": "/etc/cron.d/backdoor", "ld_so_preload": "/etc/ld.so.preload", "deleted_open": "/tmp/.implant.log",
    "deleted_exe": "/var/tmp/.dropper", "preload_library": "/usr/lib/libhook.so",
}
facts["processes"] = [procs[p] for p in sorted(procs)]
open(dst, "w").write(json.dumps(facts, indent=2) + "\n")
print(f"facts: {len(procs)} processes, rwx {facts['rwx']['start']}, libc patch {facts['libc_patch']['addr']}")
