#!/usr/bin/env bash
# The benchmark's CI smoke run (meson suite `bench`): starts a private cluster
# with tools/zhsm-cluster (one file server: one copy of each file), runs
# tools/zhsm-bench with tiny sizes on a native directory, libfuse's
# passthrough_ll and the zhsm mount, and checks only that it worked: exit 0, a
# table with every measure and directory, JSON that parses with a value for
# each, and no mount left behind. No timing is asserted.
#
#   smoke_test.sh [REPO]      (REPO defaults to this script's repository)
#
# Uses the programs in $ZHSM_BUILD_DIR as they are (meson builds them first).
set -uo pipefail

repo=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zhsm-bench-smoke-XXXXXX")
chmod 755 "$tmp"  # PostgreSQL runs as its own user below it
cluster=$tmp/cluster
failures=0

cleanup() {
  "$repo/tools/zhsm-cluster" down --dir "$cluster" >/dev/null 2>&1 ||
    echo "warning: zhsm-cluster down failed"
  if grep -qF " $tmp/" /proc/mounts; then
    echo "FAIL: something is still mounted below $tmp"
    grep -F " $tmp/" /proc/mounts
    exit 1
  fi
  rm -rf --one-file-system -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

export ZHSM_CLUSTER_NO_BUILD=1
if ! "$repo/tools/zhsm-cluster" up --dir "$cluster" --fileservers 1 >"$tmp/up.log" 2>&1; then
  cat "$tmp/up.log"
  echo "FAIL: the cluster did not come up"
  exit 1
fi

mkdir -p "$tmp/native" "$tmp/ptsrc" "$cluster/mnt/bench"
args=(--size 4M --rand-ops 64 --files 40 --file-size 4K --dirs 20 --repeat 2
      --tree "$repo/doc" --json "$tmp/out.json"
      "native=$tmp/native" "passthrough=passthrough:$tmp/ptsrc" "zhsm=$cluster/mnt/bench")
echo "running: zhsm-bench ${args[*]}"
"$repo/tools/zhsm-bench" "${args[@]}" >"$tmp/table" 2>"$tmp/progress"
rc=$?
cat "$tmp/table"
[[ $rc -eq 0 ]] || { sed 's/^/  stderr: /' "$tmp/progress"; fail "zhsm-bench exited $rc"; }

# One progress line per measure and run: 15 measures x 3 directories x 2 runs.
n=$(grep -c ' run [12]: ' "$tmp/progress")
[[ $n -eq 90 ]] || fail "$n progress lines, want 90"

for m in seq-write seq-read rand-read-1 rand-read-4 small-create small-stat small-list \
         small-read small-delete small-create-4 mkdir rmdir tree-cp tree-diff tree-rm; do
  grep -qE "^$m +[a-zA-Z/]+ +[0-9]" "$tmp/table" || fail "the table has no row for $m"
done
grep -qE '^measure +unit +native +passthrough +ratio +zhsm +ratio$' "$tmp/table" ||
  fail "the table's header is not 'measure unit native passthrough ratio zhsm ratio'"
grep -q 'failed' "$tmp/table" && fail "the table reports a failed measure"

python3 - "$tmp/out.json" <<'EOF' || fail "the JSON output is wrong"
import json, sys
r = json.load(open(sys.argv[1]))
assert [d["label"] for d in r["dirs"]] == ["native", "passthrough", "zhsm"], r["dirs"]
assert len(r["measures"]) == 15, len(r["measures"])
for m in r["measures"]:
    assert len(m["values"]) == 3 and all(v is not None and v > 0 for v in m["values"]), m
    assert all(len(s) == 2 for s in m["samples"]), m
    assert m["ratios"][0] == 1.0, m
assert r["params"]["tree_files"] > 0
print("JSON ok:", len(r["measures"]), "measures on", len(r["dirs"]), "directories")
EOF

# The passthrough mount was taken down and the work directories removed.
grep -q 'fuse.passthrough_ll' /proc/mounts && grep -F "zhsm-bench-pt-" /proc/mounts &&
  fail "a passthrough mount of zhsm-bench is left"
[[ -z $(ls -A "$tmp/native") ]] || fail "zhsm-bench left files in the native directory"
[[ -z $(ls -A "$cluster/mnt/bench") ]] || fail "zhsm-bench left files on the mount"

# Usage errors exit 2 with a message and run nothing.
"$repo/tools/zhsm-bench" --only nonsense "$tmp/native" >/dev/null 2>"$tmp/usage"
[[ $? -eq 2 ]] || fail "--only nonsense did not exit 2"
"$repo/tools/zhsm-bench" --help >"$tmp/help" || fail "--help failed"
grep -q 'passthrough:SRC' "$tmp/help" || fail "--help does not explain passthrough:SRC"

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "bench smoke run ok"
