"""verm.data sources beyond the built-in generators: native chart specs, user corpora, bench/HF exports."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from verm.data import chart_gen, spec_gen, svg_gen, table_gen
from verm.data.synth import (
    SynthConfig,
    chart_source_for,
    default_renderer,
    synth_pairs,
    synthesize,
    synthesize_corpus,
)
from verm.records import CATEGORIES


def test_spec_samples_are_deterministic_with_valid_labels_and_probes():
    from verm.charts.spec import spec_to_svg

    types = set()
    for seed in range(40):
        n = seed % 4
        a, b = spec_gen.make_sample(seed, n), spec_gen.make_sample(seed, n)
        assert (a.gt_code, a.pred_code) == (b.gt_code, b.pred_code)
        assert a.fmt == "vegalite" and a.kind == "chart"
        types.add(a.meta["type"])
        spec_to_svg(json.loads(a.gt_code))  # the spec subset accepts GT, prediction and probes
        spec_to_svg(json.loads(a.pred_code))
        assert all(e.category in CATEGORIES["chart"] and e.severity in (1, 2, 3) for e in a.errors)
        if n == 0:
            assert a.gt_code == a.pred_code and not a.errors
        else:
            assert 1 <= len(a.errors) <= n and a.pred_code != a.gt_code
            for e in a.errors:
                assert e.probe and e.probe != a.gt_code
                spec_to_svg(json.loads(e.probe))
    assert types == set(spec_gen.TYPES)


def test_every_spec_family_produces_a_label():
    for fam in spec_gen.FAMILIES:
        got = sum(len(s.errors) == 1 and s.errors[0].family.startswith(fam.split("_")[0])
                  for s in (spec_gen.make_sample(seed, 1, families=[fam]) for seed in range(30)))
        assert got >= 3, (fam, got)


def test_spec_items_render_natively_with_probe_bboxes():
    render = default_renderer()
    try:
        items = list(synth_pairs("chart", range(14), SynthConfig(seed=5, chart_source="spec"), render))
    finally:
        render.close()
    assert len(items) == 14
    assert render._pool is None  # spec charts never start the matplotlib pool
    for it in items:
        s = it["sample"]
        assert s.fmt == "vegalite"
        if s.identical:
            assert np.array_equal(it["gt"], it["pred_clean"])
            continue
        h, w = it["gt"].shape[:2]
        for e in it["errors"]:
            assert e.category in CATEGORIES["chart"]
            x0, y0, x1, y1 = e.bbox
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        # a title edit's box lies in the top band of the chart
        for le, e in zip(s.errors, it["errors"]):
            if le.family == "title_text":
                assert e.bbox[3] <= 0.2 * h


def test_mixed_chart_source_is_seeded_per_item():
    cfg = SynthConfig(seed=3)
    picks = [chart_source_for(3, i, cfg) for i in range(40)]
    assert picks == [chart_source_for(3, i, cfg) for i in range(40)]
    assert 8 <= picks.count("spec") <= 32
    assert {chart_source_for(3, i, SynthConfig(chart_source="code")) for i in range(10)} == {"code"}


def test_spec_synth_resume_and_dedup(tmp_path):
    out = tmp_path / "spec"
    cfg = SynthConfig(seed=2, chart_source="spec")
    assert synthesize(["chart"], 5, out, cfg, progress=False)["written"] == 5
    lines = (out / "items.jsonl").read_text().splitlines()
    (out / "items.jsonl").write_text("\n".join(lines[:3]) + "\n" + lines[3][:50])
    s2 = synthesize(["chart"], 7, out, cfg, progress=False)
    assert s2["skipped"] == 3 and s2["written"] == 4
    recs = [json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()]
    assert [r["id"] for r in recs] == [f"chart-{i:06d}" for i in range(7)]
    assert len({r["hash"] for r in recs}) == 7
    assert {r["source"] for r in recs} == {"spec"} and {r["fmt"] for r in recs} == {"vegalite"}
    first = [json.loads(x) for x in lines[:3]]
    assert [r["gt_code"] for r in recs[:3]] == [r["gt_code"] for r in first]


def _corpus(path: Path) -> dict[str, int]:
    """A corpus with usable SVG / table / matplotlib records and known bad ones."""
    rows = []
    for seed in range(3):
        rows.append({"kind": "svg", "code": svg_gen.make_sample(seed, 0).gt_code, "id": f"svg{seed}"})
    rows.append({"kind": "svg", "code": '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
                 '<rect x="10" y="10" width="60" height="40" fill="#2a9d8f"/>'
                 '<circle cx="90" cy="40" r="20" style="fill:#e76f51"/>'
                 '<text x="60" y="75" font-size="12" text-anchor="middle" fill="#222">Hello</text></svg>'})
    for fmt in table_gen.FORMATS:
        rows.append({"kind": "table", "code": table_gen.make_sample(7, 0, fmt=fmt).gt_code})
    rows.append({"kind": "table", "code": "| Name | Score |\n|---|---:|\n| Ann | 3.5 |\n| Bo | 4.0 |\n| Cy | 2.5 |",
                 "fmt": "markdown"})
    for ctype in ("bar", "line"):
        rows.append({"kind": "chart", "code": chart_gen.chart_code(chart_gen.generate_chart(random.Random(1), ctype))})
    from verm.charts.samples import chart_specs

    for spec in chart_specs(3, seed=4):
        rows.append({"kind": "chart", "code": json.dumps(spec), "fmt": "vegalite"})
    bad = [
        {"kind": "svg", "code": "<svg><rect></svg>"},  # svg:xml_error
        {"kind": "table", "code": "just a sentence, no table"},  # table:unparseable_unknown_format
        {"kind": "chart", "code": "import matplotlib.pyplot as plt\nplt.plot(range(3)"},  # chart:syntax_error
        {"kind": "chart", "code": "import matplotlib.pyplot as plt\nplt.plot(range(3))\n"},  # chart:no_editable_site
        {"kind": "audio", "code": "x"},  # unknown_kind
        {"kind": "chart", "code": json.dumps({"mark": "rect", "data": {"values": []}}), "fmt": "vegalite"},
    ]
    text = "\n".join(json.dumps(r) for r in rows + bad) + "\n{not json\n"
    path.write_text(text)
    return {"good": len(rows), "bad": len(bad) + 1}


def test_user_corpus_svg_table_matplotlib_with_skip_reasons(tmp_path):
    src = tmp_path / "corpus.jsonl"
    sizes = _corpus(src)
    cfg = SynthConfig(seed=0, neg_frac=0.0, max_errors=2)
    out = tmp_path / "user"
    s = synthesize_corpus(src, out, cfg, progress=False)
    reasons = s["skip_reasons"]
    for key in ("bad_json", "unknown_kind", "svg:xml_error", "chart:syntax_error", "chart:no_editable_site",
                "chart:spec_unsupported"):
        assert reasons.get(key) == 1, (key, reasons)
    assert reasons.get("table:unparseable_unknown_format") == 1, reasons
    recs = [json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()]
    chart_codes = set()
    for line in src.read_text().splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if d["kind"] == "chart":
            chart_codes.add(d["code"])
    kinds = {r["kind"] for r in recs}
    assert kinds == {"svg", "table", "chart"}
    assert len(recs) >= sizes["good"] - 2  # an item may use up its attempts; that is counted too
    assert len(recs) + sum(v for k, v in reasons.items() if k.startswith("gave_up")) == sizes["good"]
    for r in recs:
        assert r["source"] == "user" and r["id"].startswith(f"user-{r['kind']}-")
        assert r["errors"], r["id"]
        w, h = r["gt_size"]
        for e in r["errors"]:
            assert e["category"] in CATEGORIES[r["kind"]]
            x0, y0, x1, y1 = e["bbox"]
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
            assert e["location"]
        if r["kind"] == "chart":  # chart edits leave the GT program / spec as given
            assert r["fmt"] in ("matplotlib", "vegalite") and r["gt_code"] in chart_codes
    assert {r["fmt"] for r in recs if r["kind"] == "chart"} == {"matplotlib", "vegalite"}
    # resumable and deduplicated
    again = synthesize_corpus(src, out, cfg, progress=False)
    assert again["written"] == 0
    recs2 = [json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()]
    assert len(recs2) == len(recs) and len({r["hash"] for r in recs2}) == len(recs2)


def test_user_table_round_trip_keeps_cells():
    from verm.data.user_corpus import table_model
    from verm.tables import parse

    for fmt in table_gen.FORMATS:
        code = table_gen.make_sample(11, 0, fmt=fmt).gt_code
        m = table_model(code, None)
        assert m["fmt"] == fmt
        assert parse(table_gen.table_code(m)).texts() == parse(code).texts()
        assert any(t != "text" for t in m["types"])  # numeric columns are recognised


def test_bench_export_round_trips_and_runs(tmp_path):
    from verm.bench.format import load_bench
    from verm.bench.runner import run_bench
    from verm.critic.registry import make_critic
    from verm.data.export import export_bench

    out = tmp_path / "syn"
    synthesize(["svg"], 5, out, SynthConfig(seed=4), progress=False)
    synthesize(["chart"], 3, out, SynthConfig(seed=4, chart_source="spec"), progress=False)
    dest = export_bench(out, tmp_path / "elsewhere" / "bench.jsonl")
    items = load_bench(dest)
    recs = {json.loads(x)["id"]: json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()}
    assert [it.id for it in items] == list(recs)
    for it in items:
        r = recs[it.id]
        assert Path(it.gt_image).exists() and Path(it.pred_image).exists()
        assert [e.to_dict() for e in it.errors] == r["errors"]
        assert it.meta["identical"] == r["identical"] and it.kind == r["kind"]
    m = run_bench(dest, make_critic("pixel"), tmp_path / "res", progress=False)
    d = m.to_dict()
    assert set(d["by_kind"]) == {"svg", "chart"}
    assert (tmp_path / "res" / "metrics.json").exists()


def test_hf_export_loads_back(tmp_path):
    import datasets  # in the `data` extra (part of `test`): missing it must fail, not skip

    from verm.data.export import export_hf

    out = tmp_path / "syn"
    synthesize(["svg"], 4, out, SynthConfig(seed=8), progress=False)
    ds = datasets.load_from_disk(str(export_hf(out)))
    recs = [json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()]
    assert len(ds) == len(recs) == 4
    assert ds.features["gt_image"] == datasets.Image()
    row = ds[0]
    assert row["id"] == recs[0]["id"]
    assert row["gt_image"].size == tuple(recs[0]["gt_size"])
    ans = json.loads(row["answer"])
    assert len(ans["errors"]) == len(recs[0]["errors"])


def test_synth_cli_sources_and_bench_export(tmp_path):
    from verm.bench.format import load_bench
    from verm.cli import main

    out = tmp_path / "c"
    assert main(["synth", "--kind", "chart", "--chart-source", "spec", "--n", "3", "-o", str(out),
                 "--no-progress", "--export", "bench"]) == 0
    assert len(load_bench(out / "bench.jsonl")) == 3
    src = tmp_path / "corpus.jsonl"
    src.write_text(json.dumps({"kind": "svg", "code": svg_gen.make_sample(1, 0).gt_code}) + "\n")
    assert main(["synth", "--from-jsonl", str(src), "--per-item", "2", "-o", str(tmp_path / "u"),
                 "--neg-frac", "0", "--no-progress"]) == 0
    recs = [json.loads(x) for x in (tmp_path / "u" / "items.jsonl").read_text().splitlines()]
    assert [r["id"] for r in recs] == ["user-svg-000000", "user-svg-000001"]


def test_odd_user_records_never_raise_anything_but_corpus_skip():
    from verm.data.user_corpus import CorpusSkip, UserRecord, make_user_sample

    odd = [
        UserRecord(1, "table", "| Only |\n|---|\n| a |\n| b |"),  # one column: column edits must not crash
        UserRecord(2, "table", "<table><tr><td>1</td></tr></table>"),
        UserRecord(3, "svg", '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
                             '<rect width="40" height="40" fill="hsl(120, 200%, 25%)"/></svg>'),
        UserRecord(4, "svg", '<svg xmlns="http://www.w3.org/2000/svg"><defs><rect id="r"/></defs></svg>'),
        UserRecord(5, "chart", "{bad json", "vegalite"),
        UserRecord(6, "chart", "x = [1, 2, 3]\n"),
    ]
    outcomes = []
    for rec in odd:
        for seed in range(12):
            try:
                s = make_user_sample(rec, seed, 1 + seed % 3)
                outcomes.append(("ok", rec.line))
                assert all(e.category in CATEGORIES[rec.kind] for e in s.errors)
            except CorpusSkip as exc:
                outcomes.append((exc.reason, rec.line))
    reasons = {r for r, _ in outcomes}
    assert ("ok", 1) in outcomes and ("ok", 3) in outcomes
    assert {"table:too_small", "svg:no_drawable_element", "chart:spec_not_json",
            "chart:no_editable_site"} <= reasons
    assert not any(r.endswith("edit_failed") for r in reasons)
