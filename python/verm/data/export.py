"""Exports of a synthesised set: SFT chat JSONL, a Hugging Face dataset, verl RL parquet and
verm's benchmark JSONL (:mod:`verm.bench.format`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from verm.records import CATEGORIES


def iter_items(out_dir: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """The records of ``out_dir/items.jsonl`` (torn lines skipped)."""
    with open(Path(out_dir) / "items.jsonl", encoding="utf-8") as f:
        for line in f:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def critic_answer(kind: str, errors: list[dict[str, Any]]) -> str:
    """The assistant's JSON: one ``<category>_count`` per category plus the error list."""
    d: dict[str, Any] = {f"{c}_count": sum(1 for e in errors if e["category"] == c) for c in CATEGORIES[kind]}
    d["errors"] = [{k: e[k] for k in ("category", "severity", "location", "description")} for e in errors]
    return json.dumps(d, ensure_ascii=False)


def sft_record(item: dict[str, Any], root: str | os.PathLike | None = None) -> dict[str, Any]:
    """One chat-messages record for Qwen-VL SFT: [GT image, rendered image, prompt] -> JSON answer."""
    from verm.critic.prompts import build_messages

    base = Path(root) if root else None
    gt = str(base / item["gt_image"]) if base else item["gt_image"]
    pred = str(base / item["pred_image"]) if base else item["pred_image"]
    msgs = build_messages(item["kind"], gt_image=gt, pred_image=pred)
    msgs.append({"role": "assistant", "content": [{"type": "text", "text": critic_answer(item["kind"], item["errors"])}]})
    return {"id": item["id"], "kind": item["kind"], "images": [gt, pred], "messages": msgs}


def export_sft(out_dir: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Write ``sft.jsonl`` (image paths relative to ``out_dir``). Returns the path."""
    dest = Path(path) if path else Path(out_dir) / "sft.jsonl"
    with open(dest, "w", encoding="utf-8") as f:
        for item in iter_items(out_dir):
            f.write(json.dumps(sft_record(item), ensure_ascii=False) + "\n")
    return dest


def export_hf(out_dir: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Save a Hugging Face ``datasets`` dataset (images decoded as ``Image`` features)."""
    try:
        import datasets
    except ImportError as exc:
        raise RuntimeError("the Hugging Face export needs the 'datasets' package (pip install verm[data])") from exc
    root = Path(out_dir)
    rows = []
    for it in iter_items(root):
        rows.append({
            "id": it["id"], "kind": it["kind"], "fmt": it["fmt"], "gt_code": it["gt_code"],
            "pred_code": it["pred_code"], "gt_image": str(root / it["gt_image"]),
            "pred_image": str(root / it["pred_image"]), "identical": it["identical"],
            "answer": critic_answer(it["kind"], it["errors"]), "errors": json.dumps(it["errors"]),
        })
    feats = datasets.Features({
        "id": datasets.Value("string"), "kind": datasets.Value("string"), "fmt": datasets.Value("string"),
        "gt_code": datasets.Value("string"), "pred_code": datasets.Value("string"),
        "gt_image": datasets.Image(), "pred_image": datasets.Image(), "identical": datasets.Value("bool"),
        "answer": datasets.Value("string"), "errors": datasets.Value("string"),
    })
    ds = datasets.Dataset.from_list(rows, features=feats)
    dest = Path(path) if path else root / "hf"
    ds.save_to_disk(str(dest))
    return dest


def export_bench(out_dir: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Write the set as verm's benchmark JSONL (``bench.jsonl`` in ``out_dir`` by default).

    One :class:`verm.bench.format.BenchItem` per item: id, kind, image paths relative to the
    written file, the reference errors (with GT-pixel bboxes) and ``meta`` (fmt, source, families,
    nuisance, identical). ``verm bench run --data <file>`` reads it directly.
    """
    from verm.bench.format import BenchItem, save_bench
    from verm.records import VisualError

    root = Path(out_dir)
    dest = Path(path) if path else root / "bench.jsonl"
    dest.parent.mkdir(parents=True, exist_ok=True)
    base = dest.parent.resolve()

    def rel(p: str) -> str:
        return Path(os.path.relpath((root / p).resolve(), base)).as_posix()

    items = []
    for it in iter_items(root):
        items.append(BenchItem(
            id=it["id"], kind=it["kind"], gt_image=rel(it["gt_image"]), pred_image=rel(it["pred_image"]),
            errors=[VisualError.from_dict(e) for e in it["errors"]],
            meta={"fmt": it["fmt"], "source": it.get("source", ""), "families": it.get("families", []),
                  "nuisance": it.get("nuisance", {}), "identical": it["identical"]}))
    save_bench(items, dest)
    return dest


# Charts made from native specs get the matplotlib instruction too: the task is image -> code, and
# verm's reward pipeline renders Python chart code (``extra_info.fmt`` says the GT was a spec).
RL_INSTRUCTIONS = {
    "chart": "Write Python matplotlib code that reproduces this chart exactly. Answer with one ```python block.",
    "table": "Write {fmt} code that reproduces this table exactly. Answer with one ```{fence} block.",
    "svg": "Write SVG code that reproduces this image exactly. Answer with one ```svg block.",
}


def export_rl_parquet(out_dir: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Image-to-code RL prompts as parquet in verl's columns.

    Columns: ``data_source``, ``prompt`` (chat messages with an ``<image>`` placeholder),
    ``images`` (list of ``{"bytes": PNG}``), ``ability``, ``reward_model`` (``style``,
    ``ground_truth`` = the GT code) and ``extra_info`` (kind, fmt, id, GT image path). One row per
    distinct ground truth.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise RuntimeError("the RL parquet export needs pyarrow (pip install verm[data])") from exc
    root = Path(out_dir)
    rows: dict[str, list] = {k: [] for k in ("data_source", "prompt", "images", "ability", "reward_model", "extra_info")}
    seen = set()
    for it in iter_items(root):
        if it["gt_code"] in seen:
            continue
        seen.add(it["gt_code"])
        fence = {"markdown": "markdown", "html": "html", "latex": "latex"}.get(it["fmt"], it["fmt"])
        text = RL_INSTRUCTIONS[it["kind"]].format(fmt=it["fmt"].upper() if it["fmt"] == "html" else it["fmt"].capitalize(),
                                                   fence=fence)
        rows["data_source"].append(f"verm_synth_{it['kind']}")
        rows["prompt"].append([{"role": "user", "content": "<image>\n" + text}])
        rows["images"].append([{"bytes": (root / it["gt_image"]).read_bytes()}])
        rows["ability"].append(f"image_to_{it['kind']}_code")
        rows["reward_model"].append({"style": "rule", "ground_truth": it["gt_code"]})
        rows["extra_info"].append({"id": it["id"], "kind": it["kind"], "fmt": it["fmt"], "gt_image": it["gt_image"]})
    dest = Path(path) if path else root / "rl.parquet"
    pq.write_table(pa.table(rows), dest)
    return dest
