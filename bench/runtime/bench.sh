#!/bin/sh
# Start to exit of /bin/true in a container (pid, mount, uts, ipc, net namespaces,
# overlay rootfs, a cgroup), under quai and runc, on the same bundle, in one run.
# Usage (as root): bench/runtime/bench.sh [path/to/quai]   (default: target/release/quai)
# Writes bench/runtime/results.md and results.json (hyperfine's), prints the medians
# and the supervisor's memory (idle; after a burst of output; once quiet again; while
# its container writes steadily).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
quai=${1:-$here/../../target/release/quai}
quai=$(cd "$(dirname "$quai")" && pwd)/$(basename "$quai")
runs=${RUNS:-200}
work=$(mktemp -d /tmp/quai-bench.XXXXXX)
cleanup() {
    umount "$work/host/rootfs" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The image layer: busybox-static and its applet links, read only from here on.
mkdir -p "$work/layer/bin" "$work/layer/etc" "$work/layer/tmp"
cp /bin/busybox "$work/layer/bin/busybox"
for name in $(/bin/busybox --list); do
    [ "$name" = busybox ] || ln -s busybox "$work/layer/bin/$name"
done

# Bundle 1, "host": the overlay is mounted on the host before the run (what runc needs,
# and what quai accepts as any directory rootfs).
mkdir -p "$work/host/rootfs" "$work/host/upper" "$work/host/work"
"$quai" runtime spec --bundle "$work/host" --pids 100 --memory 67108864 -- /bin/true
mount -t overlay overlay \
    -o "lowerdir=$work/layer,upperdir=$work/host/upper,workdir=$work/host/work" \
    "$work/host/rootfs"

# Bundle 2, "own": quai mounts the overlay itself, inside the container's mount
# namespace (how quai runs its own containers: nothing to unmount afterwards).
mkdir -p "$work/own/rootfs" "$work/own/upper" "$work/own/work"
"$quai" runtime spec --bundle "$work/own" --pids 100 --memory 67108864 \
    --annotation "org.quai.overlay.lower=$work/layer" \
    --annotation "org.quai.overlay.upper=$work/own/upper" \
    --annotation "org.quai.overlay.work=$work/own/work" -- /bin/true

# Bundle 3, "nonet": like "own" without a network namespace, to price that one.
mkdir -p "$work/nonet/rootfs" "$work/nonet/upper" "$work/nonet/work"
sed 's/{"type":"network"},\{0,1\}//; s/,]/]/' "$work/own/config.json" |
    sed "s#$work/own/#$work/nonet/#g" > "$work/nonet/config.json"

hyperfine -N --warmup 10 --runs "$runs" \
    --export-markdown "$here/results.md" --export-json "$here/results.json" \
    -n "quai run (host overlay)" "$quai runtime run --root $work/quai-root --bundle $work/host bench" \
    -n "quai run (own overlay)" "$quai runtime run --root $work/quai-root --bundle $work/own bench" \
    -n "quai run (own overlay, no net ns)" "$quai runtime run --root $work/quai-root --bundle $work/nonet bench" \
    -n "runc run (host overlay)" "runc --root $work/runc-root run --bundle $work/host bench" \
    -n "unshare -pmuin --fork /bin/true (no rootfs, no cgroup)" "unshare -pmuin --fork /bin/true"

# Medians (hyperfine's table shows means).
sed -n 's/.*"command": "\(.*\)",$/\1/p; s/.*"median": \([0-9.]*\),$/  median \1 s/p' "$here/results.json"

# Memory of a supervisor holding a running container.
rss() {
    supervisor=$(sed 's/.*"supervisor":\([0-9]*\).*/\1/' "$work/quai-root/$1/state.json")
    echo "supervisor of $1 ($2): $(grep -E 'VmRSS|RssAnon|RssFile' /proc/$supervisor/status | tr -s ' \t' ' ' | tr '\n' ' ')"
}
for name in idle chatty steady; do
    mkdir -p "$work/$name/rootfs" "$work/$name/upper" "$work/$name/work"
done
sed "s#$work/own/#$work/idle/#g; s#\"/bin/true\"#\"/bin/sleep\",\"60\"#" "$work/own/config.json" > "$work/idle/config.json"
"$quai" runtime create --root "$work/quai-root" --bundle "$work/idle" idle
"$quai" runtime start --root "$work/quai-root" idle
sleep 0.5
rss idle "sleep 60"
# A container on its own overlay running `sh -c SCRIPT`, created and started.
start_shell() {
    name=$1 script=$2
    shift 2
    "$quai" runtime spec --bundle "$work/$name" "$@" \
        --annotation "org.quai.overlay.lower=$work/layer" \
        --annotation "org.quai.overlay.upper=$work/$name/upper" \
        --annotation "org.quai.overlay.work=$work/$name/work" -- sh -c "$script"
    "$quai" runtime create --root "$work/quai-root" --bundle "$work/$name" "$name"
    "$quai" runtime start --root "$work/quai-root" "$name"
}
start_shell chatty 'i=0; while [ $i -lt 500 ]; do echo line $i; i=$((i+1)); done; exec sleep 60' \
    --annotation org.quai.restart=on-failure
sleep 0.3
rss chatty "just after 500 lines"
sleep 2
rss chatty "quiet for 2 s"
start_shell steady 'while true; do echo line; usleep 2000; done'
sleep 1.5
rss steady "writing a line every 2 ms"

"$quai" runtime delete --root "$work/quai-root" --force idle
"$quai" runtime delete --root "$work/quai-root" --force chatty
"$quai" runtime delete --root "$work/quai-root" --force steady
