#!/usr/bin/env bash
# Node memory under a long transfer load: does each node's resident size stay flat?
#
# Usage: bench/memory.sh [MINUTES]        (default 10)
#
# Starts a 3-node cluster with `synod local up` (CURVE on, fsync on, the node's default
# snapshot interval: every 2,000 slots or 8 MiB of commands, see src/node/node.cc) in a temp
# dir, runs `synod load --kind transfer` for MINUTES (CLIENTS clients, batches of BATCH
# transfers over ACCOUNTS accounts), and samples every SAMPLE_S seconds each node's VmRSS
# (/proc/PID/status), the size of its data dir, and what RocksDB says it holds in memory (the
# node's /metrics: synod_rocksdb_memory_bytes, memtables, table readers and block caches). Then it reports, per node, the smallest and
# largest RSS over the last half of the run and whether the largest is within 10 % of the
# smallest (issue 6: "resident memory of each node stays flat (within 10%) over the last half
# of a 10-minute transfer run"), and the load's JSON summary (throughput, invariant check).
#
# Output: bench/results/memory-<time>.txt (report) and .csv (samples: t_s,node,rss_kb,data_mb,
# memtables_kb,table_readers_kb,block_cache_kb,heap_in_use_kb,heap_free_kb; the last five empty
# if a scrape failed).
# Env: SYNOD (binary, default build-release/bin/synod), CLIENTS (4), BATCH (8190),
#      ACCOUNTS (10000), SAMPLE_S (10), PORT (base port; default a free one below 32000),
#      TMPDIR_PARENT (/tmp).
# The cluster is stopped with `synod local down` (it signals only its own pids) and the temp
# dir removed on exit, error or Ctrl-C; kept (and named on stderr) when the load failed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
minutes="${1:-10}"
[[ "$minutes" =~ ^[1-9][0-9]*$ ]] || { echo "MINUTES must be a positive integer" >&2; exit 2; }
synod="${SYNOD:-$root/build-release/bin/synod}"
[[ -x "$synod" ]] || { echo "no synod binary at $synod (cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build-release -j2)" >&2; exit 1; }
clients="${CLIENTS:-4}" batch="${BATCH:-8190}" accounts="${ACCOUNTS:-10000}" sample_s="${SAMPLE_S:-10}"
mkdir -p "$here/results"
stamp="$(date -u +%Y%m%d-%H%M%S)"
out="$here/results/memory-$stamp.txt" csv="$here/results/memory-$stamp.csv"
work="$(mktemp -d "${TMPDIR_PARENT:-/tmp}/synod-memory.XXXXXX")"
export SYNOD_HOME="$work/home"  # `local up` writes its cluster file and key link here.
load_pid="" keep=0
cleanup() {
  set +e
  [[ -n "$load_pid" ]] && kill -KILL "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
  "$synod" local down --data "$work/local" >/dev/null 2>&1
  if [[ "$keep" == 1 ]]; then echo "memory: the load failed; data dirs and logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "memory: interrupted" >&2; exit 130' INT TERM
say() { echo "$@" | tee -a "$out"; }

port="${PORT:-}"
if [[ -z "$port" ]]; then
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 12000))
    if ! ss -Hltn "( sport >= :$p and sport <= :$((p + 12)) )" 2>/dev/null | grep -q .; then port=$p; break; fi
  done
fi
[[ -n "$port" ]] || { echo "no free ports" >&2; exit 1; }

say "# Synod node memory under transfer load: $(date -u '+%Y-%m-%d %H:%M') UTC, command: bench/memory.sh $minutes"
say "# machine: $(nproc)-core $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/{print $2}') GiB; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "# synod: $("$synod" --version 2>/dev/null | head -1) $(git -C "$root" rev-parse --short HEAD 2>/dev/null); 3 nodes by synod local up (CURVE, fsync on, default snapshots), data in $work"
env_notes=$(env | grep -E '^(MALLOC_[A-Z_]+|LD_PRELOAD|GLIBC_TUNABLES|SYNOD_[A-Z_]+)=' | grep -v '^SYNOD_HOME=' | sort | tr '\n' ' ' || true)
[[ -n "$env_notes" ]] && say "# environment the nodes inherit: $env_notes"
say "# load: synod load --kind transfer --clients $clients --batch $batch --accounts $accounts --duration $((minutes * 60)); RSS sampled every $sample_s s"
"$synod" local up --data "$work/local" --port "$port" --metrics-port $((port + 10)) >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }
pids=()
for i in 1 2 3; do pids+=("$(cat "$work/local/n$i/pid")"); done

"$synod" load --kind transfer --clients "$clients" --batch "$batch" --accounts "$accounts" \
  --duration $((minutes * 60)) --json >"$work/load.json" 2>"$work/load.err" &
