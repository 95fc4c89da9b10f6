"""The repaired binary wheel installs into a clean venv and renders without the -dev packages:
every non-system shared library the extension needs is vendored by auditwheel."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Libraries the manylinux policy lets a wheel take from the host (glibc, libstdc++, zlib, expat
# and GLib, which Debian's HarfBuzz links, with GLib's own PCRE2); everything else must be vendored.
SYSTEM_LIBS = ("libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so", "ld-linux",
               "libstdc++.so", "libgcc_s.so", "linux-vdso", "libz.so", "libexpat.so",
               "libglib-2.0.so", "libgobject-2.0.so", "libgthread-2.0.so", "libpcre2-8.so")


@pytest.mark.slow
def test_repaired_wheel_installs_and_renders(tmp_path: Path) -> None:
    out = tmp_path / "wheelhouse"
    env = dict(os.environ, PYTHON=sys.executable, PIP_WHEEL_ARGS="--no-build-isolation")
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "build_wheel.sh"), str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = out.glob("verm-*.whl")
    assert "manylinux" in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("verm.libs/libfreetype") for n in names), names

    vdir = tmp_path / "venv"
    venv.create(vdir, with_pip=True)
    py = vdir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True)
    script = (
        "import numpy as np, verm.render as r\n"
        "img = r.render_svg('<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" height=\"10\">"
        "<rect width=\"10\" height=\"10\" fill=\"red\"/></svg>', fallback=False)\n"
        "assert img.shape == (10, 20, 4), img.shape\n"
        "assert tuple(img[5, 5]) == (255, 0, 0, 255) and img[5, 15, 3] == 0\n"
        "import verm._core as c, subprocess\n"
        "print(subprocess.run(['ldd', c.__file__], capture_output=True, text=True).stdout)\n"
    )
    clean_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    proc = subprocess.run([str(py), "-c", script], cwd=tmp_path, env=clean_env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for line in proc.stdout.splitlines():
        if "=>" not in line:
            continue
        name, target = (s.strip() for s in line.split("=>", 1))
        if name.startswith(SYSTEM_LIBS):
            continue
        assert "verm.libs" in target, f"{name} resolves outside the wheel: {target}"
