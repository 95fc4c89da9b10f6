"""Raster back end checked without the SVG front end: tests/native/raster_scenes.cpp builds
display lists directly (strokes, joins, dashes, gradients, patterns, clip, mask, blend modes,
filters, images), renders them, and writes each next to its equivalent SVG. Here the driver is
compiled from the raster sources alone (seconds) and every scene is compared with resvg-py's
rendering of the SVG using the resvg suite criterion (over white, <= 0.5% of pixels off by
more than 24/255)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    cc = (sysconfig.get_config_var("CXX") or "c++").split()[0]
    cxx = shutil.which(cc) or shutil.which("c++")
    if cxx is None:
        pytest.fail("a C++17 compiler is required to build the raster test driver")
    out = tmp_path_factory.mktemp("raster")
    exe = out / "raster_scenes"
    srcs = [str(ROOT / "tests/native/raster_scenes.cpp"), str(ROOT / "csrc/core/path.cpp"),
            *sorted(str(p) for p in (ROOT / "csrc/raster").glob("*.cpp"))]
    subprocess.run([cxx, "-std=c++17", "-O1", "-I", str(ROOT / "csrc"), "-o", str(exe), *srcs],
                   check=True, capture_output=True, text=True)
    proc = subprocess.run([str(exe), str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


def _over_white(a: np.ndarray) -> np.ndarray:
    f = a.astype(np.float32) / 255
    return f[..., :3] * f[..., 3:] + (1 - f[..., 3:])


def _load(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    w, h = np.frombuffer(raw[:8], np.uint32)
    return np.frombuffer(raw[8:], np.uint8).reshape(int(h), int(w), 4)


def test_scenes_match_resvg(scenes: Path) -> None:
    import resvg_py

    svgs = sorted(scenes.glob("*.svg"))
    assert len(svgs) >= 15
    report = {}
    for svg in svgs:
        mine = _load(svg.with_suffix(".rgba"))
        png = bytes(resvg_py.svg_to_bytes(svg_string=svg.read_text()))
        ref = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
        assert mine.shape == ref.shape, svg.name
        diff = np.abs(_over_white(mine) - _over_white(ref)).max(-1) * 255
        report[svg.stem] = float((diff > 24).mean() * 100)
    bad = {k: v for k, v in report.items() if v > 0.5}
    assert not bad, report
