#!/usr/bin/env bash
# One entry point for a fresh Debian bookworm machine with the .NET SDK, run as root:
#   ./build.sh demo   install what is missing, build, and run `lb demo`
#   ./build.sh test   install what is missing, build, and run every test (native and managed)
#   ./build.sh bench  install, build, and run the benchmarks under perf/
# Every step is idempotent: packages are installed only when missing, builds are incremental.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
CONFIG=${CONFIG:-Release}

# Debian packages the build, the tests and the demo need.
APT_PACKAGES=(clang-14 llvm-14 cmake make gcc libc6-dev libbpf-dev libxdp-dev xdp-tools bpftool
              iproute2 iptables nftables ethtool)

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

install_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    if [[ $EUID -ne 0 ]]; then echo "run as root to install packages (or install: ${missing[*]})" >&2; exit 1; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v dotnet >/dev/null || { echo "the .NET SDK (dotnet) is required" >&2; exit 1; }
}

build_native() {
  log "building BPF objects and native tests (cmake)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)"
}

build_managed() {
  log "building .NET solution ($CONFIG)"
  dotnet build Lb.sln -c "$CONFIG" --nologo -v q -clp:NoSummary
}

build_all() { install_packages; build_native; build_managed; }

case "${1:-}" in
  build)
    build_all ;;
  test)
    build_all
    log "native tests (ctest)"
    ctest --test-dir build --output-on-failure
    log "managed tests (dotnet test)"
    mkdir -p build
    set +e
    dotnet test Lb.sln -c "$CONFIG" --no-build --nologo -v q --logger "console;verbosity=normal" 2>&1 | tee build/dotnet-test.log
    status=${PIPESTATUS[0]}
    set -e
    # One closing line over every test assembly, in the plain form CI reads.
    awk '/^ +Passed: +[0-9]+/{p+=$2} /^ +Failed: +[0-9]+/{f+=$2} /^ +Skipped: +[0-9]+/{s+=$2}
         END{printf "managed tests: %d passed, %d failed, %d skipped\n", p, f, s}' build/dotnet-test.log
    exit "$status" ;;
  demo)
    build_all
    shift
    exec dotnet "src/Lb.Agent/bin/$CONFIG/net10.0/lb.dll" demo "$@" ;;
  bench)
    build_all
    shift
    exec perf/run.sh "$@" ;;
  *)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 2 ;;
esac
