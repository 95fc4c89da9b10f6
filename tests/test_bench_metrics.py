"""Reward-bench evaluator: metrics on hand-made cases with known answers, matching, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from verm.bench import (
    BenchItem,
    DeterministicMatcher,
    auroc,
    compute_metrics,
    load_bench,
    pearson,
    save_bench,
)
from verm.bench.runner import load_results, run_bench
from verm.records import Critique, VisualError


def _items():
    e = VisualError
    return [
        BenchItem("a", "chart", "a.png", "a2.png", [e("data_error", 3, "bar 2", "bar too tall")]),
        BenchItem("b", "chart", "b.png", "b2.png", [e("text_error", 1, "title", "typo in title"),
                                                     e("style_error", 2, "legend", "wrong colour")]),
        BenchItem("c", "table", "c.png", "c2.png", [e("numeric_error", 2, "row 3, column 2",
                                                      "value 12 instead of 21")]),
        BenchItem("d", "svg", "d.png", "d2.png", []),
    ]


def test_perfect_critic_scores_one():
    items = _items()
    m = compute_metrics(items, [Critique(errors=list(it.errors)) for it in items])
    assert m.overall["f1"] == pytest.approx(1.0)
    assert m.overall["soft_f1"] == pytest.approx(1.0)
    assert m.overall["pearson_severity"] == pytest.approx(1.0)
    assert m.overall["detection_auroc"] == pytest.approx(1.0)
    assert m.overall["false_alarm_rate"] == 0.0
    assert m.by_category["chart/data_error"]["f1"] == pytest.approx(1.0)


def test_empty_critic_recall_zero():
    items = _items()
    m = compute_metrics(items, [Critique() for _ in items])
    assert m.overall["recall"] == 0.0
    assert m.overall["f1"] == 0.0
    assert m.overall["pearson_severity"] is None  # predicted sums have no variance
    assert m.overall["detection_auroc"] == pytest.approx(0.5)


def test_shuffled_severities_known_pearson():
    ref = [1, 2, 3, 4, 5]
    pred = [5, 4, 3, 2, 1]
    items = [BenchItem(str(i), "svg", "g", "p", [VisualError("shape_error", 1, "x", "y")] * s)
             for i, s in enumerate(ref)]
    crits = [Critique(errors=[VisualError("shape_error", 1, "x", "y")] * s) for s in pred]
    m = compute_metrics(items, crits)
    assert m.overall["pearson_severity"] == pytest.approx(-1.0)
    assert pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(0.9933992677987828)


def test_false_alarm_and_wrong_category():
    items = _items()
    crits = [Critique(errors=list(it.errors)) for it in items]
    crits[3] = Critique(errors=[VisualError("shape_error", 1, "top", "extra circle")])
    crits[0] = Critique(errors=[VisualError("style_error", 3, "bar 2", "bar too tall")])
    m = compute_metrics(items, crits)
    assert m.overall["false_alarm_rate"] == 1.0
    assert m.by_kind["chart"]["recall"] == pytest.approx(2 / 3)


def test_partial_match_counts_half():
    matcher = DeterministicMatcher()
    ref = [VisualError("text_error", 1, "x-axis label", "label reads Year instead of Month")]
    pred = [VisualError("text_error", 1, "bottom", "the axis label wording differs")]
    full = [VisualError("text_error", 2, "x-axis label", "label reads Year, should be Month")]
    assert matcher.match(full, ref)[0].score == 1.0
    m = compute_metrics([BenchItem("i", "chart", "g", "p", ref)], [Critique(errors=pred)],
                        DeterministicMatcher(full_similarity=101, partial_similarity=0.1))
    assert m.overall["soft_recall"] == pytest.approx(0.5)
    assert m.overall["recall"] == 0.0


def test_auroc_ties_and_order():
    assert auroc([0, 0, 1, 2], [False, False, True, True]) == 1.0
    assert auroc([1, 1], [True, False]) == 0.5
    assert auroc([2, 1], [False, True]) == 0.0
    assert auroc([1], [True]) is None


class CountingCritic:
    name = "counting"

    def __init__(self):
        self.calls = 0

    def critique_batch(self, pairs):
        self.calls += len(pairs)
        out = []
        for gt, pred, _kind in pairs:
            diff = np.abs(gt.astype(int) - pred.astype(int)).max()
            errs = [VisualError("shape_error", 2, "image", "pixels differ")] if diff else []
            out.append(Critique(errors=errs))
        return out


def test_run_resumes_and_tolerates_bad_images(tmp_path):
    a = np.zeros((8, 8, 4), np.uint8)
    b = a.copy()
    b[2:4, 2:4] = 255
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b).save(tmp_path / "b.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n trunc")
    err = [VisualError("shape_error", 2, "centre", "square added")]
    items = [BenchItem("same", "svg", "a.png", "a.png", []),
             BenchItem("diff", "svg", "a.png", "b.png", err),
             BenchItem("bad", "svg", "a.png", "broken.png", err)]
    save_bench(items, tmp_path / "bench.jsonl")
    loaded = load_bench(tmp_path / "bench.jsonl")
    assert loaded[1].pred_image == str(tmp_path / "b.png")
    critic = CountingCritic()
    out = tmp_path / "res"
    m = run_bench(tmp_path / "bench.jsonl", critic, out, batch_size=2, progress=False)
    assert critic.calls == 2  # the broken image never reaches the critic
    assert m.overall["false_alarm_rate"] == 0.0
    assert m.overall["parse_failure_rate"] == pytest.approx(1 / 3)
    # Cut the last line as a crash would, then rerun: only that item is redone.
    lines = (out / "predictions.jsonl").read_text().splitlines()
    (out / "predictions.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:10])
    critic2 = CountingCritic()
    run_bench(tmp_path / "bench.jsonl", critic2, out, progress=False)
    assert critic2.calls <= 1
    items2, crits2, metrics = load_results(out)
    assert [it.id for it in items2] == ["same", "diff", "bad"]
    assert json.loads((out / "metrics.json").read_text())["n_items"] == 3


def test_llm_matcher_over_openai_protocol():
    httpx = pytest.importorskip("httpx")
    from verm.bench.match import LLMMatcher

    seen = []

    def handler(request):
        body = json.loads(request.content)
        prompt = body["messages"][0]["content"]
        seen.append(prompt)
        answer = "Yes." if "title" in prompt.split("Predicted error:")[1] else "no"
        if "legend" in prompt.split("Predicted error:")[1]:
            answer = "Partial"
        return httpx.Response(200, json={"choices": [{"message": {"content": answer}}]})

    m = LLMMatcher("http://judge/v1", "judge", transport=httpx.MockTransport(handler))
    ref = [VisualError("text_error", 1, "title", "typo"), VisualError("style_error", 2, "legend", "x")]
    pred = [VisualError("style_error", 2, "legend box", "colour"),
            VisualError("text_error", 1, "title", "misspelt"),
            VisualError("data_error", 3, "bars", "too tall")]
    matches = {(mt.pred, mt.ref): mt.score for mt in m.match(pred, ref)}
    assert matches == {(1, 0): 1.0, (0, 1): 0.5}
    assert len(seen) == 2  # only same-category pairs are asked
