"""verm.data: generators, perturbation labels, synthesis (render, dedup, resume) and exports."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from verm.data import chart_gen, svg_gen, table_gen
from verm.data.nuisance import apply_nuisance
from verm.data.synth import SynthConfig, synth_pairs, synthesize
from verm.records import CATEGORIES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_pixel_critic import bench_renderer  # noqa: E402

GENS = {"svg": svg_gen.make_sample, "table": table_gen.make_sample, "chart": chart_gen.make_sample}


@pytest.mark.parametrize("kind", ["svg", "table", "chart"])
def test_labels_belong_to_kind_and_determinism(kind):
    for seed in range(40):
        n = seed % 4
        a = GENS[kind](seed, n)
        b = GENS[kind](seed, n)
        assert (a.gt_code, a.pred_code) == (b.gt_code, b.pred_code)
        assert [e.description for e in a.errors] == [e.description for e in b.errors]
        assert all(e.category in CATEGORIES[kind] for e in a.errors)
        assert all(e.severity in (1, 2, 3) for e in a.errors)
        if n == 0:
            assert a.gt_code == a.pred_code and not a.errors
        else:
            assert a.pred_code != a.gt_code and 1 <= len(a.errors) <= n


@pytest.mark.parametrize("kind", ["svg", "table", "chart"])
def test_every_item_renders_and_identical_pairs_are_bit_identical(kind):
    render = bench_renderer()
    try:
        items = list(synth_pairs(kind, range(16), SynthConfig(seed=3), render))
    finally:
        render.close()
    assert len(items) == 16
    for it in items:
        assert it["gt"] is not None and it["pred"] is not None
        assert all(e.category in CATEGORIES[kind] for e in it["errors"])
        if it["sample"].identical:
            assert np.array_equal(it["gt"], it["pred_clean"])
            assert it["nuisance"]
        else:
            assert not np.array_equal(it["gt"], it["pred_clean"])
        if kind in ("svg", "chart") or getattr(render, "last_extras", None):
            assert all(e.bbox is not None for e in it["errors"])  # tables: from the cell boxes
        for e in it["errors"]:
            if e.bbox is not None:
                x0, y0, x1, y1 = e.bbox
                assert 0 <= x0 <= x1 <= it["gt"].shape[1] and 0 <= y0 <= y1 <= it["gt"].shape[0]


def test_every_family_produces_a_label():
    for kind, mod in (("svg", svg_gen), ("table", table_gen), ("chart", chart_gen)):
        for fam in mod.FAMILIES:
            got = 0
            for seed in range(30):
                s = mod.make_sample(seed, 1, families=[fam])
                got += len(s.errors) == 1 and s.errors[0].family.startswith(fam.split("_")[0])
            assert got >= 3, (kind, fam, got)


def test_nuisance_range():
    img = np.full((100, 120, 4), 255, np.uint8)
    for seed in range(20):
        out, info = apply_nuisance(img, random.Random(seed))
        assert out.ndim == 3 and out.shape[-1] == 3
        assert info
        if "scale" in info:
            assert 0.8 <= info["scale"] <= 1.25


def test_synth_resume_dedup_and_exports(tmp_path):
    out = tmp_path / "syn"
    s1 = synthesize(["svg"], 6, out, SynthConfig(seed=1), progress=False)
    assert s1["written"] == 6
    lines = (out / "items.jsonl").read_text().splitlines()
    # a torn last line (killed mid-write) is dropped and redone
    (out / "items.jsonl").write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    s2 = synthesize(["svg"], 9, out, SynthConfig(seed=1), progress=False)
    assert s2["skipped"] == 5 and s2["written"] == 4
    recs = [json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()]
    assert sorted(r["index"] for r in recs) == list(range(9))
    assert len({r["hash"] for r in recs}) == 9
    again = synthesize(["svg"], 9, out, SynthConfig(seed=1), progress=False)
    assert again["written"] == 0
    for r in recs:
        assert (out / r["gt_image"]).exists() and (out / r["pred_image"]).exists()
    from verm.data.export import export_rl_parquet, export_sft

    sft = [json.loads(x) for x in export_sft(out).read_text().splitlines()]
    assert len(sft) == 9
    m = sft[0]["messages"]
    assert m[-1]["role"] == "assistant"
    ans = json.loads(m[-1]["content"][0]["text"])
    assert set(ans) == {f"{c}_count" for c in CATEGORIES["svg"]} | {"errors"}
    images = [p for msg in m for p in msg["content"] if isinstance(p, dict) and p.get("type") == "image"]
    assert len(images) == 2
    import pyarrow.parquet as pq  # in the `data` extra (part of `test`): missing it must fail, not skip

    t = pq.read_table(export_rl_parquet(out))
    assert {"data_source", "prompt", "images", "ability", "reward_model", "extra_info"} <= set(t.column_names)


def test_synth_cli(tmp_path):
    from verm.cli import main

    assert main(["synth", "--kind", "svg", "--n", "4", "-o", str(tmp_path / "c"), "--no-progress"]) == 0
    assert len((tmp_path / "c" / "items.jsonl").read_text().splitlines()) == 4
