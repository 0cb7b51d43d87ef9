/*
 * diff-workload: the container checkpointed twice for the `ckpt diff` fixtures (testdata/diff/).
 *
 * Built statically on the host (gcc -static -O1 -pthread) and run as pid 1 of a busybox-based
 * Podman container by testdata/diff/make-diff-pair.sh.  It sets up state A, prints one line of
 * JSON facts ({"phase":"a",...}) and waits for SIGUSR1.  The script checkpoints it
 * (--leave-running), sends SIGUSR1; the workload then changes things, prints a second facts line
 * ({"phase":"b",...}) and sleeps; the script checkpoints it again.
 *
 * State A:
 *   pid 1  diff-main     fd 3 /data/grow.txt (O_RDWR, 10 bytes, pos 10)
 *                        fd 4 /data/closeme.txt (O_RDONLY, closed in B)
 *                        fd 5 TCP listen 127.0.0.1:7101
 *                        "stable" private anonymous mapping of 8 pages, each filled with its own
 *                        byte pattern; "keep" mapping of 4 pages never written after A
 *   child  diff-sleeper  sleeps (stopped with SIGSTOP in B)
 *   child  diff-doomed   sleeps (killed and reaped in B: removed)
 *   rootfs: /data/changed.txt ("version one\n"), /data/removed.txt, /data/grow.txt, /data/closeme.txt
 *
 * Changes for B (all after SIGUSR1):
 *   - diff-doomed killed and reaped; diff-sleeper stopped (SIGSTOP);
 *   - a new child diff-newchild (re-exec of /proc/self/exe with argv "newchild" and its own env);
 *   - a new thread diff-newthread in pid 1;
 *   - CAP_KILL dropped from pid 1's bounding set;
 *   - fd 3: 90 more bytes written (pos 100, size 100); fd 4 closed; fd 6 /data/opened.txt opened;
 *   - fd 7 TCP client connected to 127.0.0.1:7101, fd 8 the accepted socket, 17 bytes unread in 8;
 *   - a new 4-page private anonymous mapping with a marker at +100;
 *   - page 5 of "stable" gets a marker at +64 (exactly one page of that region changes);
 *   - rootfs: /data/changed.txt rewritten, /data/added.txt created, /data/removed.txt deleted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static void die(const char *what)
{
	char buf[256];
	int n = snprintf(buf, sizeof buf, "diff-workload: %s: %s\n", what, strerror(errno));
	if (write(2, buf, n) < 0) {
	}
	_exit(111);
}

static void __attribute__((noreturn)) sleep_forever(void)
{
	for (;;) {
		struct timespec ts = {3600, 0};
		nanosleep(&ts, NULL);
	}
}

static void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(path);
	close(fd);
}

static void open_at(const char *path, int flags, int want)
{
	int fd = open(path, flags);
	if (fd < 0)
		die(path);
	if (fd != want) {
		if (dup2(fd, want) < 0)
			die("dup2");
		close(fd);
	}
}

static pid_t spawn_sleeper(const char *name)
{
	pid_t p = fork();
	if (p < 0)
		die("fork");
	if (p == 0) {
		prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
		sleep_forever();
	}
	return p;
}

static volatile sig_atomic_t go;
static void on_usr1(int sig) { (void)sig; go = 1; }

static void *new_thread(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, (unsigned long)"diff-newthread", 0, 0, 0);
	sleep_forever();
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "newchild") == 0) {
		prctl(PR_SET_NAME, (unsigned long)"diff-newchild", 0, 0, 0);
		sleep_forever();
	}
	prctl(PR_SET_NAME, (unsigned long)"diff-main", 0, 0, 0);
	/* a fresh descriptor table: only 0-2 from the engine */
	for (int fd = 3; fd < 64; fd++)
		close(fd);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	/* ---------- state A ---------- */
	mkdir("/data", 0755);
	put_file("/data/changed.txt", "version one\n");
	put_file("/data/removed.txt", "this file is removed before the second checkpoint\n");
	put_file("/data/closeme.txt", "closed before the second checkpoint\n");
	open_at("/data/grow.txt", O_RDWR | O_CREAT | O_TRUNC, 3);
	if (write(3, "0123456789", 10) != 10)
		die("write grow");
	open_at("/data/closeme.txt", O_RDONLY, 4);

	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7101)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(l, (void *)&a, sizeof a) || listen(l, 4))
		die("listen");
	if (l != 5) {
		dup2(l, 5);
		close(l);
	}

	unsigned char *stable = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *keep = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stable == MAP_FAILED || keep == MAP_FAILED)
		die("mmap");
	for (unsigned long i = 0; i < 8 * PAGE; i++)
		stable[i] = (unsigned char)('A' + (i / PAGE)) ^ (unsigned char)(i & 0x0f);
	for (unsigned long i = 0; i < 4 * PAGE; i++)
		keep[i] = (unsigned char)(i * 7);

	pid_t sleeper = spawn_sleeper("diff-sleeper");
	pid_t doomed = spawn_sleeper("diff-doomed");

	printf("{\"phase\":\"a\",\"pid\":%d,\"sleeper\":%d,\"doomed\":%d,\"stable\":\"0x%lx\",\"stable_len\":%lu,"
	       "\"keep\":\"0x%lx\",\"keep_len\":%lu,\"listen_port\":7101}\n",
	       (int)getpid(), (int)sleeper, (int)doomed, (unsigned long)stable, 8 * PAGE, (unsigned long)keep, 4 * PAGE);
	fflush(stdout);

	/* ---------- wait for the first checkpoint ---------- */
	sigset_t none;
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);

	/* ---------- changes for B ---------- */
	kill(doomed, SIGKILL);
	waitpid(doomed, NULL, 0);
	kill(sleeper, SIGSTOP);
	waitpid(sleeper, NULL, WUNTRACED);

	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		char *cargv[] = {"/diff-workload", "newchild", NULL};
		char *cenv[] = {"PATH=/bin", "DIFF_CHILD=1", NULL};
		execve("/proc/self/exe", cargv, cenv);
		die("execve");
	}

	pthread_t t;
	if (pthread_create(&t, NULL, new_thread, NULL))
		die("pthread_create");

	if (prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0))
		die("PR_CAPBSET_DROP");

	char more[91];
	memset(more, 'x', 90);
	more[90] = 0;
	if (write(3, more, 90) != 90)
		die("write grow");
	close(4);
	open_at("/data/opened.txt", O_RDWR | O_CREAT | O_TRUNC, 6);

	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (void *)&a, sizeof a))
		die("connect");
	if (c != 7) {
		dup2(c, 7);
		close(c);
	}
	int s = accept(5, NULL, NULL);
	if (s < 0)
		die("accept");
	if (s != 8) {
		dup2(s, 8);
		close(s);
	}
	if (write(7, "DIFF-UNREAD-BYTES", 17) != 17)
		die("send");
	struct sockaddr_in me;
	socklen_t ml = sizeof me;
	getsockname(7, (void *)&me, &ml);

	unsigned char *fresh = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fresh == MAP_FAILED)
		die("mmap");
	memcpy(fresh + 100, "DIFF-NEW-REGION-MARKER", 22);
	memcpy(stable + 5 * PAGE + 64, "DIFF-CHANGED-PAGE-MARKER", 24);

	put_file("/data/changed.txt", "version two, longer\n");
	put_file("/data/added.txt", "added before the second checkpoint\n");
	unlink("/data/removed.txt");

	usleep(200000); /* let the thread name itself and the child exec */
	printf("{\"phase\":\"b\",\"pid\":%d,\"newchild\":%d,\"client_port\":%d,\"fresh\":\"0x%lx\",\"fresh_len\":%lu,"
	       "\"changed_page\":\"0x%lx\",\"marker_at\":\"0x%lx\",\"grow_size\":100,\"unread\":17}\n",
	       (int)getpid(), (int)child, ntohs(me.sin_port), (unsigned long)fresh, 4 * PAGE,
	       (unsigned long)(stable + 5 * PAGE), (unsigned long)(stable + 5 * PAGE + 64));
	fflush(stdout);
	sleep_forever();
}
