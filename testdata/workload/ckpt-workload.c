/*
 * ckpt-workload: the process that the checkpoint corpus (testdata/) is made of.
 *
 * Built statically on the host (gcc -static -O1 -pthread) and run inside a busybox-based
 * Podman image (or directly inside the lab for the bare CRIU fixture).  argv[1] picks a mode:
 *
 *   procs   process tree, named threads, zombie, stopped child, long argv + env, memory secrets
 *   net     TCP/UDP v4+v6, unix stream/abstract/dgram, socketpair and pipe with queued bytes
 *   files   unlinked-open file, memfd, eventfd, epoll, timerfd, signalfd, inotify, write fd,
 *           and root fs changes (modified, added and deleted files)
 *   tree    small tree (parent -> child -> grandchild, one named thread, heap secret) for the
 *           bare `criu dump` fixture
 *
 * Once everything is in place the workload prints ONE line of JSON facts (every pid/tid, the
 * exact address of each planted secret, ports, paths, fds) to stdout, or to the file named by
 * argv[2] if given, and then sleeps forever without signals or timers.
 *
 * Secret markers never appear verbatim in the binary: they are stored with '~' for '-' and
 * decoded at run time straight into their destination, so a marker found in a checkpoint's memory
 * came from where the facts say it was planted.  The facts line itself is built in a
 * temporary mapping that is wiped and unmapped after it is written.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static void die(const char *what)
{
	char buf[256];
	int n = snprintf(buf, sizeof buf, "ckpt-workload: %s: %s\n", what, strerror(errno));
	if (write(2, buf, n) < 0) {
	}
	_exit(111);
}

static pid_t my_tid(void) { return (pid_t)syscall(SYS_gettid); }

static void set_name(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

/*
 * Copy a marker into dst (NUL-terminated); returns its length.  Markers are written in the
 * source with '~' where the real text has '-', so the exact marker never sits in the binary.
 */
static size_t plant(char *dst, const char *tmpl)
{
	size_t n = strlen(tmpl);
	for (size_t i = 0; i < n; i++)
		dst[i] = tmpl[i] == '~' ? '-' : tmpl[i];
	dst[n] = 0;
	__asm__ volatile("" ::"r"(dst) : "memory");
	return n;
}

/* Same, returning dst (used for env strings, payloads, file contents, facts). */
static char *untilde(char *dst, const char *tmpl)
{
	plant(dst, tmpl);
	return dst;
}

/* Sleep forever: nanosleep only, no signals, no timers. */
static void __attribute__((noreturn)) sleep_forever(void)
{
	for (;;) {
		struct timespec ts = {3600, 0};
		nanosleep(&ts, NULL);
	}
}

/* ---------- facts line: built in a private mapping that is wiped after use ---------- */

static char *facts;
static size_t facts_len, facts_cap;

static void f_open(void)
{
	facts_cap = 64 * 1024;
	facts = mmap(NULL, facts_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (facts == MAP_FAILED)
		die("mmap facts");
	facts_len = 0;
}

static void f_add(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(facts + facts_len, facts_cap - facts_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= facts_cap - facts_len) {
		errno = ENOSPC;
		die("facts overflow");
	}
	facts_len += n;
}

static void f_emit(const char *path)
{
	f_add("}\n");
	int fd = 1;
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			die("open facts file");
	}
	size_t off = 0;
	while (off < facts_len) {
		ssize_t w = write(fd, facts + off, facts_len - off);
		if (w <= 0)
			die("write facts");
		off += w;
	}
	if (path)
		close(fd);
	explicit_bzero(facts, facts_cap);
	munmap(facts, facts_cap);
	facts = NULL;
}

/* A secret entry: kind, owning pid, address, marker (template with ~ for -). */
static int secrets_n;
static void f_secret(const char *kind, pid_t pid, const void *addr, const char *marker_tmpl, const char *extra)
{
	char m[256];
	untilde(m, marker_tmpl);
	f_add("%s{\"kind\":\"%s\",\"pid\":%d,\"addr\":\"0x%lx\",\"len\":%zu,\"marker\":\"%s\"%s%s}",
	      secrets_n++ ? "," : "", kind, (int)pid, (unsigned long)addr, strlen(m), m, extra ? "," : "",
	      extra ? extra : "");
	explicit_bzero(m, sizeof m);
}

/* ---------- helpers for reporting between processes ---------- */

struct report {
	pid_t pid;
	pid_t ppid;
	pid_t tids[4];
	int ntids;
	pid_t child;
	unsigned long addr[4];
};

static void send_report(int fd, const struct report *r)
{
	if (write(fd, r, sizeof *r) != (ssize_t)sizeof *r)
		die("write report");
}

