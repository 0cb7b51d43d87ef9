#!/usr/bin/env python3
"""Cross-check the corpus facts against the checkpoint images and annotate the facts files.

For every planted memory secret in testdata/facts/<fixture>.json this finds, with crit's decoding
(testdata/oracle/<fixture>/) and the raw pages-*.img of the fixture, the image file and byte
offset that hold the secret's virtual address, and checks that the marker is really there.  It
then adds to each secret an "image" object (pagemap, pages file, offset) and to the facts a
"marker_index": for every CKPT-... string in the facts, the archive members that contain it.

Usage: verify-corpus.py TESTDATA_DIR [FIXTURE...]       (exit status 1 on any mismatch)
"""
import io
import json
import os
import re
import sys
import tarfile

PAGE = 4096


def load(oracle, name):
    with open(os.path.join(oracle, name + ".json")) as f:
        return json.load(f)["entries"]


def pagemap_offset(oracle, pagemap_name, vaddr):
    """(pages image name, byte offset) of vaddr inside the pagemap's pages image, or None."""
    ents = load(oracle, pagemap_name)
    pages_id = ents[0]["pages_id"]
    off = 0
    for e in ents[1:]:
        start = int(e["vaddr"], 16)
        n = e["nr_pages"]
        flags = e.get("flags", "")
        in_file = "PE_PRESENT" in flags and "PE_PARENT" not in flags
        if start <= vaddr < start + n * PAGE:
            if not in_file:
                return None
            return "pages-%d.img" % pages_id, off + (vaddr - start)
        if in_file:
            off += n * PAGE
    return None


def locate(oracle, pid, addr):
    """Where the byte at virtual address addr of task pid lives in the images."""
    mm = load(oracle, "mm-%d" % pid)[0]
    for v in mm["vmas"]:
        start, end = int(v["start"], 16), int(v["end"], 16)
        if not start <= addr < end:
            continue
        status = v["status"]
        loc = {"vma_start": v["start"], "vma_end": v["end"], "vma_status": status}
        if "VMA_ANON_PRIVATE" in status:
            pm = "pagemap-%d" % pid
            shm_off = None
            vaddr = addr
        else:
            shm_off = addr - start + v.get("pgoff", 0)
            if "VMA_AREA_MEMFD" in status:  # shmid is the id of the memfd file entry
                files = {e["id"]: e for e in load(oracle, "files")}
                inode_id = files[v["shmid"]]["memfd"]["inode_id"]
                inodes = {e["inode_id"]: e for e in load(oracle, "memfd")}
                shmid = inodes[inode_id]["shmid"]
                loc["memfd_name"] = inodes[inode_id]["name"]
            else:  # anonymous shared or SysV IPC: shmid names the shmem pagemap
                shmid = v["shmid"]
            pm = "pagemap-shmem-%d" % shmid
            vaddr = shm_off
            loc["shmem_offset"] = shm_off
        found = pagemap_offset(oracle, pm, vaddr)
        if found is None:
            return None
        loc["pagemap"] = pm + ".img"
        loc["pages"], loc["offset"] = found
        return loc
    return None


def members(source):
    """{name: bytes} of the checkpoint (none tar, with rootfs-diff.tar expanded; or a directory)."""
    out = {}
    if os.path.isdir(source):
        for n in sorted(os.listdir(source)):
            with open(os.path.join(source, n), "rb") as f:
                out[n] = f.read()
        return out
    with tarfile.open(source) as t:
        for m in t.getmembers():
            if m.isfile():
                out[m.name] = t.extractfile(m).read()
    if "rootfs-diff.tar" in out:
        with tarfile.open(fileobj=io.BytesIO(out["rootfs-diff.tar"])) as t:
            for m in t.getmembers():
                if m.isfile():
                    out["rootfs-diff.tar:" + m.name] = t.extractfile(m).read()
    return out


def strings_in(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from strings_in(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings_in(v)


def main():
    td = sys.argv[1]
    fixtures = sys.argv[2:] or ["procs", "net", "files", "bare-procs-tree"]
    bad = 0
    for fx in fixtures:
        facts_path = os.path.join(td, "facts", fx + ".json")
        oracle = os.path.join(td, "oracle", fx)
        if fx == "bare-procs-tree":
            source = os.path.join(td, "bare", "procs-tree")
            img_prefix = ""
        else:
            source = os.path.join(td, "podman", fx + "-none.tar")
            img_prefix = "checkpoint/"
        with open(facts_path) as f:
            facts = json.load(f)
        files = members(source)
        for s in facts.get("secrets", []):
            s.pop("image", None)
            addr = int(s["addr"], 16)
            loc = locate(oracle, s["pid"], addr)
            marker = s["marker"].encode()
            if loc is None:
                print("%s: %s secret at %s: no page in the images" % (fx, s["kind"], s["addr"]))
                bad += 1
                continue
            data = files[img_prefix + loc["pages"]]
            got = data[loc["offset"]:loc["offset"] + len(marker)]
            if got != marker:
                print("%s: %s secret: expected %r at %s+%d, got %r" % (fx, s["kind"], marker, loc["pages"], loc["offset"], got))
                bad += 1
                continue
            s["image"] = loc
            print("%s: %-13s %-42s %s %s+%d" % (fx, s["kind"], s["marker"], s["addr"], loc["pages"], loc["offset"]))
        # the re-exec'ed process: argv/env bounds must be those of its mm image
        for p in facts.get("processes", []):
            if "arg_start" not in p:
                continue
            mm = load(oracle, "mm-%d" % p["pid"])[0]
            for k in ("arg_start", "arg_end", "env_start", "env_end"):
                if int(mm["mm_" + k], 16) != int(p[k], 16):
                    print("%s: pid %d %s: facts %s, mm image %s" % (fx, p["pid"], k, p[k], mm["mm_" + k]))
                    bad += 1
        # every CKPT-... string of the facts: which files of the checkpoint contain it
        markers = sorted({m for v in strings_in({k: v for k, v in facts.items() if k != "marker_index"})
                          for m in re.findall(r"CKPT-[A-Za-z0-9-]*[A-Za-z0-9]", v)})
        facts["marker_index"] = {m: sorted(n for n, b in files.items() if m.encode() in b) for m in markers}
        for m, where in facts["marker_index"].items():
            if not where and m != "CKPT-CONTAINER-ENV-SECRET":
                print("%s: marker %s found nowhere" % (fx, m))
                bad += 1
        with open(facts_path, "w") as f:
            f.write(json.dumps(facts, indent=2) + "\n")
    if bad:
        print("verify-corpus: %d problem(s)" % bad)
        sys.exit(1)
    print("verify-corpus: all secrets found where the facts say")


if __name__ == "__main__":
    main()
