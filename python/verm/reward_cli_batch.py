"""``verm reward-batch IN.jsonl -o OUT.jsonl``: score many responses, resumably.

Each input line is a JSON object: ``gt`` (image path, relative to the input file's folder),
``response`` (text) or ``response_file`` (path), optional ``kind`` (default ``--kind``) and ``id``
(default: the line number). Each result is appended to OUT as soon as it is ready, as
``{"id": ..., **RewardResult}``; a rerun skips the ids already in OUT. Items whose critic could
not be reached are not written, so a rerun retries them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from verm.critic.registry import add_critic_arguments, critic_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``verm reward-batch`` options."""
    parser.add_argument("input", help="input JSONL")
    parser.add_argument("-o", "--output", required=True, help="output JSONL (appended to; resumes)")
    parser.add_argument("--kind", default="auto", choices=["auto", "chart", "table", "svg"])
    parser.add_argument("--preset", default="visual-erm", help="reward preset: visual-erm | reference-table")
    parser.add_argument("--batch-size", type=int, default=16, help="pairs per critic call (default 16)")
    parser.add_argument("--window", type=int, default=256, help="input rows held in memory at once")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_critic_arguments(parser)


def _done_ids(path: Path) -> set[str]:
    """Ids already in OUT; a torn last line (from a killed run) is cut off."""
    done: set[str] = set()
    if not path.exists():
        return done
    data = path.read_bytes()
    good_end = 0
    pos = 0
    for line in data.split(b"\n"):
        end = pos + len(line) + 1
        if line.strip():
            try:
                row = json.loads(line)
                done.add(str(row["id"]))
                good_end = min(end, len(data))
            except (ValueError, KeyError, TypeError):
                break
        pos = end
    if good_end < len(data):
        with open(path, "r+b") as f:
            f.truncate(good_end)
    if good_end and not data[:good_end].endswith(b"\n"):
        with open(path, "ab") as f:
            f.write(b"\n")
    return done


def _rows(path: Path, default_kind: str):
    base = path.parent
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("line is not a JSON object")
            except ValueError as exc:
                yield str(n), None, f"line {n}: {exc}"
                continue
            rid = str(row.get("id", n))
            try:
                if "response" in row:
                    text = row["response"]
                else:
                    text = (base / row["response_file"]).read_text(encoding="utf-8")
                gt = row.get("gt", row.get("gt_image"))
                if not isinstance(gt, str):
                    raise ValueError("'gt' (image path) is required")
                item = {"response": text, "gt": str(base / gt), "kind": row.get("kind", default_kind)}
            except (OSError, KeyError, ValueError) as exc:
                yield rid, None, f"line {n}: {exc}"
                continue
            yield rid, item, ""


def run(args: argparse.Namespace) -> int:
    """Score the input file; returns 1 when some items must be retried by a rerun."""
    from verm.critic.base import load_image
    from verm.records import RewardResult
    from verm.reward import RewardConfig, score_iter

    inp, out = Path(args.input), Path(args.output)
    try:
        config = RewardConfig.preset(args.preset)
        critic = critic_from_args(args)
    except (ValueError, RuntimeError, ImportError) as exc:
        print(f"verm reward-batch: {exc}", file=sys.stderr)
        return 2
    if not inp.exists():
        print(f"verm reward-batch: {inp} does not exist", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _done_ids(out)
    rows = [r for r in _rows(inp, args.kind) if r[0] not in done]
    bar = None
    if not args.no_progress:
        try:
            from tqdm import tqdm

            bar = tqdm(total=len(rows) + len(done), initial=len(done), unit="item", desc="reward")
        except ImportError:
            bar = None
    failed = 0
    written = 0
    with open(out, "a", encoding="utf-8") as fh:
        def write(rid: str, res: RewardResult) -> None:
            nonlocal written
            fh.write(json.dumps({"id": rid, **res.to_dict()}) + "\n")
            fh.flush()
            os.fsync(fh.fileno()) if written % 64 == 0 else None
            written += 1

        for start in range(0, len(rows), max(1, args.window)):
            window = rows[start : start + args.window]
            ids, responses, gts, kinds = [], [], [], []
            for rid, item, err in window:
                if item is None:
                    write(rid, RewardResult(reward=config.min_reward, status="bad_request", message=err))
                    if bar is not None:
                        bar.update(1)
                    continue
                try:
                    gt: Any = load_image(item["gt"])
                except (OSError, ValueError) as exc:
                    write(rid, RewardResult(reward=config.min_reward, status="bad_request",
                                            message=f"ground-truth image: {exc}"))
                    if bar is not None:
                        bar.update(1)
                    continue
                ids.append(rid)
                responses.append(item["response"])
                gts.append(gt)
                kinds.append(item["kind"])
            for i, res in score_iter(responses, gts, kinds, critic, config, batch_size=args.batch_size):
                if bar is not None:
                    bar.update(1)
                if res.status == "critic_failed":
                    failed += 1
                    print(f"verm reward-batch: {ids[i]}: {res.message}", file=sys.stderr)
                    continue
                write(ids[i], res)
    if bar is not None:
        bar.close()
    print(f"verm reward-batch: wrote {written} results to {out} ({len(done)} already there)", file=sys.stderr)
    if failed:
        print(f"verm reward-batch: {failed} items failed in the critic; rerun to retry them", file=sys.stderr)
        return 1
    return 0
