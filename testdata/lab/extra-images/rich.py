import os, sys, socket, signal, ctypes, ctypes.util, time, threading, select, fcntl, struct, mmap
libc = ctypes.CDLL(None, use_errno=True)
os.chdir('/tmp')
# pipe with data
pr, pw = os.pipe(); os.write(pw, b'pipe-data-\x00\x01\xff' * 3)
# fifo with data
if os.path.exists('/tmp/ff'): os.unlink('/tmp/ff')
os.mkfifo('/tmp/ff'); ff = os.open('/tmp/ff', os.O_RDWR); os.write(ff, b'fifo bytes here')
# ghost file (unlinked)
g = open('/tmp/ghost.txt', 'w+b'); g.write(b'ghost contents ' * 10); g.flush(); os.unlink('/tmp/ghost.txt')
# regular file with flock + append flags
lf = open('/tmp/locked', 'a'); fcntl.flock(lf, fcntl.LOCK_EX)
# sysv sem
IPC_CREAT=0o1000; SETALL=17
semid = libc.semget(0x1234, 3, IPC_CREAT | 0o600)
arr = (ctypes.c_ushort * 3)(7, 0, 65535)
libc.semctl(semid, 0, SETALL, arr)
# sysv msg
msqid = libc.msgget(0x2345, IPC_CREAT | 0o600)
class M(ctypes.Structure): _fields_ = [('mtype', ctypes.c_long), ('text', ctypes.c_char * 64)]
for i, t in enumerate([b'hello msg', b'second message!!', b'x']):
    m = M(i + 1, t); libc.msgsnd(msqid, ctypes.byref(m), len(t), 0)
# sysv shm
shmid = libc.shmget(0x3456, 8192, IPC_CREAT | 0o600)
libc.shmat.restype = ctypes.c_void_p
addr = libc.shmat(shmid, None, 0); ctypes.memmove(addr, b'SHM-CONTENT', 11)
# sockets
a, b = socket.socketpair(); a.send(b'queued on unix stream')
da, db = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM); da.send(b'dgram1'); da.send(b'dgram2')
us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); us.bind('\0abstract-name\n with = and spaces '); us.listen(1)
if os.path.exists('/tmp/path.sock'): os.unlink('/tmp/path.sock')
up = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); up.bind('/tmp/path.sock')
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); ls.bind(('127.0.0.1', 0)); ls.listen(5)
c = socket.create_connection(ls.getsockname()); s, _ = ls.accept()
c.send(b'client->server unread'); s.send(b'server->client unread')
l6 = socket.socket(socket.AF_INET6); l6.bind(('::1', 0)); l6.listen(1)
c6 = socket.create_connection(l6.getsockname()[:2]); s6, _ = l6.accept(); c6.send(b'v6 data')
u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u4.bind(('127.0.0.2', 0))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.bind(('::ffff:127.0.0.1', 0))
try:
    pk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
except Exception as e: print('packet', e)
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); nl.bind((0, 0))
# eventfd, epoll, timerfd, memfd, signalfd, inotify
efd = os.eventfd(42)
ep = select.epoll(); ep.register(efd, select.EPOLLIN); ep.register(pr, select.EPOLLIN | select.EPOLLET)
tfd = os.timerfd_create(time.CLOCK_MONOTONIC); os.timerfd_settime(tfd, initial=100, interval=5)
mfd = os.memfd_create('rich-memfd', os.MFD_ALLOW_SEALING); os.write(mfd, b'memfd data'); mm = mmap.mmap(mfd, 10); fcntl.fcntl(mfd, 1033, 2 | 4)  # F_ADD_SEALS
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})
mask = (ctypes.c_ulong * 16)(); mask[0] = (1 << (signal.SIGUSR1 - 1)) | (1 << (signal.SIGUSR2 - 1))
sfd = libc.signalfd(-1, mask, 8, os.O_NONBLOCK)
ifd = libc.inotify_init1(os.O_CLOEXEC); libc.inotify_add_watch(ifd, b'/tmp', 0x100 | 0x200)
# pty
mfd_pty, sfd_pty = os.openpty(); os.write(mfd_pty, b'typed\n')
# itimer and posix timer
signal.signal(signal.SIGALRM, lambda *a: None)
signal.setitimer(signal.ITIMER_REAL, 1000, 500)
signal.signal(signal.SIGUSR2, signal.SIG_IGN)
tid = ctypes.c_long(0)
libc.timer_create(1, None, ctypes.byref(tid))
class TS(ctypes.Structure): _fields_ = [('s', ctypes.c_long), ('ns', ctypes.c_long)]
class ITS(ctypes.Structure): _fields_ = [('i', TS), ('v', TS)]
libc.timer_settime(tid, 0, ctypes.byref(ITS(TS(3, 0), TS(500, 0))), None)
# threads
ev = threading.Event()
for i in range(2): threading.Thread(target=ev.wait, daemon=True).start()
# children: one stopped, one zombie
p1 = os.fork()
if p1 == 0:
    while True: time.sleep(1)
os.kill(p1, signal.SIGSTOP)
p2 = os.fork()
if p2 == 0: os._exit(3)
time.sleep(0.5)
open('/tmp/rich.ready', 'w').write(str(os.getpid()))
while True: time.sleep(1)
