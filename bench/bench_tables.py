"""Table rendering speed: verm vs matplotlib's ``ax.table``, warm, in-process, single thread.

Run: python -m pytest bench/bench_tables.py -s  (prints the ratio; asserts the issue's >= 5x)

Both render the same 100 seeded tables (no spans: ``ax.table`` cannot draw them) to RGBA numpy
arrays. verm's time covers parse + layout + rasterisation from the code string; matplotlib
gets the already-parsed cell texts (parsing is not charged to it) and draws one figure per
table with ``fig.canvas.draw()`` + ``buffer_rgba`` (no PNG encoding on either side).
"""

from __future__ import annotations

import numpy as np
import pytest

from timing import best_of
from verm.render import render_tables
from verm.tables import parse
from verm.tables.synth import random_table_code

N = 100


@pytest.fixture(scope="module")
def tables():
    codes = [random_table_code(seed, ("html", "markdown", "latex")[seed % 3], spans=False)[0]
             for seed in range(N)]
    return codes, [parse(c) for c in codes]


def _matplotlib_render(parsed):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    for t in parsed:
        texts = t.texts()
        fig, ax = plt.subplots(figsize=(max(2.0, 1.3 * t.n_cols), max(1.0, 0.3 * t.n_rows)),
                               dpi=100)
        ax.axis("off")
        tbl = ax.table(cellText=texts[1:] or [[""] * t.n_cols], colLabels=texts[0], loc="center")
        tbl.auto_set_font_size(False)
        tbl.set_fontsize(10)
        for (r, _), cell in tbl.get_celld().items():
            if r == 0:
                cell.set_text_props(fontweight="bold")
        fig.canvas.draw()
        out.append(np.asarray(fig.canvas.buffer_rgba()).copy())
        plt.close(fig)
    return out


def _verm_render(codes):
    res = render_tables(codes, threads=1)
    assert all(r.ok for r in res)
    return res


def test_verm_vs_matplotlib_table(benchmark, tables):
    codes, parsed = tables
    _matplotlib_render(parsed[:5])  # warm: imports, font cache
    _verm_render(codes[:5])
    anchor = best_of(lambda: _matplotlib_render(parsed), repeat=2)
    benchmark.pedantic(_verm_render, args=(codes,), rounds=3, iterations=1)
    ours = benchmark.stats.stats.min
    res = _verm_render(codes[:10])
    statuses = sorted({r.status for r in res})
    ratio = anchor / ours
    print(f"\n{N} tables: verm 1 thread {ours * 1e3 / N:.2f} ms/table (status {statuses}), "
          f"matplotlib ax.table {anchor * 1e3 / N:.2f} ms/table -> {ratio:.1f}x (target >= 5x)")
    benchmark.extra_info.update(ratio_vs_matplotlib=ratio, statuses=statuses)
    assert ratio >= 5.0


def test_parse_and_layout_cost(benchmark, tables):
    """Python-side cost per table (parse + layout + SVG text), reported for context."""
    from verm.fonts import get_fontdb
    from verm.render.tables import layout_table

    codes, _ = tables
    db = get_fontdb()

    def run():
        for c in codes:
            layout_table(parse(c), fontdb=db)

    benchmark.pedantic(run, rounds=3, iterations=1)
    print(f"\nparse + layout: {benchmark.stats.stats.min * 1e3 / N:.3f} ms/table")
