/*
 * ckpt-piggie: the workload behind testdata/piggie/ (the fixture for the ported checkpointctl
 * scenarios, test/checkpointctl-scenarios.test.ts).  Written for ckpt; it sets up what
 * checkpointctl's own test program sets up, as pid 1 of a Podman container:
 *   pid 1 "piggie"          parent of all, no sockets, a regular file open, known strings in memory
 *     "tcp-server"          listens on 0.0.0.0:5000, forks one "tcp-conn" per connection
 *       "tcp-conn"          the accepted connection
 *     "tcp-client"          connected to 127.0.0.1:5000, sends "ping" every second
 *     "piggie-zombie"       exited, never reaped (its children are reparented to pid 1):
 *   "stopped-child"         stopped by SIGSTOP
 *   "alive-child"           sleeps
 * When everything is set up it prints one JSON facts line on stdout (pids, strings, addresses).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORT 5000

/* known strings, in the data segment of every process forked from pid 1 */
static char marker[] = "CKPT-PIGGIE-MEMORY-MARKER-7f3a";
static volatile char *keep;

static void name(const char *n) { prctl(PR_SET_NAME, (unsigned long)n, 0, 0, 0); }

static void forever(void) {
	for (;;) pause();
}

static pid_t tcp_server(int ready) {
	pid_t p = fork();
	if (p != 0) return p;
	name("tcp-server");
	signal(SIGCHLD, SIG_IGN);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(INADDR_ANY)};
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 5)) _exit(10);
	if (write(ready, "s", 1) != 1) _exit(11);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR) continue;
			_exit(12);
		}
		if (fork() == 0) {
			char buf[256];
			name("tcp-conn");
			close(s);
			if (write(ready, "c", 1) != 1) _exit(13);
			while (recv(c, buf, sizeof buf, 0) > 0) {}
			_exit(0);
		}
		close(c);
	}
}

static pid_t tcp_client(void) {
	pid_t p = fork();
	if (p != 0) return p;
	name("tcp-client");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	for (int i = 0; connect(s, (struct sockaddr *)&a, sizeof a) != 0; i++) {
		if (i > 100) _exit(20);
		usleep(20000);
	}
	for (;;) {
		send(s, "ping", 4, 0);
		sleep(1);
	}
}

/* pid 1's child that exits at once, leaving a zombie; its two children are reparented to pid 1 */
static pid_t zombie(int ready) {
	pid_t p = fork();
	if (p != 0) return p;
	name("piggie-zombie");
	if (fork() == 0) {
		name("stopped-child");
		if (write(ready, "t", 1) != 1) _exit(31);
		raise(SIGSTOP);
		forever();
	}
	if (fork() == 0) {
		name("alive-child");
		if (write(ready, "a", 1) != 1) _exit(32);
		forever();
	}
	_exit(0);
}

static void await(int fd, int n) {
	char c;
	while (n > 0 && read(fd, &c, 1) == 1) n--;
}

int main(void) {
	int pipefd[2];
	name("piggie");
	keep = marker;
	if (pipe(pipefd)) return 1;
	int file = open("/etc/piggie.conf", O_RDONLY);
	if (file < 0) file = open("/etc/passwd", O_RDONLY);
	pid_t server = tcp_server(pipefd[1]);
	await(pipefd[0], 1);
	pid_t client = tcp_client();
	await(pipefd[0], 1); /* tcp-conn runs */
	pid_t z = zombie(pipefd[1]);
	await(pipefd[0], 2); /* stopped-child and alive-child run */
	close(pipefd[0]);
	close(pipefd[1]);
	usleep(300000);
	/* the zombie's children, now ours: find them by name */
	printf("{\"mode\":\"piggie\",\"pid\":%d,\"comm\":\"piggie\",\"tcp_server\":%d,\"tcp_client\":%d,\"zombie\":%d,"
	       "\"port\":%d,\"file_fd\":%d,\"marker\":\"%s\",\"marker_address\":\"%p\",\"env\":{\"TEST_ENV\":\"%s\",\"TEST_ENV_EMPTY\":\"%s\"}}\n",
	       getpid(), server, client, z, PORT, file, marker, (void *)marker, getenv("TEST_ENV") ? getenv("TEST_ENV") : "",
	       getenv("TEST_ENV_EMPTY") ? getenv("TEST_ENV_EMPTY") : "");
	fflush(stdout);
	/* never reap: the zombie stays a zombie */
	sigset_t all;
	sigfillset(&all);
	sigdelset(&all, SIGTERM);
	sigdelset(&all, SIGKILL);
	sigprocmask(SIG_SETMASK, &all, NULL);
	forever();
}