static void recv_report(int fd, struct report *r)
{
	size_t got = 0;
	while (got < sizeof *r) {
		ssize_t n = read(fd, (char *)r + got, sizeof *r - got);
		if (n <= 0)
			die("read report");
		got += n;
	}
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void wait_state(pid_t pid, char want)
{
	for (int i = 0; i < 5000; i++) {
		if (proc_state(pid) == want)
			return;
		usleep(1000);
	}
	errno = ETIMEDOUT;
	die("wait_state");
}

/* ---------- threads ---------- */

struct thr {
	const char *name;
	pid_t tid;
	pthread_t th;
	volatile int ready;
};

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	set_name(t->name);
	t->tid = my_tid();
	__atomic_store_n(&t->ready, 1, __ATOMIC_SEQ_CST);
	sleep_forever();
}

static void start_threads(struct thr *t, int n)
{
	for (int i = 0; i < n; i++) {
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 64 * 1024);
		if (pthread_create(&t[i].th, &a, thread_main, &t[i]))
			die("pthread_create");
		pthread_attr_destroy(&a);
	}
	for (int i = 0; i < n; i++)
		while (!__atomic_load_n(&t[i].ready, __ATOMIC_SEQ_CST))
			usleep(1000);
}

/* ======================= mode procs ======================= */

#define LONGARGV_N 200

/* Re-exec'ed child: long argv (>4096 bytes) and an explicit env with a duplicate name. */
static int mode_argv_child(int argc, char **argv, char **envp)
{
	set_name("ckpt-longargv");
	/* fd 3 is the report pipe inherited from the parent */
	struct report r = {0};
	r.pid = getpid();
	r.ppid = getppid();
	r.addr[0] = (unsigned long)argv[0];
	r.addr[1] = (unsigned long)(argv[argc - 1] + strlen(argv[argc - 1]) + 1); /* arg end */
	r.addr[2] = (unsigned long)envp[0];
	int ne = 0;
	while (envp[ne])
		ne++;
	r.addr[3] = (unsigned long)(envp[ne - 1] + strlen(envp[ne - 1]) + 1); /* env end */
	send_report(3, &r);
	close(3);
	sleep_forever();
}

static void spawn_longargv(int *pid_out, struct report *rep)
{
	int p[2];
	if (pipe(p))
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		if (p[1] != 3) {
			if (dup2(p[1], 3) < 0)
				die("dup2");
			close(p[1]);
		}
		/* argv: exe, mode, 200 args of 30+ bytes each */
		static char *av[LONGARGV_N + 3];
		static char store[LONGARGV_N * 40];
		av[0] = "/ckpt-workload";
		av[1] = "argv-child";
		char *s = store;
		for (int i = 0; i < LONGARGV_N; i++) {
			av[2 + i] = s;
			s += sprintf(s, "long-argument-%03d-abcdefghijklmn", i) + 1;
		}
		av[LONGARGV_N + 2] = NULL;
		/* env, markers decoded at run time */
		static char e1[80], e2[80], e3[80], e4[80], e5[80];
		char *ev[] = {
		    untilde(e1, "API_TOKEN=first~CKPT~ENV~TOKEN~1111"),
		    strcpy(e2, "PATH=/bin"),
		    untilde(e3, "DB_PASSWORD=CKPT~ENV~DBPASS~2222"),
		    strcpy(e4, "HOME=/"),
		    untilde(e5, "API_TOKEN=second~CKPT~ENV~TOKEN~3333"),
		    NULL,
		};
		execve("/proc/self/exe", av, ev);
		die("execve");
	}
	close(p[1]);
	recv_report(p[0], rep);
	close(p[0]);
	*pid_out = pid;
}

