# Shared by tools/run.sh and tools/test.sh: install what is missing, configure, build.
# Sourced, not run. Idempotent: does nothing that is already done.

SYNOD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SYNOD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev libzmq3-dev cppzmq-dev libflatbuffers-dev flatbuffers-compiler
  libgtest-dev libgmock-dev libspdlog-dev libcli11-dev libbenchmark-dev
  nlohmann-json3-dev libcpp-httplib-dev
  iptables iproute2
  clang libclang-rt-14-dev
)

synod_install_deps() {
  local missing=()
  for p in "${SYNOD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# synod_build DIR [extra cmake args...]
synod_build() {
  local dir="$1"
  shift
  if [[ ! -f "$SYNOD_ROOT/$dir/build.ninja" ]]; then
    cmake -S "$SYNOD_ROOT" -B "$SYNOD_ROOT/$dir" -G Ninja "$@" >&2
  fi
  cmake --build "$SYNOD_ROOT/$dir" -j "$(nproc)" >&2
}
