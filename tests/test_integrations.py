"""verl and TRL adapters: the signatures those frameworks call, end to end on PixelCritic."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from verm.integrations.common import decode_ground_truth
from verm.integrations.trl import VisualReward
from verm.integrations.verl import compute_score, compute_score_batch
from verm.render import render_svg

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120">'
       '<rect width="160" height="120" fill="white"/>'
       '<circle cx="60" cy="60" r="30" fill="#1f77b4"/><rect x="100" y="30" width="40" height="60" '
       'fill="#d62728"/></svg>')
WRONG = SVG.replace("#d62728", "#2ca02c").replace('cx="60"', 'cx="40"')


@pytest.fixture(scope="module")
def gt_png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(render_svg(SVG)).save(buf, "PNG")
    return buf.getvalue()


def test_decode_ground_truth_forms(gt_png: bytes, tmp_path) -> None:
    url = "data:image/png;base64," + base64.b64encode(gt_png).decode()
    assert decode_ground_truth(url) == gt_png
    assert decode_ground_truth({"bytes": gt_png, "path": None}) == gt_png
    assert decode_ground_truth({"bytes": None, "path": "x.png"}) == "x.png"
    with pytest.raises(ValueError):
        decode_ground_truth("data:image/png;base64,@@not-base64@@")
    with pytest.raises(ValueError):
        decode_ground_truth({})


def test_verl_compute_score(gt_png: bytes) -> None:
    good = compute_score("verm/svg", f"Here it is:\n```svg\n{SVG}\n```", gt_png)
    bad = compute_score("verm/svg", f"```svg\n{WRONG}\n```", gt_png)
    none = compute_score("verm/svg", "I cannot draw this.", gt_png)
    assert good["score"] == pytest.approx(2.0) and good["n_errors"] == 0
    assert none["score"] == 0.0 and none["status"] == "no_code"
    assert none["score"] < bad["score"] < good["score"]
    assert bad["n_errors"] >= 1


def test_verl_batch_matches_single(gt_png: bytes) -> None:
    url = "data:image/png;base64," + base64.b64encode(gt_png).decode()
    out = compute_score_batch(["a", "b"], [SVG, WRONG], [url, url],
                              [{"kind": "svg"}, {"kind": "svg"}], preset="reference-table")
    assert out[0]["score"] == 0.0  # reference-table preset: reward = -S
    assert out[1]["score"] < 0


def test_trl_reward_function(gt_png: bytes) -> None:
    fn = VisualReward()
    completions = [[{"role": "assistant", "content": f"```svg\n{SVG}\n```"}],
                   [{"role": "assistant", "content": f"```svg\n{WRONG}\n```"}]]
    rewards = fn(prompts=["p", "p"], completions=completions, gt_image=[gt_png, gt_png],
                 kind=["svg", "svg"])
    assert rewards[0] == pytest.approx(2.0) and rewards[1] < rewards[0]
    assert fn.__name__ == "verm_pixel"
    assert len(fn.last_results) == 2 and fn.last_results[1].errors
    with pytest.raises(KeyError):
        fn(prompts=["p"], completions=["x"])
