"""Reward pipeline throughput: verm's score_batch vs a one-item-at-a-time loop, same run.

Run: python -m pytest bench/bench_reward.py -s  (prints items/s of both and the ratio)
Workload: 96 SVG responses (distinct recolourings of one drawing, so the critique cache does not
help) scored on PixelCritic. Anchor: for each item, extract -> render_svgs([code]) -> critique,
sequentially (what a naive reward function does). verm: score_batch (batched native renders on a
background thread overlapping the critique, batch_size 16, cache off).
"""

from __future__ import annotations

import time

import pytest

from verm.critic.pixel import PixelCritic
from verm.extract import extract
from verm.render import render_svgs
from verm.reward import score_batch

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="256" height="192">'
       '<rect x="20" y="20" width="100" height="80" fill="#{c}"/>'
       '<circle cx="180" cy="110" r="48" fill="#f2a93b"/>'
       '<path d="M30 170 L130 170 L80 120 Z" fill="#3a9d5d"/>'
       '<text x="140" y="40" font-size="16" font-family="sans-serif">Label</text></svg>')


@pytest.fixture(scope="module")
def work():
    responses = [f"```svg\n{SVG.format(c=f'{i * 2:02x}5fad')}\n```" for i in range(96)]
    gt = render_svgs([SVG.format(c="2b5fad")])[0].image
    return responses, gt


def _anchor(responses, gt, critic):
    out = []
    for r in responses:
        code = extract(r, "svg").code
        img = render_svgs([code], threads=1)[0].image
        out.append(critic.critique_batch([(gt, img, "svg")])[0].severity_sum)
    return out


def test_score_batch_vs_sequential(benchmark, work):
    responses, gt = work
    critic = PixelCritic()
    score_batch(responses[:4], [gt] * 4, "svg", critic, cache=False)  # warm fonts / imports
    t0 = time.perf_counter()
    anchor = _anchor(responses, gt, critic)
    t_anchor = time.perf_counter() - t0

    def run():
        return score_batch(responses, [gt] * len(responses), "svg", critic, batch_size=16, cache=False)

    res = benchmark.pedantic(run, rounds=3, iterations=1)
    t_verm = benchmark.stats.stats.min
    assert [r.severity_sum for r in res] == [float(s) for s in anchor]
    n = len(responses)
    print(f"\nreward pipeline, {n} SVG items on PixelCritic: verm {n / t_verm:.0f} items/s, "
          f"sequential anchor {n / t_anchor:.0f} items/s, ratio {t_anchor / t_verm:.2f}x")
