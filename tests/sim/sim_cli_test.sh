#!/usr/bin/env bash
# `synod sim` on the documented arguments: exit 0, no violation, decided slots > 0, and the
# same output twice, byte for byte. A planted bug must exit 1 and print the reproducer.
set -euo pipefail
synod="$1"
args=(sim --seed 42 --nodes 5 --ticks 20000 --drop 0.05 --partitions --crashes --json)
first="$("$synod" "${args[@]}")"
second="$("$synod" "${args[@]}")"
echo "$first"
[[ "$first" == "$second" ]] || { echo "outputs differ: $second"; exit 1; }
[[ "$first" == *'"violations": 0}'* ]] || { echo "violations reported"; exit 1; }
slots="$(sed -E 's/.*"decided_slots": ([0-9]+).*/\1/' <<<"$first")"
((slots > 0)) || { echo "no slot decided"; exit 1; }
set +e
err="$("$synod" sim --seed 3 --nodes 3 --ticks 10000 --crashes --plant leader-ignores-promises 2>&1 >/dev/null)"
rc=$?
set -e
echo "$err"
((rc == 1)) || { echo "planted bug: exit $rc, want 1"; exit 1; }
[[ "$err" == *"reproduce: synod sim --seed 3 --nodes 3 --ticks 10000"* ]] || { echo "no reproducer"; exit 1; }
set +e
"$synod" sim --seed 1 --nodes 9 >/dev/null 2>&1
rc=$?
set -e
((rc == 2)) || { echo "--nodes 9: exit $rc, want 2"; exit 1; }
echo "ok"