static int mode_procs(const char *facts_path)
{
	set_name("ckpt-main");
	pid_t me = getpid();

	/* 1. child -> grandchild */
	int p[2];
	if (pipe(p))
		die("pipe");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		set_name("ckpt-child");
		close(p[0]);
		pid_t gc = fork();
		if (gc < 0)
			die("fork");
		if (gc == 0) {
			set_name("ckpt-grandchild");
			close(p[1]);
			sleep_forever();
		}
		struct report r = {.pid = getpid(), .ppid = getppid(), .child = gc};
		send_report(p[1], &r);
		close(p[1]);
		sleep_forever();
	}
	close(p[1]);
	struct report rchild;
	recv_report(p[0], &rchild);
	close(p[0]);

	/* 2. a process with two named threads */
	if (pipe(p))
		die("pipe");
	pid_t thrp = fork();
	if (thrp < 0)
		die("fork");
	if (thrp == 0) {
		set_name("ckpt-threads");
		close(p[0]);
		static struct thr t[2] = {{.name = "ckpt-worker-1"}, {.name = "ckpt-worker-2"}};
		start_threads(t, 2);
		struct report r = {.pid = getpid(), .ppid = getppid(), .ntids = 2};
		r.tids[0] = t[0].tid;
		r.tids[1] = t[1].tid;
		send_report(p[1], &r);
		close(p[1]);
		sleep_forever();
	}
	close(p[1]);
	struct report rthr;
	recv_report(p[0], &rthr);
	close(p[0]);

	/* 3. zombie: exits with status 7, never reaped */
	pid_t zombie = fork();
	if (zombie < 0)
		die("fork");
	if (zombie == 0) {
		set_name("ckpt-zombie");
		_exit(7);
	}
	wait_state(zombie, 'Z');

	/* 4. stopped: raise(SIGSTOP) */
	pid_t stopped = fork();
	if (stopped < 0)
		die("fork");
	if (stopped == 0) {
		set_name("ckpt-stopped");
		raise(SIGSTOP);
		sleep_forever();
	}
	wait_state(stopped, 'T');

	/* 5. re-exec'ed child with a long argv and an explicit environment */
	pid_t longargv;
	struct report rarg;
	spawn_longargv(&longargv, &rarg);

	/* 6. memory secrets, all in this process (planted after every fork) */
	char stack_secret[64];
	plant(stack_secret, "CKPT~STACK~SECRET~3c92");

	char *heap = malloc(256);
	if (!heap)
		die("malloc");
	memset(heap, 0, 256);
	plant(heap, "CKPT~HEAP~SECRET~7a41");

	char *shanon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shanon == MAP_FAILED)
		die("mmap shared");
	plant(shanon + 128, "CKPT~SHANON~SECRET~b817");

	int mfd = memfd_create("ckpt-memfd", 0);
	if (mfd < 0)
		die("memfd_create");
	char mbuf[PAGE];
	memset(mbuf, 0, sizeof mbuf);
	size_t mlen = plant(mbuf + 256, "CKPT~MEMFD~SECRET~e205");
	if (write(mfd, mbuf, PAGE) != (ssize_t)PAGE)
		die("write memfd");
	explicit_bzero(mbuf, sizeof mbuf);
	(void)mlen;
	char *mmem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (mmem == MAP_FAILED)
		die("mmap memfd");

	key_t shmkey = 0x434b5054; /* "CKPT" */
	int shmid = shmget(shmkey, PAGE, IPC_CREAT | 0600);
	if (shmid < 0)
		die("shmget");
	char *shm = shmat(shmid, NULL, 0);
	if (shm == (void *)-1)
		die("shmat");
	plant(shm + 512, "CKPT~SYSVSHM~SECRET~49d6");

	char *two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED)
		die("mmap 2 pages");
	two[0] = 'A';
	two[2 * PAGE - 1] = 'Z';
	char *straddle = two + PAGE - 8;
	plant(straddle, "CKPT~STRADDLE~SECRET~0f3b~crosses~a~page");

	/* facts */
	f_open();
	f_add("{\"mode\":\"procs\",\"pid\":%d,\"comm\":\"ckpt-main\"", (int)me);
	f_add(",\"processes\":[");
	f_add("{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-main\",\"role\":\"main\"}", (int)me, (int)getppid());
	f_add(",{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-child\",\"role\":\"child\"}", (int)rchild.pid, (int)me);
	f_add(",{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-grandchild\",\"role\":\"grandchild\"}",
	      (int)rchild.child, (int)rchild.pid);
	f_add(",{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-threads\",\"role\":\"threads\",\"threads\":["
	      "{\"tid\":%d,\"comm\":\"ckpt-threads\"},{\"tid\":%d,\"comm\":\"ckpt-worker-1\"},"
	      "{\"tid\":%d,\"comm\":\"ckpt-worker-2\"}]}",
	      (int)rthr.pid, (int)me, (int)rthr.pid, (int)rthr.tids[0], (int)rthr.tids[1]);
	f_add(",{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-zombie\",\"role\":\"zombie\",\"exit_status\":7}",
	      (int)zombie, (int)me);
	f_add(",{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-stopped\",\"role\":\"stopped\",\"signal\":\"SIGSTOP\"}",
	      (int)stopped, (int)me);
	f_add(",{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-longargv\",\"role\":\"longargv\","
	      "\"exe\":\"/ckpt-workload\",\"argc\":%d,\"arg_start\":\"0x%lx\",\"arg_end\":\"0x%lx\","
	      "\"arg_bytes\":%lu,\"env_start\":\"0x%lx\",\"env_end\":\"0x%lx\",\"env_bytes\":%lu}",
	      (int)rarg.pid, (int)rarg.ppid, LONGARGV_N + 2, rarg.addr[0], rarg.addr[1],
	      rarg.addr[1] - rarg.addr[0], rarg.addr[2], rarg.addr[3], rarg.addr[3] - rarg.addr[2]);
	f_add("]");
	{
		char e1[80], e3[80], e5[80];
		f_add(",\"longargv\":{\"pid\":%d,\"argv0\":\"/ckpt-workload\",\"argv1\":\"argv-child\","
		      "\"argv_pattern\":\"long-argument-%%03d-abcdefghijklmn\",\"argv_first\":\"long-argument-000-abcdefghijklmn\","
		      "\"argv_last\":\"long-argument-%03d-abcdefghijklmn\",\"env\":[\"%s\",\"PATH=/bin\",\"%s\",\"HOME=/\",\"%s\"]}",
		      (int)rarg.pid, LONGARGV_N - 1, untilde(e1, "API_TOKEN=first~CKPT~ENV~TOKEN~1111"),
		      untilde(e3, "DB_PASSWORD=CKPT~ENV~DBPASS~2222"), untilde(e5, "API_TOKEN=second~CKPT~ENV~TOKEN~3333"));
		explicit_bzero(e1, sizeof e1);
		explicit_bzero(e3, sizeof e3);
		explicit_bzero(e5, sizeof e5);
	}
	f_add(",\"secrets\":[");
	f_secret("heap", me, heap, "CKPT~HEAP~SECRET~7a41", "\"note\":\"malloc(256)\"");
	f_secret("stack", me, stack_secret, "CKPT~STACK~SECRET~3c92", "\"note\":\"local array in main's live frame\"");
	{
		char ex[128];
		snprintf(ex, sizeof ex, "\"map_start\":\"0x%lx\",\"offset\":128", (unsigned long)shanon);
		f_secret("shared-anon", me, shanon + 128, "CKPT~SHANON~SECRET~b817", ex);
		snprintf(ex, sizeof ex, "\"map_start\":\"0x%lx\",\"offset\":256,\"fd\":%d,\"name\":\"memfd:ckpt-memfd\"",
			 (unsigned long)mmem, mfd);
		f_secret("memfd", me, mmem + 256, "CKPT~MEMFD~SECRET~e205", ex);
		snprintf(ex, sizeof ex, "\"map_start\":\"0x%lx\",\"offset\":512,\"shmid\":%d,\"key\":%d",
			 (unsigned long)shm, shmid, (int)shmkey);
		f_secret("sysv-shm", me, shm + 512, "CKPT~SYSVSHM~SECRET~49d6", ex);
		snprintf(ex, sizeof ex, "\"map_start\":\"0x%lx\",\"offset\":%lu,\"page_boundary\":\"0x%lx\"",
			 (unsigned long)two, PAGE - 8, (unsigned long)(two + PAGE));
		f_secret("page-straddle", me, straddle, "CKPT~STRADDLE~SECRET~0f3b~crosses~a~page", ex);
	}
	f_add("]");
	f_emit(facts_path);

	__asm__ volatile("" ::"r"(stack_secret), "r"(heap), "r"(mmem) : "memory");
	sleep_forever();
}

