#!/bin/sh
# stop-cluster.sh DIR stops the cluster start-cluster.sh DIR started, and
# waits up to ten seconds for its daemons to exit, so that DIR can then be
# removed.
set -u
dir=${1:?usage: stop-cluster.sh DIR}
pids=
for f in "$dir"/slurmd.*.pid "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null && pids="$pids $pid"
done
for _ in $(seq 100); do
	left=
	for pid in $pids; do
		kill -0 "$pid" 2>/dev/null && left="$left $pid"
	done
	[ -z "$left" ] && exit 0
	pids=$left
	sleep 0.1
done
echo "stop-cluster.sh: still running:$pids" >&2
exit 1
