"""`verm bench run|report|convert`: evaluate a critic on a reward benchmark."""

from __future__ import annotations

import argparse
import json


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="bench_command", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="critique every item (resumable) and compute metrics")
    run.add_argument("--data", required=True, help="benchmark JSONL (see docs/bench.md)")
    run.add_argument("--critic", default="pixel",
                     help="pixel | openai:URL[,URL...] | hf:PATH | vllm:PATH (default pixel)")
    run.add_argument("--model", default=None, help="model name for openai critics")
    run.add_argument("-o", "--out", required=True, help="results folder")
    run.add_argument("--batch-size", type=int, default=16)
    run.add_argument("--matcher", default="deterministic",
                     help="deterministic | llm:BASE_URL,MODEL (OpenAI-compatible)")
    rep = sub.add_parser("report", help="print the metrics of a results folder")
    rep.add_argument("results")
    rep.add_argument("--json", action="store_true", help="print metrics.json instead of a table")
    conv = sub.add_parser("convert", help="convert VC-RewardBench annotations to verm's JSONL")
    conv.add_argument("src")
    conv.add_argument("dst")


def make_matcher(spec: str):
    from verm.bench.match import DeterministicMatcher, LLMMatcher

    if spec == "deterministic":
        return DeterministicMatcher()
    if spec.startswith("llm:") and "," in spec:
        url, model = spec[4:].rsplit(",", 1)
        return LLMMatcher(base_url=url, model=model)
    raise SystemExit(f"verm bench: unknown matcher {spec!r}")


def run(args: argparse.Namespace) -> int:
    from verm.bench.runner import format_metrics, load_results, run_bench

    if args.bench_command == "convert":
        from verm.bench.format import convert_vc_rewardbench

        print(f"wrote {convert_vc_rewardbench(args.src, args.dst)} items to {args.dst}")
        return 0
    if args.bench_command == "report":
        _, _, metrics = load_results(args.results)
        print(json.dumps(metrics, indent=2) if args.json else format_metrics(metrics))
        return 0
    from verm.critic.registry import make_critic

    kwargs = {"model": args.model} if args.model else {}
    critic = make_critic(args.critic, **kwargs)
    metrics = run_bench(args.data, critic, args.out, batch_size=args.batch_size,
                        matcher=make_matcher(args.matcher))
    print(format_metrics(metrics.to_dict()))
    return 0
