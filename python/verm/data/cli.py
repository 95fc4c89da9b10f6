"""``verm synth``: synthesise labelled (ground truth, prediction) pairs for critic training."""

from __future__ import annotations

import argparse
import json
import sys

from verm.records import KINDS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=[*KINDS, "all"], default="all", help="which kind (all: split n evenly)")
    p.add_argument("--n", type=int, default=300, help="number of items (total over kinds)")
    p.add_argument("-o", "--out", required=True, help="output folder (items.jsonl + images/)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None, help="renderer threads/processes")
    p.add_argument("--neg-frac", type=float, default=0.25, help="fraction of identical (negative) pairs")
    p.add_argument("--max-errors", type=int, default=3, help="errors per positive item: 1..N")
    p.add_argument("--export", action="append", choices=["sft", "hf", "rl"], default=[],
                   help="also write sft.jsonl / hf/ / rl.parquet (repeatable)")
    p.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from verm.data.render import RendererUnavailable
    from verm.data.synth import KIND_ORDER, SynthConfig, synthesize

    kinds = list(KIND_ORDER) if args.kind == "all" else [args.kind]
    cfg = SynthConfig(seed=args.seed, neg_frac=args.neg_frac, max_errors=args.max_errors, workers=args.workers)
    try:
        summary = synthesize(kinds, args.n, args.out, cfg, progress=not args.no_progress)
    except RendererUnavailable as exc:
        print(f"verm synth: {exc}", file=sys.stderr)
        return 2
    from verm.data import export

    for kind in args.export:
        fn = {"sft": export.export_sft, "hf": export.export_hf, "rl": export.export_rl_parquet}[kind]
        try:
            summary[f"export_{kind}"] = str(fn(args.out))
        except RuntimeError as exc:
            print(f"verm synth: {exc}", file=sys.stderr)
            return 2
    print(json.dumps(summary))
    return 0 if not summary["missing"] else 1
