#!/usr/bin/env bash
# Runs Lb's benchmarks and leaves their figures in perf/results/ (JSON) with a markdown table on stdout.
#   perf/run.sh             every managed benchmark (BenchmarkDotNet)
#   perf/run.sh managed [BenchmarkDotNet args...]   e.g. --filter '*Maglev*' --job short
#   perf/run.sh xdp [Lb.XdpBench args...]           lb_xdp ns/packet by BPF_PROG_TEST_RUN (root), e.g. --rounds 3
# Called by `./build.sh bench`, which builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-Release}
what=${1:-managed}
[[ $# -gt 0 ]] && shift

run_managed() {
  local args=("$@")
  [[ ${#args[@]} -eq 0 ]] && args=(--filter '*')
  dotnet "perf/Lb.Benchmarks/bin/$CONFIG/net10.0/Lb.Benchmarks.dll" "${args[@]}"
  python3 perf/summarize_bdn.py perf/results/results perf/results/managed.json
}

# Needs the BPF objects (cmake) and the managed build; runs as root because it loads BPF programs
# and makes a network namespace.
run_xdp() {
  if [[ $EUID -ne 0 ]]; then echo "perf/run.sh xdp needs root (BPF programs, network namespaces)" >&2; exit 1; fi
  local dll="perf/Lb.XdpBench/bin/$CONFIG/net10.0/Lb.XdpBench.dll"
  if [[ ! -f $dll || ! -f build/bpf/lb_xdp.bpf.o ]]; then
    echo "perf/run.sh xdp: build first (./build.sh bench xdp builds and runs it)" >&2; exit 1
  fi
  dotnet "$dll" --bpf-dir build/bpf --output perf/results/xdp.json "$@"
}

case "$what" in
  managed) run_managed "$@" ;;
  xdp) run_xdp "$@" ;;
  *) echo "unknown benchmark set '$what' (managed, xdp)" >&2; exit 2 ;;
esac
