/*
 * The "compromised" lab workload (testdata/make-compromised.sh): pid 1 of a container that plants
 * what `ckpt findings` must find, then prints one JSON line of facts and waits for the checkpoint.
 *
 *   implant                 pid 1: plants, starts the children, prints the facts line
 *   implant sleeper         a child that only waits (after exec: memfd, deleted binary, LD_PRELOAD)
 *
 * Dynamically linked on purpose (libc code pages, an LD_PRELOAD library).  Not malware: every
 * "implant" is a marker string or a few int3 bytes in the process's own memory.
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORT 4444
static const char RWX_MARKER[] = "CKPT-RWX-MARKER-5f1e-implant";
static const unsigned char LIBC_PATCH[] = "\xcc\xcc\xcc\xcc" "CKPT-LIBC-PATCH-9d3a";

static void die(const char *what) {
	fprintf(stderr, "implant: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sleep_forever(void) {
	for (;;) pause();
}

/* Copies a file, mode `mode`. */
static void copy_file(const char *from, const char *to, mode_t mode) {
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (in < 0 || out < 0) die(to);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n) die(to);
	close(in);
	close(out);
	if (chmod(to, mode)) die(to);
}

static void write_file(const char *path, const char *text, int append, mode_t mode) {
	int fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), mode);
	if (fd < 0) die(path);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die(path);
	close(fd);
	if (!append && chmod(path, mode)) die(path);
}

