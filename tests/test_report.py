"""`verm report`: a self-contained HTML file, checked in headless Chromium (Debian's package)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from verm.bench import BenchItem, save_bench
from verm.bench.runner import run_bench
from verm.cli import main
from verm.records import Critique, VisualError

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class BoxCritic:
    name = "box"

    def critique_batch(self, pairs):
        out = []
        for gt, pred, _ in pairs:
            d = np.abs(gt.astype(int) - pred.astype(int)).max(axis=-1) > 0
            if not d.any():
                out.append(Critique())
                continue
            ys, xs = np.nonzero(d)
            out.append(Critique(errors=[VisualError("shape_error", 2, "middle", "square moved",
                                                    (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))]))
        return out


@pytest.fixture
def results(tmp_path: Path) -> Path:
    base = np.full((120, 160, 4), 255, np.uint8)
    base[20:60, 20:60] = (200, 30, 30, 255)
    moved = np.full_like(base, 255)
    moved[40:80, 60:100] = (200, 30, 30, 255)
    Image.fromarray(base).save(tmp_path / "gt.png")
    Image.fromarray(moved).save(tmp_path / "pred.png")
    ref = [VisualError("shape_error", 2, "left square", "square is moved right", (20, 20, 100, 80))]
    items = [BenchItem(f"moved-{i}", "svg", "gt.png", "pred.png", ref) for i in range(3)]
    items.append(BenchItem("same", "svg", "gt.png", "gt.png", []))
    save_bench(items, tmp_path / "bench.jsonl")
    run_bench(tmp_path / "bench.jsonl", BoxCritic(), tmp_path / "res", progress=False)
    return tmp_path / "res"


def test_report_is_self_contained(results: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(results), "-o", str(out)]) == 0
    text = out.read_text()
    assert text.count("data:image/png;base64,") == 8  # 4 items x 2 images
    assert 'id="metrics-overall"' in text and 'id="plot-f1"' in text
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # no external assets


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_report_renders_in_chromium(results: Path, tmp_path: Path) -> None:
    exe = _chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (scripts/setup.sh installs Debian's chromium; "
                    "it could not be installed on this machine)")
    out = tmp_path / "report.html"
    main(["report", str(results), "-o", str(out)])
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([exe, *flags, "--dump-dom", out.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert dom.count('class="item"') == 4
    assert dom.count("<image") == 8
    assert 'id="metrics-category"' in dom
    shot = tmp_path / "shot.png"
    subprocess.run([exe, *flags, f"--screenshot={shot}", "--window-size=1200,1600", out.as_uri()],
                   capture_output=True, timeout=120)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    # Non-blank, and the red squares of the images are on screen.
    assert img.std() > 10
    red = (img[..., 0] > 150) & (img[..., 1] < 80) & (img[..., 2] < 80)
    assert red.sum() > 500