/* ======================= mode net ======================= */

static int tcp_listen(int family, const char *addr, int port)
{
	int s = socket(family, SOCK_STREAM, 0);
	if (s < 0)
		die("socket tcp");
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (family == AF_INET) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
		inet_pton(AF_INET, addr, &a.sin_addr);
		if (bind(s, (void *)&a, sizeof a))
			die("bind tcp4");
	} else {
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
		inet_pton(AF_INET6, addr, &a.sin6_addr);
		if (bind(s, (void *)&a, sizeof a))
			die("bind tcp6");
	}
	if (listen(s, 8))
		die("listen");
	return s;
}

static int local_port(int s)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof ss;
	getsockname(s, (void *)&ss, &l);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int tcp_connect(int family, const char *addr, int port)
{
	int s = socket(family, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	int r;
	if (family == AF_INET) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
		inet_pton(AF_INET, addr, &a.sin_addr);
		r = connect(s, (void *)&a, sizeof a);
	} else {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
		inet_pton(AF_INET6, addr, &a.sin6_addr);
		r = connect(s, (void *)&a, sizeof a);
	}
	if (r)
		die("connect");
	return s;
}

static int udp_bind(int family, const char *addr, int port)
{
	int s = socket(family, SOCK_DGRAM, 0);
	if (s < 0)
		die("socket udp");
	if (family == AF_INET) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
		inet_pton(AF_INET, addr, &a.sin_addr);
		if (bind(s, (void *)&a, sizeof a))
			die("bind udp4");
	} else {
		int one = 1;
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
		inet_pton(AF_INET6, addr, &a.sin6_addr);
		if (bind(s, (void *)&a, sizeof a))
			die("bind udp6");
	}
	return s;
}

static void send_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w <= 0)
			die("send");
		buf += w;
		n -= w;
	}
}

static int unix_sock(int type, const char *path, int abstract, int do_listen)
{
	int s = socket(AF_UNIX, type, 0);
	if (s < 0)
		die("socket unix");
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t len;
	if (abstract) {
		a.sun_path[0] = 0;
		memcpy(a.sun_path + 1, path, strlen(path));
		len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
	} else {
		unlink(path);
		strcpy(a.sun_path, path);
		len = sizeof a;
	}
	if (bind(s, (void *)&a, len))
		die("bind unix");
	if (do_listen && listen(s, 8))
		die("listen unix");
	return s;
}

