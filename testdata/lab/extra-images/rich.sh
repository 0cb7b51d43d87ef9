
rm -f /tmp/rich.ready
setsid unshare -iu python3 /work/ck/rich.py </dev/null >/tmp/rich.log 2>&1 &
for i in $(seq 50); do [ -f /tmp/rich.ready ] && break; sleep 0.2; done
cat /tmp/rich.log
PID=$(cat /tmp/rich.ready)
D=/out/scratch-images/rich; rm -rf $D; mkdir -p $D
criu dump -t $PID -D $D --tcp-established --file-locks --ext-unix-sk -o dump.log -v4 || { grep -E 'Error|error' $D/dump.log | head -30; }
ls $D
