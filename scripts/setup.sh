#!/usr/bin/env bash
# One-shot setup on Debian/Ubuntu: system libraries for the native core, a virtualenv in .venv,
# and verm with every extra that runs without a GPU (CPU torch for the kernels' reference path).
#   VERM_EXTRAS   extras to install (default: test,hf,kernels)
#   VERM_VENV     virtualenv folder (default: .venv)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config libfreetype-dev libharfbuzz-dev libpugixml-dev
      libpng-dev libjpeg-dev libwebp-dev zlib1g-dev python3-venv patchelf)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Headless Chromium renders the HTML report in its test; optional (the test says why it skips).
if ! command -v chromium >/dev/null 2>&1 && [ "${VERM_SKIP_CHROMIUM:-0}" != 1 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 ||
    echo "note: chromium could not be installed; the report's browser test will be skipped"
fi

venv=${VERM_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip
# The CPU build of torch pinned for tests; installed first so nothing pulls a CUDA build.
case ",${VERM_EXTRAS:-test,hf,kernels}," in
  *,hf,*|*,kernels,*|*,rl,*) "$py" -m pip install -q "torch==2.13.0" ;;
esac
"$py" -m pip install -q ".[${VERM_EXTRAS:-test,hf,kernels}]"
echo "verm installed in $venv ($("$py" -c 'import verm; print(verm.__version__)'))"
