#!/bin/sh
# start-cluster.sh DIR starts a three-node Slurm cluster on this machine,
# with every file under DIR: munged with a fresh key, slurmctld, and slurmd
# for the nodes n1, n2 and n3 (two CPUs each, all on 127.0.0.1). It needs
# root, slurm-wlm and munge. It is idempotent: a cluster already running
# from DIR is left alone. It prints the lines to evaluate for using it:
#   eval "$(testdata/slurm/start-cluster.sh /tmp/slurm)"; salloc -N3 ...
# and stop-cluster.sh DIR stops it.
set -eu

dir=${1:?usage: start-cluster.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/slurm.conf
env_lines() {
	echo "export SLURM_CONF=$conf"
	echo "export CONCURR_SLURM_DIR=$dir"
}

for cmd in munged slurmctld slurmd salloc; do
	command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || {
		echo "start-cluster.sh: $cmd is not installed (apt-get install slurm-wlm munge)" >&2
		exit 1
	}
done
PATH=$PATH:/usr/sbin

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$dir/munged.pid" && alive "$dir/slurmctld.pid" &&
	alive "$dir/slurmd.n1.pid" && alive "$dir/slurmd.n2.pid" && alive "$dir/slurmd.n3.pid"; then
	env_lines
	exit 0
fi

mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
# munged wants its folders to be its own and closed to others.
chmod 700 "$dir/munge"
if [ ! -f "$dir/munge/munge.key" ]; then
	dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
fi
chmod 400 "$dir/munge/munge.key"
# munged runs as the user that owns its key. The munge user cannot reach
# a folder under a private temp folder, so in one it runs as root.
munge_user=root
if id munge >/dev/null 2>&1 && runuser -u munge -- test -x "$dir/munge" 2>/dev/null; then
	munge_user=munge
fi
chown -R "$munge_user" "$dir/munge"
socket=$dir/munge/munge.socket
if ! alive "$dir/munged.pid"; then
	rm -f "$dir/munge/munged.pid"
	runuser -u "$munge_user" -- munged --key-file="$dir/munge/munge.key" --socket="$socket" \
		--pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
		--seed-file="$dir/munge/munged.seed" --force
	for _ in $(seq 50); do [ -s "$dir/munge/munged.pid" ] && break; sleep 0.1; done
	cp "$dir/munge/munged.pid" "$dir/munged.pid"
fi

host=$(hostname)
# Ports are fixed by the configuration; a test folder of its own picks them
# from the folder's name so that two clusters do not collide.
base=${CONCURR_SLURM_PORT:-17000}
cat > "$conf" <<CONF
ClusterName=concurr
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$((base + 17))
SlurmdPort=$((base + 18))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.%n.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.%n.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=10
KillWait=2
NodeName=n[1-3] NodeHostname=$host NodeAddr=127.0.0.1 Port=$((base + 1))-$((base + 3)) CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=n[1-3] Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF="$conf"
if ! alive "$dir/slurmctld.pid"; then
	slurmctld -c >/dev/null 2>&1 || slurmctld -c
fi
for n in n1 n2 n3; do
	mkdir -p "$dir/spool/$n"
	if ! alive "$dir/slurmd.$n.pid"; then
		slurmd -N "$n"
	fi
done
# Wait until the controller answers and every node is idle.
for _ in $(seq 100); do
	idle=$(sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l)
	[ "$idle" -ge 3 ] && break
	sleep 0.2
done
if [ "$(sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l)" -lt 3 ]; then
	echo "start-cluster.sh: the nodes did not come up; see $dir/*.log" >&2
	sinfo -N >&2 || true
	exit 1
fi
env_lines
