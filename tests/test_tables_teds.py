"""TEDS (PubTabNet tree-edit-distance similarity) and cell precision/recall."""

from __future__ import annotations

import copy
import random

import pytest

from verm.tables import Table, cell_scores, normalize_cell_text, parse, teds
from verm.tables.synth import random_table

pytest.importorskip("apted")

GT = """<table><thead><tr><th>Model</th><th>Params</th><th>Acc</th></tr></thead><tbody>
<tr><td>Base</td><td>110M</td><td>91.2</td></tr>
<tr><td>Large</td><td>340M</td><td>93.5</td></tr>
<tr><td colspan="2">Ours (ensemble)</td><td><b>95.1</b></td></tr>
</tbody></table>"""


def _perturbations(t: Table) -> dict[str, Table]:
    out = {}
    changed = copy.deepcopy(t)
    target = next(c for c in changed.cells if c.text and not c.header)
    target.text = target.text + "x"
    out["changed_text"] = changed

    dropped = copy.deepcopy(t)
    r = dropped.n_rows - 2  # a body row without spans reaching into it
    dropped.cells = [c for c in dropped.cells if c.row != r]
    for c in dropped.cells:
        if c.row > r:
            c.row -= 1
    dropped.n_rows -= 1
    out["dropped_row"] = dropped

    swapped = copy.deepcopy(t)
    for c in swapped.cells:
        if c.colspan == 1 and c.col in (1, 2):
            c.col = 3 - c.col
    swapped.cells.sort(key=lambda c: (c.row, c.col))
    out["swapped_columns"] = swapped
    return out


def test_identical_is_one():
    assert teds(GT, GT) == 1.0
    assert teds(GT, GT, structure_only=True) == 1.0
    t = parse(GT)
    assert teds(t, parse(t.to_latex())) == 1.0  # same grid from another format


@pytest.mark.parametrize("kind", ["changed_text", "dropped_row", "swapped_columns"])
def test_each_single_perturbation_lowers_teds(kind):
    gt = parse(GT)
    pred = _perturbations(gt)[kind]
    score = teds(pred, gt)
    assert 0.0 < score < 1.0
    if kind == "dropped_row":
        assert teds(pred, gt, structure_only=True) < 1.0
    if kind == "changed_text":
        assert score > teds(_perturbations(gt)["dropped_row"], gt)


def test_perturbations_on_random_tables():
    for seed in range(25):
        gt = random_table(random.Random(seed), max_rows=6, max_cols=4, spans=False)
        if gt.n_cols < 3 or gt.n_rows < 3:
            continue
        texts = [c.text for c in gt.cells if c.col in (1, 2)]
        for kind, pred in _perturbations(gt).items():
            if kind == "swapped_columns" and all(
                    a.text == b.text for a, b in zip(
                        sorted((c for c in gt.cells if c.col == 1), key=lambda c: c.row),
                        sorted((c for c in gt.cells if c.col == 2), key=lambda c: c.row))):
                continue  # identical columns: swapping changes nothing
            assert teds(pred, gt) < 1.0, (seed, kind, texts)


def test_structure_only_ignores_text_edits():
    gt = parse(GT)
    edited = copy.deepcopy(gt)
    for c in edited.cells:
        c.text = c.text[::-1] + "!"
        c.bold = not c.bold
    assert teds(edited, gt) < 1.0
    assert teds(edited, gt, structure_only=True) == 1.0


def test_span_change_counts_in_structure():
    gt = parse(GT)
    pred = parse(GT.replace('<td colspan="2">Ours (ensemble)</td>',
                            "<td>Ours (ensemble)</td><td></td>"))
    assert teds(pred, gt, structure_only=True) < 1.0


def test_unparseable_prediction_scores_zero():
    assert teds("not a table at all", GT) == 0.0
    s = cell_scores("not a table", GT)
    assert s.precision == 0.0 and s.recall == 0.0


def test_teds_value_matches_hand_computation():
    # one character of one 4-character cell differs: rename cost 1/4 over 1+2+1*4... nodes
    gt = parse("<table><tr><td>abcd</td><td>x</td></tr></table>")
    pred = parse("<table><tr><td>abce</td><td>x</td></tr></table>")
    n_nodes = 1 + 1 + 2  # tbody, tr, 2 td
    assert teds(pred, gt) == pytest.approx(1 - 0.25 / n_nodes)


@pytest.mark.parametrize("a,b", [
    ("1,234.50", "1234.5"), ("+007", "7"), ("12.0%", "12%"), ("\u22123.10", "-3.1"),
    ("  two   words ", "two words"), ("0.000", "0"), ("１２３", "123"),
])
def test_numeric_normalisation(a, b):
    assert normalize_cell_text(a) == normalize_cell_text(b)


def test_normalisation_keeps_real_differences():
    assert normalize_cell_text("1.5") != normalize_cell_text("15")
    assert normalize_cell_text("Abc") != normalize_cell_text("abc")
    assert normalize_cell_text("1,23") == "1,23"  # not a thousands grouping: left as text


def test_cell_scores():
    gt = parse("| a | b |\n|---|---|\n| 1,000 | 2.50 |\n| x | y |")
    same_numbers = parse("| a | b |\n|---|---|\n| 1000 | 2.5 |\n| x | y |")
    s = cell_scores(same_numbers, gt)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    assert cell_scores(same_numbers, gt, normalize=False).recall < 1.0
    missing = parse("| a | b |\n|---|---|\n| 1000 | 2.5 |")
    s = cell_scores(missing, gt)
    assert s.precision == 1.0 and s.recall == pytest.approx(4 / 6) and s.n_matched == 4
    shifted = parse("| b | a |\n|---|---|\n| 2.5 | 1000 |\n| y | x |")
    assert cell_scores(shifted, gt).f1 == 0.0


def test_pure_python_levenshtein_fallback():
    from verm.tables.metrics import _python_levenshtein

    assert _python_levenshtein(tuple("kitten"), tuple("sitting")) == 3
    assert _python_levenshtein((), tuple("abc")) == 3
    assert _python_levenshtein(("<b>", "a", "</b>"), ("a",)) == 2