load_pid=$!
# One node's memory figures in KiB, "memtables,table_readers,block_cache,heap_in_use,heap_free"
# (synod_rocksdb_memory_bytes and synod_heap_bytes), by plain
# HTTP over bash's /dev/tcp (no curl needed); empty fields if the scrape fails.
memory_kb() {
  local text
  text=$(exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && timeout 5 cat <&3) 2>/dev/null || text=""
  awk -F'[{}" ]+' '/^synod_(rocksdb_memory|heap)_bytes\{/ { v[$3] = int($NF / 1024) }
    END { printf "%s,%s,%s,%s,%s", v["memtables"], v["table_readers"], v["block_cache"], v["in_use"], v["free"] }' <<<"$text"
}
echo "t_s,node,rss_kb,data_mb,memtables_kb,table_readers_kb,block_cache_kb,heap_in_use_kb,heap_free_kb" > "$csv"
start=$SECONDS
while kill -0 "$load_pid" 2>/dev/null; do
  t=$((SECONDS - start))
  for i in 1 2 3; do
    rss=$(awk '/^VmRSS:/{print $2}' "/proc/${pids[$((i - 1))]}/status" 2>/dev/null || echo 0)
    mb=$(du -sm "$work/local/n$i/data" 2>/dev/null | cut -f1)
    echo "$t,$i,${rss:-0},${mb:-0},$(memory_kb $((port + 9 + i)))" >> "$csv"
  done
  sleep "$sample_s"
done
rc=0; wait "$load_pid" || rc=$?; load_pid=""
say "# load exit $rc: $(grep '^{' "$work/load.json" | tail -1)"
if [[ $rc != 0 ]]; then
  keep=1
  tail -5 "$work/load.err" | tee -a "$out" >&2
  # Lagging or broken? The same check once more, with the load gone, after a minute's wait.
  say "# check again: $("$synod" check --json --timeout-ms 60000 2>&1 | tail -1)"
fi
say "# per node over the last half of the run (t >= $((minutes * 30)) s):"
verdict=0
for i in 1 2 3; do
  line=$(awk -F, -v n="$i" -v half=$((minutes * 30)) 'NR > 1 && $2 == n && $1 >= half {
      if (min == "" || $3 < min) min = $3; if ($3 > max) max = $3; last_mb = $4; k++ }
    END { if (k == 0) { print "no samples"; exit 1 }
          printf "node %d: RSS %.1f-%.1f MB over %d samples, max/min %.3f, data dir %d MB at the end: %s",
            n, min / 1024, max / 1024, k, max / min, last_mb, (max <= 1.1 * min ? "flat" : "NOT flat") }' "$csv") || verdict=1
  say "$line"
  [[ "$line" == *": flat" ]] || verdict=1
  # Where the swings come from: RocksDB's parts and the rest of the heap (RSS minus them).
  say "$(awk -F, -v n="$i" -v half=$((minutes * 30)) 'NR > 1 && $2 == n && $1 >= half && $7 != "" {
      for (c = 0; c < 6; c++) { v = (c < 3 ? $(5 + c) : c == 3 ? $3 - $5 - $6 - $7 : $(4 + c)) / 1024
        if (k == 0 || v < lo[c]) lo[c] = v; if (k == 0 || v > hi[c]) hi[c] = v }; k++ }
    END { if (k == 0) { printf "node %d: no RocksDB memory figures", n; exit }
          printf "node %d: over the last half, memtables %.0f-%.0f MB, table readers %.0f-%.0f MB, block caches %.0f-%.0f MB, the rest of RSS %.0f-%.0f MB; heap in use %.0f-%.0f MB, free in the heap %.0f-%.0f MB",
            n, lo[0], hi[0], lo[1], hi[1], lo[2], hi[2], lo[3], hi[3], lo[4], hi[4], lo[5], hi[5] }' "$csv")"
  # The trend apart from the swings: mean RSS of each quarter of the run.
  say "$(awk -F, -v n="$i" -v q=$((minutes * 15)) 'NR > 1 && $2 == n { k = int($1 / q); if (k > 3) k = 3; s[k] += $3; c[k]++ }
    END { printf "node %d: mean RSS per quarter of the run:", n; for (k = 0; k < 4; k++) printf " %.0f", (c[k] ? s[k] / c[k] / 1024 : 0); printf " MB; last/third quarter %.3f", (c[2] && c[3] ? (s[3] / c[3]) / (s[2] / c[2]) : 0) }' "$csv")"
done
say "# events in the node logs (leader changes, warnings, errors):"
for i in 1 2 3; do
  # RocksDB's warnings (write stalls among them) reach the node log through spdlog.
  stalls=$(grep -cE "Stalling writes|Stopping writes" "$work/local/n$i/stdout.log" 2>/dev/null || true)
  terms=$(grep -c "leads at" "$work/local/n$i/stdout.log" 2>/dev/null || true)
  say "#   node $i: ${terms:-0} leader terms begun, ${stalls:-0} RocksDB write stalls logged; its last events:"
  # Why RocksDB stalled (the reasons it names: too many memtables, L0 files, pending bytes),
  # and in which column family (RocksDB puts its name in brackets first).
  grep -hoE "(\[[a-z0-9_]+\] )?(Stalling|Stopping) writes because [a-z0-9 -]+" "$work/local/n$i/stdout.log" 2>/dev/null \
    | sed -E 's/ [0-9]+ level-0 files/ N level-0 files/; s/ rate [0-9]+.*//' | sort | uniq -c | sed 's/^ */#     stalls: /' | tee -a "$out" || true
  grep -hE "leads at|warn|error" "$work/local/n$i/stdout.log" 2>/dev/null | grep -vE "Stalling writes|Stopping writes" \
    | tail -8 | cut -c1-200 | sed 's/^/#     /' | tee -a "$out" || true
done
say "# samples: $csv"
exit $(( rc != 0 || verdict != 0 ))
