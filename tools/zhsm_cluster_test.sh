#!/usr/bin/env bash
# Unit test of tools/zhsm-cluster's command line and of the commands that must be
# harmless on a cluster that does not run: usage errors exit 2, `down` and
# `status` on a missing or stopped cluster, `admin` and `mount` refusing to work
# without a controller, and a stale pid file never naming someone else's process.
# Starts no daemon, database or mount. Usage: zhsm_cluster_test.sh PATH/TO/zhsm-cluster
set -uo pipefail

script=${1:?usage: zhsm_cluster_test.sh PATH/TO/zhsm-cluster}
tmp=$(mktemp -d)
trap 'kill "$victim" 2>/dev/null; rm -rf "$tmp"' EXIT
victim=
failures=0

# expect CODE DESCRIPTION COMMAND...: runs COMMAND, checks its exit status.
expect() {
  local want=$1 what=$2 got
  shift 2
  "$@" >"$tmp/out" 2>&1
  got=$?
  if [[ $got -ne $want ]]; then
    echo "FAIL: $what: exit $got, want $want; output:"
    sed 's/^/    /' "$tmp/out"
    failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
}

# expect_output TEXT DESCRIPTION: the last command's output contains TEXT.
expect_output() {
  if ! grep -qF -- "$1" "$tmp/out"; then
    echo "FAIL: $2: output lacks '$1'; output:"
    sed 's/^/    /' "$tmp/out"
    failures=$((failures + 1))
  fi
}

cd "$tmp" || exit 1

expect 2 "no command" "$script"
expect 2 "unknown command" "$script" frobnicate
expect_output "unknown command 'frobnicate'" "names the command"
expect 2 "unknown option" "$script" down --frobnicate
expect 2 "--dir without value" "$script" status --dir
expect 2 "--fileservers 0" "$script" up --fileservers 0 --dir "$tmp/c"
expect 2 "--fileservers not a number" "$script" up --fileservers=two --dir "$tmp/c"
expect 2 "--fileservers outside up" "$script" down --fileservers 2 --dir "$tmp/c"
expect 2 "admin without arguments" "$script" admin --dir "$tmp/c"
expect 2 "mount without mount point" "$script" mount --dir "$tmp/c"
expect 2 "mount with two mount points" "$script" mount --dir "$tmp/c" a b
expect 0 "--help" "$script" --help
expect_output "zhsm-cluster up" "help shows the commands"
[[ ! -e $tmp/c ]] || { echo "FAIL: a usage error created $tmp/c"; failures=$((failures + 1)); }

expect 0 "down on a missing directory" "$script" down --dir "$tmp/none"
[[ ! -e $tmp/none ]] || { echo "FAIL: down created $tmp/none"; failures=$((failures + 1)); }
expect 3 "status on a missing directory" "$script" status --dir "$tmp/none"
expect 1 "admin on a missing cluster" "$script" admin --dir "$tmp/none" status
expect_output "not running" "admin says why"
expect 1 "mount on a missing cluster" "$script" mount --dir "$tmp/none" "$tmp/m"

# A stopped cluster whose pid files name live processes that are not its own
# (pid reuse): down must leave them alone, and say nothing is running.
mkdir -p "$tmp/stopped/run" "$tmp/stopped/logs"
sleep 300 &
victim=$!
echo "$victim" >"$tmp/stopped/run/controller.pid"
echo "$victim" >"$tmp/stopped/run/fs1.pid"
printf 'mnt\t%s\n' "$tmp/stopped/mnt" >"$tmp/stopped/run/mounts"
echo "fileservers=1" >"$tmp/stopped/cluster.conf"
expect 3 "status on a stopped cluster" "$script" status --dir "$tmp/stopped"
expect_output "stopped" "status shows stopped daemons"
expect 0 "down on a stopped cluster" "$script" down --dir "$tmp/stopped"
expect 0 "down again" "$script" down --dir "$tmp/stopped"
if kill -0 "$victim" 2>/dev/null; then
  echo "ok: a foreign process named by a stale pid file survives down"
else
  echo "FAIL: down killed a process it did not start"
  failures=$((failures + 1))
fi
expect 0 "relative --dir works from the current directory" "$script" down --dir stopped

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
