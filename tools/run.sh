#!/usr/bin/env bash
# Installs what is missing, builds, and runs `synod demo`: the main job on a local cluster.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
synod_install_deps
synod_build build
exec "$SYNOD_ROOT/build/bin/synod" demo "$@"
