#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Loads each BPF object through the kernel verifier and prints what it cost ("processed N insns").
# Runs in a private mount namespace with its own bpffs, so the maps the objects pin by name
# (LIBBPF_PIN_BY_NAME) never reach the host's /sys/fs/bpf; everything is freed on exit.
# Usage (root): tools/bpf-verify.sh [OBJ...]   default: build/bpf/*.bpf.o
set -eu
[ "$#" -gt 0 ] || set -- "$(dirname "$0")"/../build/bpf/*.bpf.o
exec unshare --mount --propagation private sh -eu -c '
mount -t bpf bpf /sys/fs/bpf
log=$(mktemp)
trap "rm -f $log" EXIT
status=0
for obj in "$@"; do
  dir=/sys/fs/bpf/verify-$(basename "$obj" .bpf.o)
  mkdir "$dir"
  if bpftool -d prog loadall "$obj" "$dir" >"$log" 2>&1; then
    echo "$(basename "$obj"): $(grep "^processed" "$log" | tail -n 1)"
  else
    echo "$(basename "$obj"): REJECTED"; grep -B 20 "^processed" "$log" | tail -n 25; status=1
  fi
done
exit $status
' sh "$@"
