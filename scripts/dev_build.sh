#!/usr/bin/env bash
# Development build of verm._core without pip: configures build/${VERM_BUILD_NAME:-dev} and copies
# the module into python/verm/ (git-ignored). Put python/ on sys.path (PYTHONPATH=python).
# Set VERM_BUILD_NAME=foo to build into build/foo and leave python/verm alone; then point
# VERM_CORE_DIR=build/foo at it so `import verm._core` picks that build.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${VERM_BUILD_NAME:-dev}
dir=build/$name
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} \
    -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" -DPython_EXECUTABLE="$(command -v python)" \
    ${CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$dir" -j"${JOBS:-2}" 2>&1 | grep -E "error|warning: unused|Error" || true
so=$(ls "$dir"/_core*.so)
if [ "$name" = dev ]; then cp "$so" python/verm/; fi
echo "built $so"