static int unix_connect(int type, const char *path, int abstract)
{
	int s = socket(AF_UNIX, type, 0);
	if (s < 0)
		die("socket unix");
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t len;
	if (abstract) {
		memcpy(a.sun_path + 1, path, strlen(path));
		len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
	} else {
		strcpy(a.sun_path, path);
		len = sizeof a;
	}
	if (connect(s, (void *)&a, len))
		die("connect unix");
	return s;
}

static int mode_net(const char *facts_path)
{
	set_name("ckpt-net");
	pid_t me = getpid();
	char buf[128];

	/* TCP listeners */
	int l4 = tcp_listen(AF_INET, "127.0.0.1", 7001);
	int l6 = tcp_listen(AF_INET6, "::1", 7002);

	/* TCP established v4: client -> server, bytes left unread on both sides */
	int c4 = tcp_connect(AF_INET, "127.0.0.1", 7001);
	int a4 = accept(l4, NULL, NULL);
	if (a4 < 0)
		die("accept4");
	size_t n4c = strlen(untilde(buf, "CKPT~UNREAD~PAYLOAD~TCP4"));
	send_all(c4, buf, n4c); /* queued in a4's receive queue */
	size_t n4s = strlen(untilde(buf, "CKPT~SERVER~REPLY~TCP4"));
	send_all(a4, buf, n4s); /* queued in c4's receive queue */
	int c4port = local_port(c4);

	/* TCP established v6 */
	int c6 = tcp_connect(AF_INET6, "::1", 7002);
	int a6 = accept(l6, NULL, NULL);
	if (a6 < 0)
		die("accept6");
	size_t n6c = strlen(untilde(buf, "CKPT~UNREAD~PAYLOAD~TCP6"));
	send_all(c6, buf, n6c);
	int c6port = local_port(c6);

	/* UDP: v4 bound, v6 bound + connected */
	int u4 = udp_bind(AF_INET, "127.0.0.1", 7003);
	int u6 = udp_bind(AF_INET6, "::1", 7004);
	{
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(7005)};
		inet_pton(AF_INET6, "::1", &a.sin6_addr);
		if (connect(u6, (void *)&a, sizeof a))
			die("connect udp6");
	}

	/* unix stream on a path with a connected client */
	int us_l = unix_sock(SOCK_STREAM, "/tmp/ckpt.sock", 0, 1);
	int us_c = unix_connect(SOCK_STREAM, "/tmp/ckpt.sock", 0);
	int us_a = accept(us_l, NULL, NULL);
	if (us_a < 0)
		die("accept unix");

	/* unix abstract listener with a connected client */
	int ua_l = unix_sock(SOCK_STREAM, "ckpt-abstract", 1, 1);
	int ua_c = unix_connect(SOCK_STREAM, "ckpt-abstract", 1);
	int ua_a = accept(ua_l, NULL, NULL);
	if (ua_a < 0)
		die("accept abstract");

	/* unix datagram bound socket */
	int ud = unix_sock(SOCK_DGRAM, "/tmp/ckpt-dgram.sock", 0, 0);
	/* one datagram left unread in it, sent from a socket that is closed again */
	size_t ndg;
	{
		int tx = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "/tmp/ckpt-dgram.sock"};
		ndg = strlen(untilde(buf, "CKPT~UNREAD~PAYLOAD~DGRAM"));
		if (tx < 0 || sendto(tx, buf, ndg, 0, (void *)&a, sizeof a) != (ssize_t)ndg)
			die("sendto dgram");
		close(tx);
	}

	/* socketpair with unread bytes queued in sp[1] */
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		die("socketpair");
	size_t nsp = strlen(untilde(buf, "CKPT~UNREAD~PAYLOAD~SOCKETPAIR"));
	send_all(sp[0], buf, nsp);

	/* pipe with unread data */
	int pp[2];
	if (pipe(pp))
		die("pipe");
	size_t npp = strlen(untilde(buf, "CKPT~UNREAD~PAYLOAD~PIPE"));
	send_all(pp[1], buf, npp);
	explicit_bzero(buf, sizeof buf);

	f_open();
	f_add("{\"mode\":\"net\",\"pid\":%d,\"comm\":\"ckpt-net\"", (int)me);
	f_add(",\"processes\":[{\"pid\":%d,\"comm\":\"ckpt-net\",\"role\":\"main\"}]", (int)me);
	f_add(",\"tcp\":[");
	f_add("{\"fd\":%d,\"family\":\"inet\",\"state\":\"LISTEN\",\"local\":\"127.0.0.1:7001\"}", l4);
	f_add(",{\"fd\":%d,\"family\":\"inet6\",\"state\":\"LISTEN\",\"local\":\"[::1]:7002\"}", l6);
	f_add(",{\"fd\":%d,\"family\":\"inet\",\"state\":\"ESTABLISHED\",\"role\":\"client\",\"local\":\"127.0.0.1:%d\","
	      "\"remote\":\"127.0.0.1:7001\",\"unread\":\"%s\"}",
	      c4, c4port, untilde(buf, "CKPT~SERVER~REPLY~TCP4"));
	f_add(",{\"fd\":%d,\"family\":\"inet\",\"state\":\"ESTABLISHED\",\"role\":\"server\",\"local\":\"127.0.0.1:7001\","
	      "\"remote\":\"127.0.0.1:%d\",\"unread\":\"%s\"}",
	      a4, c4port, untilde(buf, "CKPT~UNREAD~PAYLOAD~TCP4"));
	f_add(",{\"fd\":%d,\"family\":\"inet6\",\"state\":\"ESTABLISHED\",\"role\":\"client\",\"local\":\"[::1]:%d\","
	      "\"remote\":\"[::1]:7002\",\"unread\":\"\"}",
	      c6, c6port);
	f_add(",{\"fd\":%d,\"family\":\"inet6\",\"state\":\"ESTABLISHED\",\"role\":\"server\",\"local\":\"[::1]:7002\","
	      "\"remote\":\"[::1]:%d\",\"unread\":\"%s\"}",
	      a6, c6port, untilde(buf, "CKPT~UNREAD~PAYLOAD~TCP6"));
	f_add("]");
	f_add(",\"udp\":[{\"fd\":%d,\"family\":\"inet\",\"local\":\"127.0.0.1:7003\"}"
	      ",{\"fd\":%d,\"family\":\"inet6\",\"local\":\"[::1]:7004\",\"remote\":\"[::1]:7005\"}]",
	      u4, u6);
	f_add(",\"unix\":[");
	f_add("{\"fd\":%d,\"type\":\"stream\",\"state\":\"LISTEN\",\"path\":\"/tmp/ckpt.sock\"}", us_l);
	f_add(",{\"fd\":%d,\"type\":\"stream\",\"role\":\"client\",\"peer\":\"/tmp/ckpt.sock\"}", us_c);
	f_add(",{\"fd\":%d,\"type\":\"stream\",\"role\":\"accepted\",\"path\":\"/tmp/ckpt.sock\"}", us_a);
	f_add(",{\"fd\":%d,\"type\":\"stream\",\"state\":\"LISTEN\",\"path\":\"@ckpt-abstract\"}", ua_l);
	f_add(",{\"fd\":%d,\"type\":\"stream\",\"role\":\"client\",\"peer\":\"@ckpt-abstract\"}", ua_c);
	f_add(",{\"fd\":%d,\"type\":\"stream\",\"role\":\"accepted\",\"path\":\"@ckpt-abstract\"}", ua_a);
	f_add(",{\"fd\":%d,\"type\":\"dgram\",\"path\":\"/tmp/ckpt-dgram.sock\",\"unread\":\"%s\"}", ud,
	      untilde(buf, "CKPT~UNREAD~PAYLOAD~DGRAM"));
	f_add(",{\"fd\":%d,\"type\":\"stream\",\"role\":\"socketpair\",\"peer_fd\":%d,\"unread\":\"\"}", sp[0], sp[1]);
	f_add(",{\"fd\":%d,\"type\":\"stream\",\"role\":\"socketpair\",\"peer_fd\":%d,\"unread\":\"%s\"}", sp[1], sp[0],
	      untilde(buf, "CKPT~UNREAD~PAYLOAD~SOCKETPAIR"));
	f_add("]");
	f_add(",\"pipe\":{\"read_fd\":%d,\"write_fd\":%d,\"unread\":\"%s\"}", pp[0], pp[1],
	      untilde(buf, "CKPT~UNREAD~PAYLOAD~PIPE"));
	explicit_bzero(buf, sizeof buf);
	f_emit(facts_path);
	sleep_forever();
}

