#!/usr/bin/env bash
# Runs Lb's benchmarks and leaves their figures in perf/results/ (JSON) with a markdown table on stdout.
#   perf/run.sh             every managed benchmark (BenchmarkDotNet)
#   perf/run.sh managed [BenchmarkDotNet args...]   e.g. --filter '*Maglev*' --job short
#   perf/run.sh xdp [Lb.XdpBench args...]           lb_xdp ns/packet by BPF_PROG_TEST_RUN (root), e.g. --rounds 3
#   perf/run.sh scaling [Lb.ScalingBench args...]   Lb vs kube-proxy vs routing with real clients (root; builds
#                                                   what it needs), e.g. --services 1,100 --repeats 1
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

# Builds the BPF objects and the harness itself, installs Debian's nginx when it is missing (apt-get is
# idempotent), runs the harness (scaling.json, scaling.md) and draws scaling.png.
run_scaling() {
  if [[ $EUID -ne 0 ]]; then echo "perf/run.sh scaling needs root (network namespaces, BPF, iptables, nft)" >&2; exit 1; fi
  command -v nginx >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >&2
  local tool
  for tool in nginx iptables-legacy-restore iptables-nft-restore nft bpftool nsenter; do
    command -v "$tool" >/dev/null || { echo "perf/run.sh scaling: $tool is missing" >&2; exit 1; }
  done
  cmake -S . -B build >/dev/null
  cmake --build build --target bpf >/dev/null
  dotnet build -c "$CONFIG" -v quiet -nologo perf/Lb.ScalingBench >&2
  local status=0
  dotnet "perf/Lb.ScalingBench/bin/$CONFIG/net10.0/Lb.ScalingBench.dll" --bpf-dir build/bpf --output-dir perf/results "$@" || status=$?
  if [[ -f perf/results/scaling.json ]]; then
    if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
      /usr/bin/python3 perf/plot_scaling.py perf/results/scaling.json perf/results/scaling.png && echo "wrote perf/results/scaling.png" >&2
    else
      echo "perf/run.sh scaling: no python3-matplotlib (apt-get install python3-matplotlib): scaling.png not drawn" >&2
    fi
  fi
  return $status
}

case "$what" in
  managed) run_managed "$@" ;;
  xdp) run_xdp "$@" ;;
  scaling) run_scaling "$@" ;;
  *) echo "unknown benchmark set '$what' (managed, xdp, scaling)" >&2; exit 2 ;;
esac