static pid_t spawn(char *const argv[], char *const envp[], const char *path, int exec_fd) {
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		if (exec_fd >= 0) syscall(SYS_execveat, exec_fd, "", argv, envp, AT_EMPTY_PATH);
		else execve(path, argv, envp);
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "sleeper") == 0) {
		/* a memfd program names itself like a kernel thread */
		if (strncmp(argv[0], "[kworker", 8) == 0) prctl(PR_SET_NAME, "kworker/0:1");
		sleep_forever();
	}
	if (getpid() != 1) {
		fprintf(stderr, "implant: run me as pid 1 of a container\n");
		return 1;
	}
	signal(SIGCHLD, SIG_DFL);

	/* 1. writable and executable anonymous memory: a tiny function and a marker */
	unsigned char *rwx = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rwx == MAP_FAILED) die("mmap rwx");
	static const unsigned char code[] = {0x48, 0x31, 0xc0, 0xc3}; /* xor rax,rax; ret */
	memcpy(rwx, code, sizeof code);
	memcpy(rwx + 0x40, RWX_MARKER, sizeof RWX_MARKER);
	((long (*)(void))rwx)();

	/* 2. a patched libc code page: mprotect writable, write, mprotect back to r-x */
	unsigned char *target = (unsigned char *)(void *)&strfry;
	unsigned char *page = (unsigned char *)((unsigned long)target & ~4095UL);
	if (mprotect(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC)) die("mprotect rwx");
	memcpy(target, LIBC_PATCH, sizeof LIBC_PATCH - 1);
	if (mprotect(page, 4096, PROT_READ | PROT_EXEC)) die("mprotect r-x");

	/* 3. files: a log deleted while open, a setuid copy, a passwd line, executables in /tmp and a hidden dir, ... */
	int deleted_fd = open("/tmp/.implant.log", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (deleted_fd < 0) die("/tmp/.implant.log");
	write_file("/tmp/.implant.log", "CKPT-DELETED-LOG\n", 1, 0600);
	unlink("/tmp/.implant.log");
	copy_file("/proc/self/exe", "/usr/local/bin/.sysupdate", 04755);
	write_file("/etc/passwd", "backdoor:x:0:0:backdoor:/root:/bin/sh\n", 1, 0644);
	copy_file("/proc/self/exe", "/tmp/payload", 0755);
	mkdir("/var/tmp/.cache", 0700);
	write_file("/var/tmp/.cache/.x", "#!/bin/sh\necho CKPT-HIDDEN-SCRIPT\n", 0, 0755);
	mkdir("/root/.ssh", 0700);
	write_file("/root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICKPTCKPTCKPTCKPTCKPTCKPTCKPTCKPTCKPTCKPTCK backdoor@ckpt\n", 0, 0600);
	write_file("/etc/cron.d/backdoor", "* * * * * root /tmp/payload\n", 0, 0644);

	/* 4. children */
	char *const clean_env[] = {"PATH=/usr/bin:/bin", NULL};
	/* a program run from a memfd, calling itself [kworker/0:1] */
	int mfd = memfd_create("kworker", 0);
	if (mfd < 0) die("memfd_create");
	{
		int in = open("/proc/self/exe", O_RDONLY);
		char buf[65536];
		ssize_t n;
		while ((n = read(in, buf, sizeof buf)) > 0)
			if (write(mfd, buf, n) != n) die("memfd write");
		close(in);
	}
	char *const memfd_argv[] = {"[kworker/0:1]", "sleeper", NULL};
	pid_t memfd_pid = spawn(memfd_argv, clean_env, NULL, mfd);
	/* a program whose binary is deleted once it runs */
	copy_file("/proc/self/exe", "/var/tmp/.dropper", 0755);
	char *const dropper_argv[] = {"/var/tmp/.dropper", "sleeper", NULL};
	pid_t deleted_pid = spawn(dropper_argv, clean_env, "/var/tmp/.dropper", -1);
	/* a program with LD_PRELOAD */
	char *const preload_env[] = {"PATH=/usr/bin:/bin", "LD_PRELOAD=/usr/lib/libhook.so", NULL};
	char *const preload_argv[] = {"/usr/bin/implant", "sleeper", NULL};
	pid_t preload_pid = spawn(preload_argv, preload_env, "/usr/bin/implant", -1);

	/* a listener on every interface, and a shell whose stdin/stdout/stderr are a connection to it */
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(INADDR_ANY)};
	if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4)) die("listen");
	pid_t shell_pid = fork();
	if (shell_pid < 0) die("fork");
	if (shell_pid == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (connect(c, (struct sockaddr *)&to, sizeof to)) _exit(2);
		dup2(c, 0);
		dup2(c, 1);
		dup2(c, 2);
		close(c);
		close(ls);
		close(deleted_fd);
		close(mfd);
		execl("/bin/sh", "sh", (char *)NULL);
		_exit(127);
	}
	int conn = accept(ls, NULL, NULL);
	if (conn < 0) die("accept");

	/* wait for the children to have exec'ed, then delete the dropper's binary */
	usleep(300000);
	unlink("/var/tmp/.dropper");
	/* last: a preload for every new program (none is started after this) */
	write_file("/etc/ld.so.preload", "/usr/lib/libhook.so\n", 0, 0644);

	printf("{\"mode\":\"compromised\",\"pid\":%d,\"rwx\":{\"start\":\"%p\",\"marker_addr\":\"%p\",\"marker\":\"%s\",\"code_hex\":\"4831c0c3\"},"
	       "\"libc_patch\":{\"function\":\"strfry\",\"addr\":\"%p\",\"page\":\"%p\",\"bytes_hex\":\"cccccccc\",\"marker\":\"CKPT-LIBC-PATCH-9d3a\"},"
	       "\"children\":{\"memfd\":%d,\"deleted\":%d,\"preload\":%d,\"shell\":%d},"
	       "\"listener\":{\"pid\":%d,\"fd\":%d,\"port\":%d,\"conn_fd\":%d},\"deleted_fd\":%d,\"memfd_fd\":%d}\n",
	       getpid(), (void *)rwx, (void *)(rwx + 0x40), RWX_MARKER, (void *)target, (void *)page, memfd_pid, deleted_pid, preload_pid, shell_pid,
	       getpid(), ls, PORT, conn, deleted_fd, mfd);
	fflush(stdout);
	for (;;) {
		pause();
		while (waitpid(-1, NULL, WNOHANG) > 0) {
		}
	}
}
