"""Table rendering: fidelity of the drawn grid, layout rules, errors, CLI."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest

from verm.render import TableStyle, render_table, render_tables
from verm.tables import TableParseError, parse
from verm.tables.synth import random_table_code

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table_grid import detect_grid  # noqa: E402

pytest.importorskip("lxml")


def _structure(t):
    return {(c.row, c.col, c.rowspan, c.colspan) for c in t.cells}


def test_fidelity_grid_detected_from_pixels_matches_parsed_structure():
    """>= 50 varied seeded tables: rows, columns and span layout read back from the borders."""
    rng = random.Random(1234)
    codes, widths = [], []
    for i in range(60):
        fmt = ("html", "latex", "markdown")[i % 3]
        code, _ = random_table_code(rng, fmt, max_rows=9, max_cols=6, long_text=0.15)
        codes.append(code)
        widths.append(rng.choice([None, None, 260, 400]))
    results = []
    for w in (None, 260, 400):
        idx = [i for i, x in enumerate(widths) if x == w]
        for i, res in zip(idx, render_tables([codes[i] for i in idx], max_width=w)):
            results.append((i, res))
    assert len(results) == 60
    wrapped = 0
    for i, res in results:
        assert res.ok, res.message
        table = parse(codes[i])
        n_r, n_c, cells = detect_grid(res.image)
        assert (n_r, n_c) == (table.n_rows, table.n_cols), (i, codes[i])
        assert cells == _structure(table), (i, codes[i])
        if widths[i] is not None:
            margin = TableStyle().margin
            table_w = res.image.shape[1] - 2 * margin
            wrapped += table_w <= widths[i]
    assert wrapped >= 10  # the width limit was honoured by the narrow renders


def test_output_is_cropped_with_uniform_white_margin():
    code = "| a | b |\n|---|---|\n| 1 | 2 |"
    for margin in (0, 3, 17):
        img = render_table(code, style=TableStyle(margin=margin))
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 4
        dark = np.argwhere(img[..., :3].max(axis=-1) < 100)
        y0, x0 = dark.min(axis=0)
        y1, x1 = dark.max(axis=0)
        assert (y0, x0) == (margin, margin)
        assert (img.shape[0] - 1 - y1, img.shape[1] - 1 - x1) == (margin, margin)
        if margin:
            assert (img[:margin, :, :3] == 255).all() and (img[-margin:, :, :3] == 255).all()


def test_header_is_bold_and_centred_and_columns_fit_content():
    code = "| H |  Longer header |\n|---|---|\n| wide body text here | x |"
    res = render_tables([code])[0]
    img = res.image
    cells = {(c[0], c[1]): c[4:] for c in res.extra["cells"]}
    ink = img[..., :3].max(axis=-1) < 100

    def inner_ink(box):
        x0, y0, x1, y1 = (int(v) for v in box)
        return ink[y0 + 2:y1 - 2, x0 + 2:x1 - 2]

    # header "H" sits in the middle of a column that is as wide as the body text needs
    h = inner_ink(cells[(0, 0)])
    xs = np.flatnonzero(h.any(axis=0))
    centre = (xs.min() + xs.max()) / 2
    assert abs(centre - h.shape[1] / 2) <= 2
    # body text is left-aligned: ink starts at the padding
    b = inner_ink(cells[(1, 0)])
    assert np.flatnonzero(b.any(axis=0)).min() <= TableStyle().padding_x + 1
    # column widths follow content: first column wider than the second
    assert (cells[(1, 0)][2] - cells[(1, 0)][0]) > (cells[(1, 1)][2] - cells[(1, 1)][0])
    # bold header strokes are thicker than the same letters in a regular body cell
    plain = render_tables(["| x |\n|---|\n| H |"])[0]
    bold = render_tables(["| H |\n|---|\n| x |"])[0]
    pc = {(c[0], c[1]): c[4:] for c in plain.extra["cells"]}
    bc = {(c[0], c[1]): c[4:] for c in bold.extra["cells"]}

    def ink_count(res, box):
        x0, y0, x1, y1 = (int(v) for v in box)
        return int((res.image[y0 + 2:y1 - 2, x0 + 2:x1 - 2, :3].max(axis=-1) < 100).sum())

    assert ink_count(bold, bc[(0, 0)]) > 1.15 * ink_count(plain, pc[(1, 0)])


def test_word_wrap_beyond_max_width():
    long = " ".join(["word"] * 40)
    code = f"<table><tr><th>A</th><th>B</th></tr><tr><td>{long}</td><td>x</td></tr></table>"
    wide = render_tables([code], max_width=None, style=TableStyle(max_width=None))[0]
    narrow = render_tables([code], max_width=300)[0]
    m = TableStyle().margin
    assert wide.image.shape[1] - 2 * m > 1000
    assert narrow.image.shape[1] - 2 * m <= 300
    assert narrow.image.shape[0] > wide.image.shape[0] + 3 * 14  # several extra lines
    # a word longer than max_width is not broken: the table grows to fit it (as browsers do)
    huge = render_tables(["| " + "x" * 80 + " |\n|---|\n| y |"], max_width=100)[0]
    assert huge.image.shape[1] > 300


def test_spans_and_backgrounds_are_drawn():
    code = ("<table><tr><th colspan=2>Top</th></tr><tr><td rowspan=2 "
            "style='background-color:#ff0000'>R</td><td>a</td></tr><tr><td>b</td></tr></table>")
    res = render_tables([code])[0]
    n_r, n_c, cells = detect_grid(res.image)
    assert (n_r, n_c) == (3, 2)
    assert cells == {(0, 0, 1, 2), (1, 0, 2, 1), (1, 1, 1, 1), (2, 1, 1, 1)}
    box = next(c[4:] for c in res.extra["cells"] if c[:2] == [1, 0])
    x0, y0, x1, y1 = (int(v) for v in box)
    patch = res.image[y0 + 2:y0 + 6, x0 + 2:x0 + 6, :3].reshape(-1, 3)
    assert (patch == [255, 0, 0]).all()


def test_scale_multiplies_resolution():
    code = "| a | b |\n|---|---|\n| 1 | 2 |"
    one = render_table(code)
    two = render_table(code, style=TableStyle(scale=2.0))
    assert abs(two.shape[0] - 2 * one.shape[0]) <= 1 and abs(two.shape[1] - 2 * one.shape[1]) <= 1


def test_unicode_and_missing_glyphs_draw_something():
    # CJK uses a fallback font if one is installed, else a missing-glyph box: never blank
    res = render_tables(["| h |\n|---|\n| 中文 |", "| h |\n|---|\n| \U0001d400\u0b85 |"])
    for r in res:
        box = next(c[4:] for c in r.extra["cells"] if c[:2] == [1, 0])
        x0, y0, x1, y1 = (int(v) for v in box)
        assert (r.image[y0 + 2:y1 - 2, x0 + 2:x1 - 2, :3].max(axis=-1) < 128).sum() > 10


def test_bad_items_get_error_results_and_do_not_stop_the_batch():
    res = render_tables(["| a |\n|---|\n| 1 |", "garbage", r"\begin{tabular}{c} x", 42])
    assert [r.status for r in res][0] in ("ok", "fallback")
    assert [r.status for r in res[1:]] == ["error", "error", "error"]
    assert res[1].extra["reason"] == "unknown_format"
    assert res[2].extra["reason"] == "unbalanced"
    with pytest.raises(TableParseError):
        render_table("garbage")


def test_tables_and_objects_and_formats():
    t = parse("<table><tr><td>1</td></tr></table>")
    a = render_table(t)
    b = render_table("<table><tr><td>1</td></tr></table>", fmt="html")
    assert a.shape == b.shape and (a == b).all()
    with pytest.raises(TableParseError):
        render_table("<table><tr><td>1</td></tr></table>", fmt="latex")


def test_cli_renders_table_files(tmp_path):
    from PIL import Image

    from verm.cli import main

    (tmp_path / "t.md").write_text("| a | b |\n|---|---|\n| 1 | 2 |\n")
    (tmp_path / "t.html").write_text("<table><tr><td>x</td></tr></table>")
    (tmp_path / "u.tex").write_text(r"\begin{tabular}{cc} a & b \\ \end{tabular}")
    (tmp_path / "bad.tex").write_text("nope")
    out = tmp_path / "one.png"
    assert main(["render", str(tmp_path / "t.md"), "-o", str(out)]) == 0
    assert Image.open(out).size[0] > 20
    folder = tmp_path / "out"
    assert main(["render", str(tmp_path), "-o", str(folder), "--quiet"]) == 1  # bad.tex fails
    assert sorted(p.name for p in folder.iterdir()) == ["t.html.png", "t.md.png", "u.png"]
    assert main(["render", str(tmp_path), "-o", str(folder), "--quiet", "--skip-existing"]) == 1


def test_control_characters_and_bad_style():
    res = render_tables(["<table><tr><td>a\x01b\tc &#0; \x0b</td></tr></table>",
                         "| a\x00 |\n|---|\n| x |"])
    assert all(r.ok for r in res), [r.message for r in res]
    for bad in ({"font_size": 0}, {"padding_x": -1}, {"max_width": 0}, {"header_align": "up"}):
        with pytest.raises(ValueError):
            TableStyle(**bad)