/* ======================= mode files ======================= */

static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	send_all(fd, content, strlen(content));
	close(fd);
}

static int mode_files(const char *facts_path)
{
	set_name("ckpt-files");
	pid_t me = getpid();
	char buf[256];

	/* This mode edits /etc: refuse to run anywhere but in the corpus image. */
	if (access("/etc/ckpt-corpus-image", F_OK)) {
		errno = EPERM;
		die("files mode only runs inside the corpus image (no /etc/ckpt-corpus-image)");
	}

	/* root fs changes: modify an image file, add a file, delete an image file */
	write_file("/etc/motd", untilde(buf, "Welcome to the void!\nCKPT~MODIFIED~MOTD\n"));
	mkdir("/data", 0755);
	write_file("/data/added.txt", untilde(buf, "CKPT~ADDED~FILE\n"));
	if (unlink("/etc/delete-me.conf"))
		die("unlink /etc/delete-me.conf");

	/* opened then unlinked, still open */
	int ul = open("/data/unlinked.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (ul < 0)
		die("open unlinked");
	size_t ulen = strlen(untilde(buf, "CKPT~UNLINKED~FILE~CONTENT\n"));
	send_all(ul, buf, ulen);
	if (unlink("/data/unlinked.txt"))
		die("unlink");

	/* memfd (not mapped) */
	int mfd = memfd_create("ckpt-files-memfd", MFD_ALLOW_SEALING);
	if (mfd < 0)
		die("memfd_create");
	size_t mflen = strlen(untilde(buf, "CKPT~MEMFD~CONTENT\n"));
	send_all(mfd, buf, mflen);

	/* eventfd */
	int efd = eventfd(42, EFD_NONBLOCK);
	if (efd < 0)
		die("eventfd");

	/* timerfd armed: first expiry in 1 h, interval 2 h */
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (tfd < 0)
		die("timerfd");
	struct itimerspec its = {.it_value = {3600, 0}, .it_interval = {7200, 0}};
	if (timerfd_settime(tfd, 0, &its, NULL))
		die("timerfd_settime");

	/* signalfd for SIGUSR1 + SIGUSR2 (blocked) */
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGUSR2);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	int sfd = signalfd(-1, &ss, 0);
	if (sfd < 0)
		die("signalfd");

	/* inotify watching /data and /etc */
	int ifd = inotify_init1(0);
	if (ifd < 0)
		die("inotify_init1");
	int wd1 = inotify_add_watch(ifd, "/data", IN_CREATE | IN_DELETE | IN_MODIFY);
	int wd2 = inotify_add_watch(ifd, "/etc", IN_MODIFY | IN_ATTRIB);
	if (wd1 < 0 || wd2 < 0)
		die("inotify_add_watch");

	/* pipe for epoll */
	int pp[2];
	if (pipe(pp))
		die("pipe");

	/* epoll watching eventfd, timerfd, pipe read end */
	int ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1111};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev))
		die("epoll_ctl efd");
	ev.events = EPOLLIN;
	ev.data.u64 = 0x2222;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev))
		die("epoll_ctl tfd");
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 0x3333;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev))
		die("epoll_ctl pipe");

	/* regular file open for writing at a known position */
	int wfd = open("/data/log.txt", O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (wfd < 0)
		die("open log");
	char line[64];
	for (int i = 0; i < 100; i++) {
		int n = snprintf(line, sizeof line, "log line %03d\n", i); /* 13 bytes */
		send_all(wfd, line, n);
	}
	off_t wpos = lseek(wfd, 1000, SEEK_SET);

	/* read-only file for contrast */
	int rfd = open("/etc/motd", O_RDONLY);
	if (rfd < 0)
		die("open motd");
	off_t rpos = lseek(rfd, 5, SEEK_SET);

	f_open();
	f_add("{\"mode\":\"files\",\"pid\":%d,\"comm\":\"ckpt-files\"", (int)me);
	f_add(",\"processes\":[{\"pid\":%d,\"comm\":\"ckpt-files\",\"role\":\"main\"}]", (int)me);
	f_add(",\"rootfs\":{\"modified\":[{\"path\":\"/etc/motd\",\"content\":\"%s\"}]",
	      untilde(buf, "Welcome to the void!\\nCKPT~MODIFIED~MOTD\\n"));
	f_add(",\"added\":[{\"path\":\"/data/added.txt\",\"content\":\"%s\"},{\"path\":\"/data/log.txt\",\"size\":1300}]",
	      untilde(buf, "CKPT~ADDED~FILE\\n"));
	f_add(",\"deleted\":[\"/etc/delete-me.conf\"]}");
	f_add(",\"fds\":{");
	f_add("\"unlinked\":{\"fd\":%d,\"path\":\"/data/unlinked.txt\",\"size\":%zu,\"content\":\"%s\",\"flags\":\"O_RDWR\"}",
	      ul, ulen, untilde(buf, "CKPT~UNLINKED~FILE~CONTENT\\n"));
	f_add(",\"memfd\":{\"fd\":%d,\"name\":\"memfd:ckpt-files-memfd\",\"size\":%zu,\"content\":\"%s\"}", mfd, mflen,
	      untilde(buf, "CKPT~MEMFD~CONTENT\\n"));
	f_add(",\"eventfd\":{\"fd\":%d,\"count\":42,\"flags\":\"EFD_NONBLOCK\"}", efd);
	f_add(",\"timerfd\":{\"fd\":%d,\"clock\":\"CLOCK_MONOTONIC\",\"value_sec\":3600,\"interval_sec\":7200}", tfd);
	f_add(",\"signalfd\":{\"fd\":%d,\"signals\":[\"SIGUSR1\",\"SIGUSR2\"],\"sigmask\":\"0x%x\"}", sfd,
	      (1u << (SIGUSR1 - 1)) | (1u << (SIGUSR2 - 1)));
	f_add(",\"inotify\":{\"fd\":%d,\"watches\":[{\"wd\":%d,\"path\":\"/data\",\"mask\":\"0x%x\"},"
	      "{\"wd\":%d,\"path\":\"/etc\",\"mask\":\"0x%x\"}]}",
	      ifd, wd1, IN_CREATE | IN_DELETE | IN_MODIFY, wd2, IN_MODIFY | IN_ATTRIB);
	f_add(",\"epoll\":{\"fd\":%d,\"targets\":[{\"fd\":%d,\"events\":\"0x%x\",\"data\":\"0x1111\"},"
	      "{\"fd\":%d,\"events\":\"0x%x\",\"data\":\"0x2222\"},{\"fd\":%d,\"events\":\"0x%x\",\"data\":\"0x3333\"}]}",
	      ep, efd, EPOLLIN, tfd, EPOLLIN, pp[0], (unsigned)(EPOLLIN | EPOLLET));
	f_add(",\"pipe\":{\"read_fd\":%d,\"write_fd\":%d}", pp[0], pp[1]);
	f_add(",\"write\":{\"fd\":%d,\"path\":\"/data/log.txt\",\"pos\":%ld,\"size\":1300,\"flags\":\"O_WRONLY\"}", wfd,
	      (long)wpos);
	f_add(",\"read\":{\"fd\":%d,\"path\":\"/etc/motd\",\"pos\":%ld,\"flags\":\"O_RDONLY\"}", rfd, (long)rpos);
	f_add("}");
	explicit_bzero(buf, sizeof buf);
	f_emit(facts_path);
	sleep_forever();
}

