/*
 * The coredump fixture's workload: a small dynamically linked program (glibc), so that a core of
 * it has shared libraries for gdb to find under `set sysroot`. It plants markers in memory, maps
 * a file of the image and a file written at run time (so it is in the root file-system diff),
 * leaves a signal pending on its main thread and one on the process, starts a worker thread that
 * blocks in read(2), prints one JSON facts line and waits in pause(2).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static char data_marker[64] = "CKPT-DYN-DATA-SECRET-5d1e";
static const char diff_marker[] = "CKPT-DYN-DIFF-SECRET-4b7a\n";
static int pipefd[2];
static volatile pid_t worker_tid;

static void on_signal(int sig) { (void)sig; }

static void *worker(void *arg) {
	(void)arg;
	prctl(PR_SET_NAME, "ckpt-dyn-worker");
	worker_tid = (pid_t)syscall(SYS_gettid);
	char c;
	if (read(pipefd[0], &c, 1) < 0) perror("read");
	return NULL;
}

static void *map_file(const char *path, int create) {
	int fd = create ? open(path, O_RDWR | O_CREAT | O_TRUNC, 0644) : open(path, O_RDONLY);
	if (fd < 0) { perror(path); exit(1); }
	if (create && write(fd, diff_marker, sizeof diff_marker - 1) != (ssize_t)(sizeof diff_marker - 1)) { perror("write"); exit(1); }
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) { perror("mmap"); exit(1); }
	close(fd);
	return p;
}

int main(void) {
	prctl(PR_SET_NAME, "ckpt-dyn-main");
	char *heap = malloc(256);
	strcpy(heap, "CKPT-DYN-HEAP-SECRET-88c3");
	char *image_map = map_file("/etc/ckpt-image-data", 0);
	char *diff_map = map_file("/var/ckpt-diff-data", 1);
	if (pipe(pipefd) != 0) { perror("pipe"); return 1; }

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* the worker inherits the mask */

	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0) { perror("pthread_create"); return 1; }
	while (worker_tid == 0) usleep(1000);
	usleep(50000);
	raise(SIGUSR1); /* pending on the main thread */
	union sigval v = { .sival_int = 4242 };
	sigqueue(getpid(), SIGUSR2, v); /* pending on the process */

	printf("{\"mode\":\"dyn\",\"pid\":%d,\"threads\":[{\"tid\":%d,\"comm\":\"ckpt-dyn-main\"},{\"tid\":%d,\"comm\":\"ckpt-dyn-worker\"}],"
	       "\"secrets\":[{\"kind\":\"heap\",\"addr\":\"%p\",\"marker\":\"%s\"},{\"kind\":\"data\",\"addr\":\"%p\",\"marker\":\"%s\"}],"
	       "\"image_file\":{\"path\":\"/etc/ckpt-image-data\",\"addr\":\"%p\",\"marker\":\"CKPT-DYN-IMAGE-SECRET-19f0\"},"
	       "\"diff_file\":{\"path\":\"/var/ckpt-diff-data\",\"addr\":\"%p\",\"marker\":\"CKPT-DYN-DIFF-SECRET-4b7a\"},"
	       "\"pending\":{\"thread\":%d,\"process\":%d,\"process_value\":4242}}\n",
	       getpid(), getpid(), worker_tid, (void *)heap, heap, (void *)data_marker, data_marker, (void *)image_map, (void *)diff_map, SIGUSR1, SIGUSR2);
	fflush(stdout);
	for (;;) pause();
}
