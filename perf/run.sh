#!/usr/bin/env bash
# Runs Lb's benchmarks and leaves their figures in perf/results/ (JSON) with a markdown table on stdout.
#   perf/run.sh             every managed benchmark (BenchmarkDotNet)
#   perf/run.sh managed [BenchmarkDotNet args...]   e.g. --filter '*Maglev*' --job short
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

case "$what" in
  managed) run_managed "$@" ;;
  *) echo "unknown benchmark set '$what' (managed)" >&2; exit 2 ;;
esac
