"""Native chart specs vs vl-convert-python (the Vega-Lite reference renderer), same run.

Run: python -m pytest bench/bench_chart_specs.py -s
Reports visual agreement on seeded specs (every mark of the subset) and speed. Skips when
vl-convert-python is not installed (it is a benchmark-only anchor, not a dependency).

Agreement: each verm image is resized to vl-convert's size; we report the size difference and
the fraction of differing pixels (max channel diff > 24/255 over white) at full resolution and
after a 4x box downsample (which forgives 1-2 px shifts and the different default font: verm
ships DejaVu Sans, vl-convert uses its own sans-serif).
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from verm.charts import render_specs
from verm.charts.samples import SPEC_MARKS, chart_specs
from verm.render.compare import diff_fraction

vlc = pytest.importorskip("vl_convert")

N = 40


def _vl_render(specs):
    return [np.asarray(Image.open(io.BytesIO(vlc.vegalite_to_png(s))).convert("RGBA")) for s in specs]


def _down(img: np.ndarray, k: int = 4) -> np.ndarray:
    h, w = img.shape[0] // k * k, img.shape[1] // k * k
    return img[:h, :w].reshape(h // k, k, w // k, k, -1).mean(axis=(1, 3)).astype(np.uint8)


def test_specs_vs_vl_convert(benchmark):
    specs = chart_specs(N, seed=3)
    _vl_render(specs[:2])  # start vl-convert's JS engine outside the timing
    t0 = time.perf_counter()
    ref = _vl_render(specs)
    t_vl = time.perf_counter() - t0
    render_specs(specs[:2])
    benchmark.pedantic(render_specs, args=(specs,), kwargs={"threads": 1}, rounds=3, iterations=1)
    t_one = benchmark.stats.stats.min
    t0 = time.perf_counter()
    ours = render_specs(specs)
    t_all = time.perf_counter() - t0
    rows = []
    for i, (r, v) in enumerate(zip(ours, ref)):
        assert r.image is not None, r.message
        img = np.asarray(Image.fromarray(r.image).resize((v.shape[1], v.shape[0]), Image.BILINEAR))
        size_err = abs(r.image.shape[0] - v.shape[0]) + abs(r.image.shape[1] - v.shape[1])
        rows.append((SPEC_MARKS[i % len(SPEC_MARKS)], size_err, diff_fraction(img, v),
                     diff_fraction(_down(img), _down(v))))
    print(f"\n{N} specs: vl-convert {t_vl / N * 1e3:.1f} ms/spec; verm 1 thread "
          f"{t_one / N * 1e3:.1f} ms/spec ({t_vl / t_one:.1f}x), all threads {t_all / N * 1e3:.1f} ms/spec "
          f"({t_vl / t_all:.1f}x); statuses: "
          f"{sorted({r.status for r in ours})}")
    print(f"{'kind':<14}{'size diff px':>13}{'differing px':>14}{'at 1/4 res':>12}")
    for kind in SPEC_MARKS:
        sel = [x for x in rows if x[0] == kind]
        print(f"{kind:<14}{np.mean([x[1] for x in sel]):>13.1f}{np.mean([x[2] for x in sel]):>13.1%}"
              f"{np.mean([x[3] for x in sel]):>12.1%}")
    mean_low = float(np.mean([x[3] for x in rows]))
    print(f"{'all':<14}{np.mean([x[1] for x in rows]):>13.1f}{np.mean([x[2] for x in rows]):>13.1%}"
          f"{mean_low:>12.1%}")
    benchmark.extra_info.update(speedup_1_thread=t_vl / t_one, differing_low_res=mean_low)
