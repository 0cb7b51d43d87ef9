#!/bin/bash
# Makes the benchmark checkpoint for `npm run bench`: a container whose one process holds at least
# 1 GiB of touched memory (text-like, compressible about as much as a real heap) with a few planted
# needles, exported by Podman as none, gzip and zstd archives.
#
# Needs the checkpoint lab (/work/shared/checkpoint-lab, see its README) and gcc on the host.
# Usage: scripts/make-bench-checkpoint.sh [MiB]   (default 1100)
#   -> $ROOT/out/bench-{none,gzip,zstd}.tar   (ROOT=/srv/ckpt-lab; outside the repository)
set -euo pipefail
MIB=${1:-1100}
ROOT=${ROOT:-/srv/ckpt-lab}
LAB=${LAB:-/work/shared/checkpoint-lab}
mkdir -p "$ROOT/work/bench" "$ROOT/out"

cat >"$ROOT/work/bench/bench-mem.c" <<'C'
/* Touches MIB MiB of memory with text-like bytes and plants needles, then sleeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static void plant(char *at, const char *text) {
	/* the needles are written with '~' for '-' so the binary never holds them literally */
	for (size_t i = 0; text[i]; i++) at[i] = text[i] == '~' ? '-' : text[i];
}

int main(int argc, char **argv) {
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1100;
	size_t size = mib << 20;
	char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) { perror("mmap"); return 1; }
	static const char *words[] = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
		"hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa" };
	unsigned long long x = 88172645463325252ULL;
	size_t o = 0;
	while (o + 128 < size) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		o += (size_t)snprintf(mem + o, 128, "%s-%s id=%08llx t=%llu path=/var/lib/app/%s/%u\n",
			words[x & 15], words[(x >> 4) & 15], x & 0xffffffffULL, (x >> 20) % 1000000ULL,
			words[(x >> 8) & 15], (unsigned)((x >> 32) % 997));
	}
	memset(mem + o, '.', size - o);
	/* needles: near the start, across a page boundary, in the middle, near the end */
	plant(mem + 4096 + 100, "BENCH~NEEDLE~7f3a~start");
	plant(mem + (256UL << 20) + 4096 - 10, "BENCH~NEEDLE~7f3a~straddle");
	plant(mem + size / 2, "BENCH~NEEDLE~7f3a~middle");
	plant(mem + size - 4096 * 3, "BENCH~NEEDLE~7f3a~end");
	plant(mem + size / 3, "BENCH~TOKEN~sk_live_4eC39HqLyjWDarjtT1zdp7dc");
	printf("ready %zu MiB at %p\n", mib, (void *)mem);
	fflush(stdout);
	for (;;) pause();
}
C
gcc -static -O2 -o "$ROOT/work/bench/bench-mem" "$ROOT/work/bench/bench-mem.c"

cat >"$ROOT/work/bench/make.sh" <<IN
set -e
if ! podman image exists localhost/ckpt-bench:lab; then
  rm -rf /tmp/rootfs; mkdir -p /tmp/rootfs/bin /tmp/rootfs/tmp
  cp /bin/busybox /tmp/rootfs/bin/busybox
  for c in sh sleep cat; do ln -s busybox /tmp/rootfs/bin/\$c; done
  cp /work/bench/bench-mem /tmp/rootfs/bench-mem
  tar -C /tmp/rootfs -cf /tmp/rootfs.tar .
  podman import /tmp/rootfs.tar localhost/ckpt-bench:lab >/dev/null
fi
podman rm -f -t 0 ckpt-bench >/dev/null 2>&1 || true
podman run -d --name ckpt-bench localhost/ckpt-bench:lab /bench-mem $MIB >/dev/null
for i in \$(seq 1 120); do podman logs ckpt-bench 2>/dev/null | grep -q ready && break; sleep 1; done
podman logs ckpt-bench
for c in none zstd gzip; do
  podman container checkpoint --leave-running --compress \$c --export /out/bench-\$c.tar ckpt-bench >/dev/null
done
podman rm -f -t 0 ckpt-bench >/dev/null
ls -la /out/bench-*.tar
IN
# the image is rebuilt when the program changed
"$LAB/run.sh" bash -c 'podman image rm -f localhost/ckpt-bench:lab >/dev/null 2>&1 || true'
"$LAB/run.sh" bash /work/bench/make.sh
