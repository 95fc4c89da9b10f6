"""Chart-code throughput: the warm sandboxed pool vs a cold ``python -c`` per chart, same run.

Run: python -m pytest bench/bench_chart_pool.py -s  (prints the ratios; asserts the issue's targets)

Programs: realistic ~20-line matplotlib programs (bar, line, scatter with legend/labels, pie,
grouped bar, 2x2 subplots) from :mod:`verm.charts.samples`, seeded.
Anchor: the reference reward's approach -- a fresh ``python -c`` per chart (import pyplot, exec,
savefig to a PNG), one at a time. verm: a warm :class:`~verm.charts.ChartPool` (started before
timing, as it is reused across RL steps); every job still runs in a fresh sandboxed fork and
comes back as an RGBA array identical to a clean interpreter's (tests/test_chart_pool.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pytest

pytest.importorskip("matplotlib")

from timing import best_of
from verm.charts import ChartPool  # noqa: E402
from verm.charts.pool import default_workers  # noqa: E402
from verm.charts.samples import chart_programs  # noqa: E402

KINDS = ("bar", "line", "scatter", "pie", "grouped_bar", "subplots")
N_ANCHOR = 12
N_POOL = 36


@pytest.fixture(scope="module")
def programs():
    return chart_programs(N_POOL, seed=2024, kinds=KINDS)


def _cold(programs) -> float:
    env = dict(os.environ, MPLBACKEND="Agg")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        for i, p in enumerate(programs):
            code = p.code if p.saves_to else p.code + "\nimport matplotlib.pyplot as plt\nplt.savefig('chart.png')\n"
            d = os.path.join(tmp, str(i))
            os.mkdir(d)
            subprocess.run([sys.executable, "-c", code], cwd=d, env=env, check=True,
                           capture_output=True, timeout=60)
        return time.perf_counter() - t0


def _pool_run(pool, codes):
    res = pool.render_many(codes)
    bad = [r for r in res if r.status != "ok"]
    assert not bad, bad[0].message
    return res


def test_one_worker_vs_cold_subprocess(benchmark, programs):
    codes = [p.code for p in programs]
    cold = _cold(programs[:N_ANCHOR]) / N_ANCHOR
    with ChartPool(1) as pool:
        _pool_run(pool, codes[:6])  # first jobs touch the page cache
        res = benchmark.pedantic(_pool_run, args=(pool, codes), rounds=3, iterations=1)
    warm = benchmark.stats.stats.min / len(codes)
    ratio = cold / warm
    # contention-free evidence of where a job's time goes (CPU time and page faults of the
    # job's child, from its fork: sandbox set-up + exec + draw + capture)
    cpu = sum(r.extra["cpu_seconds"] for r in res) / len(res)
    faults = sum(r.extra["minor_faults"] for r in res) / len(res)
    print(f"\ncold python -c per chart: {cold * 1e3:.0f} ms; warm pool (1 worker): "
          f"{warm * 1e3:.0f} ms/chart -> {ratio:.2f}x (target >= 6x); job child CPU "
          f"{cpu * 1e3:.1f} ms, {faults:.0f} minor faults per chart")
    benchmark.extra_info.update(cold_ms=cold * 1e3, pool_ms=warm * 1e3, ratio_vs_cold=ratio,
                                child_cpu_ms=cpu * 1e3, child_minor_faults=faults)
    assert ratio >= 6.0


def test_two_workers_vs_one(benchmark, programs):
    codes = [p.code for p in programs]
    with ChartPool(1) as p1:
        _pool_run(p1, codes[:6])
        one = best_of(lambda: _pool_run(p1, codes))
    with ChartPool(2) as p2:
        _pool_run(p2, codes[:6])
        benchmark.pedantic(_pool_run, args=(p2, codes), rounds=3, iterations=1)
    two = benchmark.stats.stats.min
    ratio = one / two
    print(f"\n{len(codes)} charts: 1 worker {one:.2f} s, 2 workers {two:.2f} s -> {ratio:.2f}x "
          f"(target >= 1.7x; {default_workers()} CPUs usable)")
    benchmark.extra_info.update(ratio_2_vs_1=ratio)
    assert ratio >= 1.7
