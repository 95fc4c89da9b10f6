#!/usr/bin/env bash
# Builds a binary wheel of verm and repairs it with auditwheel, so that it installs into a clean
# venv on a machine without the -dev packages (the shared libraries are vendored into the wheel).
# Usage: scripts/build_wheel.sh [OUT_DIR]   (default: wheelhouse/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-wheelhouse}
py=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -m pip wheel . --no-deps -w "$tmp" ${PIP_WHEEL_ARGS:-}
mkdir -p "$out"
"$py" -m auditwheel repair "$tmp"/verm-*.whl -w "$out" ${AUDITWHEEL_ARGS:-}
ls "$out"/verm-*.whl