/* ======================= mode tree (bare CRIU fixture) ======================= */

static int mode_tree(const char *facts_path)
{
	set_name("ckpt-tree");
	pid_t me = getpid();
	int p[2];
	if (pipe(p))
		die("pipe");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		set_name("ckpt-tree-child");
		close(p[0]);
		pid_t gc = fork();
		if (gc < 0)
			die("fork");
		if (gc == 0) {
			set_name("ckpt-tree-gchild");
			close(p[1]);
			sleep_forever();
		}
		struct report r = {.pid = getpid(), .ppid = getppid(), .child = gc};
		send_report(p[1], &r);
		close(p[1]);
		sleep_forever();
	}
	close(p[0 + 1]);
	struct report rc;
	recv_report(p[0], &rc);
	close(p[0]);

	static struct thr t[1] = {{.name = "ckpt-tree-thr"}};
	start_threads(t, 1);

	char *heap = malloc(128);
	if (!heap)
		die("malloc");
	memset(heap, 0, 128);
	plant(heap, "CKPT~TREE~HEAP~SECRET~5d0e");

	f_open();
	f_add("{\"mode\":\"tree\",\"pid\":%d,\"comm\":\"ckpt-tree\"", (int)me);
	f_add(",\"processes\":[{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-tree\",\"role\":\"main\",\"threads\":["
	      "{\"tid\":%d,\"comm\":\"ckpt-tree\"},{\"tid\":%d,\"comm\":\"ckpt-tree-thr\"}]}",
	      (int)me, (int)getppid(), (int)me, (int)t[0].tid);
	f_add(",{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-tree-child\",\"role\":\"child\"}", (int)rc.pid, (int)me);
	f_add(",{\"pid\":%d,\"ppid\":%d,\"comm\":\"ckpt-tree-gchild\",\"role\":\"grandchild\"}]", (int)rc.child,
	      (int)rc.pid);
	f_add(",\"secrets\":[");
	f_secret("heap", me, heap, "CKPT~TREE~HEAP~SECRET~5d0e", "\"note\":\"malloc(128)\"");
	f_add("]");
	f_emit(facts_path);
	__asm__ volatile("" ::"r"(heap) : "memory");
	sleep_forever();
}

int main(int argc, char **argv, char **envp)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *facts_path = argc > 2 && argv[2][0] == '/' ? argv[2] : NULL;
	if (!strcmp(mode, "procs"))
		return mode_procs(facts_path);
	if (!strcmp(mode, "net"))
		return mode_net(facts_path);
	if (!strcmp(mode, "files"))
		return mode_files(facts_path);
	if (!strcmp(mode, "tree"))
		return mode_tree(facts_path);
	if (!strcmp(mode, "argv-child"))
		return mode_argv_child(argc, argv, envp);
	static const char usage[] = "usage: ckpt-workload procs|net|files|tree [FACTS_FILE]\n";
	if (write(2, usage, sizeof usage - 1) < 0) {
	}
	return 2;
}
