# shellcheck shell=bash
# Shared by tools/zhsm-cluster and tools/run-tests (sourced, not run): the Debian
# packages zhsm needs, installing the missing ones, and configuring and building
# the tree with meson and ninja. Expects REPO (the source root) to be set.

# Everything needed to build zhsm, run a local cluster and run the tests.
# shellcheck disable=SC2034 # used by the scripts that source this file
ZHSM_PACKAGES=(
  meson ninja-build pkg-config g++ capnproto libcapnp-dev libboost-dev libpqxx-dev
  libpq-dev postgresql fuse3 libfuse3-dev zlib1g-dev libssl-dev uuid-dev libgtest-dev
  libgmock-dev libfmt-dev libspdlog-dev libcli11-dev libtomlplusplus-dev
  nlohmann-json3-dev libisal-dev attr sqlite3 git
  # The real-program tests (test/integration/programs_test.cc) and the benchmark
  # (tools/zhsm-bench compiles libfuse3-dev's passthrough_ll example with cc).
  rsync make gcc
  # The replication test reads the controller's metrics over HTTP.
  curl
)

# zhsm_missing_packages PKG...: prints the packages dpkg does not have installed.
zhsm_missing_packages() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || printf '%s\n' "$p"
  done
}

# zhsm_install_packages PKG...: installs whatever of PKG... is missing. Fast when
# everything is there (one dpkg-query per package, no apt-get). As root it uses
# apt-get (apt-get update first); otherwise it names the missing packages and
# goes on, so a machine set up by other means still works.
zhsm_install_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "note: not a Debian system; make sure these are installed: $*" >&2
    return 0
  fi
  local missing
  missing=$(zhsm_missing_packages "$@")
  [[ -n $missing ]] || return 0
  missing=${missing//$'\n'/ }  # one line
  if [[ $(id -u) -ne 0 ]]; then
    echo "warning: missing packages (install them as root): sudo apt-get install $missing" >&2
    return 0
  fi
  echo "installing missing packages: $missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing </dev/null >&2
}

# zhsm_build BUILD [LOG [TARGET...]]: configures BUILD with meson (once) and builds
# the TARGETs (default: everything) with ninja. With LOG, the build's output goes
# there (and its tail to stderr on failure); without, to stderr. Returns non-zero
# when the build fails.
zhsm_build() {
  local build=$1 log=${2:-}
  local -a targets=("${@:3}")
  local -a setup=(meson setup "$build" "$REPO")
  # Configured once but interrupted before build.ninja was written.
  if [[ -f $build/meson-private/coredata.dat ]]; then setup+=(--reconfigure); fi
  if [[ -z $log ]]; then
    if [[ ! -f $build/build.ninja ]]; then "${setup[@]}" >&2 || return 1; fi
    ninja -C "$build" "${targets[@]}" >&2
    return
  fi
  {
    echo "=== $(date '+%F %T') build in $build"
    if [[ ! -f $build/build.ninja ]]; then "${setup[@]}"; fi && ninja -C "$build" "${targets[@]}"
  } >>"$log" 2>&1 && return 0
  echo "build failed; the end of $log:" >&2
  tail -n 40 "$log" >&2
  return 1
}
