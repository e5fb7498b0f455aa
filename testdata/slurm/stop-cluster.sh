#!/bin/sh
# stop-cluster.sh DIR stops the cluster start-cluster.sh DIR started.
set -u
dir=${1:?usage: stop-cluster.sh DIR}
for f in "$dir"/slurmd.*.pid "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
	[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
done
exit 0
