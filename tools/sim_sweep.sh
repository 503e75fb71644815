#!/usr/bin/env bash
# Runs `synod sim` on many seeds and prints every failing run's reproducer.
# Usage: tools/sim_sweep.sh [--count N] [--first S | --random] [-- extra sim args...]
#   --random   draws the seeds from /dev/urandom (seeds nobody picked); they are printed on
#              failure, so any failure is reproducible.
# Example: tools/sim_sweep.sh --count 500 --random -- --nodes 5 --ticks 20000 --drop 0.05 \
#            --partitions --crashes
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
synod="${SYNOD_BIN:-$root/build/bin/synod}"
count=100 first=1 random=0
while (($#)); do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --first) first="$2"; shift 2 ;;
    --random) random=1; shift ;;
    --) shift; break ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -x "$synod" ]] || { echo "build first: $synod is missing" >&2; exit 1; }
seeds() {
  if ((random)); then
    od -An -tu4 -N$((count * 4)) /dev/urandom | tr -s ' ' '\n' | grep -v '^$'
  else
    seq "$first" $((first + count - 1))
  fi
}
failed=0
while read -r seed; do
  if ! out="$("$synod" sim --seed "$seed" "$@" 2>&1 >/dev/null)"; then
    echo "$out"
    failed=$((failed + 1))
  fi
done < <(seeds)
echo "$((count - failed)) passed, $failed failed"
((failed == 0))
