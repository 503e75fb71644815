#!/usr/bin/env bash
# tools/soak.sh --minutes N [--seed S] [--build DIR]: the fault suite
# (tests/integration/faults) in rounds for as long as asked.
#
# A round runs every fault scenario once (leader kill -9, leader + follower kill -9, all nodes
# kill -9, leader paused, wiped follower, and, as root, minority partition, leader isolation
# and reads at an isolated leader), each in its own process, with SYNOD_FAULT_SEED = S + round, and prints one line:
#   round R seed S: faults F, kv ops acked A unknown U, transfers acked A unknown U, checks ok N fail 0
# It stops starting new scenarios once N minutes have passed. On the first failed check it
# stops, shows the end of that run's output and the command that reproduces it, and exits 1.
set -euo pipefail

usage() {
  echo "usage: tools/soak.sh --minutes N [--seed S] [--build DIR]" >&2
  exit 2
}

minutes=""
seed=""
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build"
while (($#)); do
  case "$1" in
    --minutes) minutes="${2:-}"; shift 2 || usage ;;
    --seed) seed="${2:-}"; shift 2 || usage ;;
    --build) build="${2:-}"; shift 2 || usage ;;
    -h | --help) usage ;;
    *) echo "soak.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ "$minutes" =~ ^[0-9]+$ && "$minutes" -gt 0 ]] || {
  echo "soak.sh: --minutes must be a positive whole number (got '${minutes}')" >&2
  exit 2
}
if [[ -z "$seed" ]]; then
  seed=$(( $(od -An -N4 -tu4 /dev/urandom) % 1000000000 ))
fi
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "soak.sh: --seed must be a whole number (got '$seed')" >&2; exit 2; }

cmake --build "$build" --target synod integration_fault_tests >&2
bin="$build/bin/integration_fault_tests"
tests=(
  Faults.LeaderKill9UnderLoadThenRestart
  Faults.LeaderAndFollowerKill9ThenRestart
  Faults.AllNodesKill9UnderLoadThenRestartAll
  Faults.LeaderPausedLongerThanLeaderTimeoutThenResumed
  Faults.WipedFollowerRejoinsEmpty
  Partitions.MinorityFollowerIsolatedUnderLoad
  Partitions.LeaderIsolatedUnderLoad
  Partitions.ReadsAtIsolatedLeaderWaitWhileTheMajorityWrites
)
log="$(mktemp -t synod-soak-XXXXXX.log)"
trap 'rm -f "$log"' EXIT

echo "soak: ${minutes} min, first seed ${seed}, build ${build}"
deadline=$(( $(date +%s) + minutes * 60 ))
round=0
while (( $(date +%s) < deadline )); do
  round=$((round + 1))
  round_seed=$((seed + round - 1))
  faults=0 kv_acked=0 kv_unknown=0 tr_acked=0 tr_unknown=0 ok=0 skipped=0
  for t in "${tests[@]}"; do
    (( $(date +%s) < deadline )) || break
    rc=0
    SYNOD_FAULT_SEED="$round_seed" timeout 300 "$bin" --gtest_filter="$t" >"$log" 2>&1 || rc=$?
    line="$(grep -m1 '^fault-run ' "$log" || true)"
    skipped_here=0
    grep -q '^\[  SKIPPED \]' "$log" && skipped_here=1
    if [[ $rc -ne 0 || "$line" == *checks=fail* ]] || [[ -z "$line" && $skipped_here -eq 0 ]]; then
      echo "round $round seed $round_seed: $t FAILED (exit $rc); end of its output:"
      tail -n 60 "$log" | sed 's/^/  | /'
      echo "reproduce: SYNOD_FAULT_SEED=$round_seed $bin --gtest_filter=$t"
      exit 1
    fi
    if [[ -z "$line" ]]; then
      skipped=$((skipped + 1))
      continue
    fi
    field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
    faults=$((faults + $(field faults)))
    kv_acked=$((kv_acked + $(field kv_acked)))
    kv_unknown=$((kv_unknown + $(field kv_unknown)))
    tr_acked=$((tr_acked + $(field transfers_acked)))
    tr_unknown=$((tr_unknown + $(field transfers_unknown)))
    ok=$((ok + 1))
  done
  note=""
  ((skipped == 0)) || note=" (skipped $skipped: no root, unshare or iptables)"
  echo "round $round seed $round_seed: faults $faults, kv ops acked $kv_acked unknown $kv_unknown," \
    "transfers acked $tr_acked unknown $tr_unknown, checks ok $ok fail 0$note"
done
echo "soak: passed, $round rounds"
