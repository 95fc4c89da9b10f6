"""``verm synth``: synthesise labelled (ground truth, prediction) pairs for critic training."""

from __future__ import annotations

import argparse
import json
import sys

from verm.records import KINDS

EXPORTS = ("sft", "hf", "rl", "bench")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=[*KINDS, "all"], default="all", help="which kind (all: split n evenly)")
    p.add_argument("--n", type=int, default=None,
                   help="number of items (total over kinds; default 300, or the whole corpus with --from-jsonl)")
    p.add_argument("-o", "--out", required=True, help="output folder (items.jsonl + images/)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None, help="renderer threads/processes")
    p.add_argument("--neg-frac", type=float, default=0.25, help="fraction of identical (negative) pairs")
    p.add_argument("--max-errors", type=int, default=3, help="errors per positive item: 1..N")
    p.add_argument("--chart-source", choices=["code", "spec", "mixed"], default="mixed",
                   help="chart ground truths: matplotlib code, native chart specs, or both (default)")
    p.add_argument("--from-jsonl", metavar="FILE", default=None,
                   help="use a user corpus (JSONL with kind, code[, fmt, id]) instead of the generators")
    p.add_argument("--per-item", type=int, default=1, help="with --from-jsonl: items made from each record")
    p.add_argument("--export", action="append", choices=list(EXPORTS), default=[],
                   help="also write sft.jsonl / hf/ / rl.parquet / bench.jsonl (repeatable)")
    p.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from verm.data.render import RendererUnavailable
    from verm.data.synth import KIND_ORDER, SynthConfig, synthesize, synthesize_corpus

    kinds = list(KIND_ORDER) if args.kind == "all" else [args.kind]
    cfg = SynthConfig(seed=args.seed, neg_frac=args.neg_frac, max_errors=args.max_errors, workers=args.workers,
                      chart_source=args.chart_source)
    try:
        if args.from_jsonl:
            summary = synthesize_corpus(args.from_jsonl, args.out, cfg, n=args.n, per_item=max(1, args.per_item),
                                        kinds=kinds, progress=not args.no_progress)
        else:
            summary = synthesize(kinds, 300 if args.n is None else args.n, args.out, cfg,
                                 progress=not args.no_progress)
    except RendererUnavailable as exc:
        print(f"verm synth: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"verm synth: {exc}", file=sys.stderr)
        return 2
    from verm.data import export

    fns = {"sft": export.export_sft, "hf": export.export_hf, "rl": export.export_rl_parquet,
           "bench": export.export_bench}
    for kind in args.export:
        try:
            summary[f"export_{kind}"] = str(fns[kind](args.out))
        except RuntimeError as exc:
            print(f"verm synth: {exc}", file=sys.stderr)
            return 2
    print(json.dumps(summary))
    if args.from_jsonl:  # corpus items that could not be used are reported in skip_reasons
        return 0 if summary["written"] or not summary["missing"] else 1
    return 0 if not summary["missing"] else 1
