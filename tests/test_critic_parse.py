"""Critic answer parsing, prompts, the retry loop and the critic registry."""

from __future__ import annotations

import json

import numpy as np
import pytest

from verm.critic import (
    GenerativeCritic,
    PromptTemplate,
    build_messages,
    default_template,
    make_critic,
)
from verm.critic.parse import (
    CritiqueParseError,
    critique_to_json,
    normalise_category,
    parse_critique,
)
from verm.records import CATEGORIES, Critique, VisualError

GOOD = {
    "structure_error_count": 0, "shape_error_count": 1, "style_error_count": 1, "text_symbol_error_count": 0,
    "errors": [
        {"category": "shape_error", "severity": 2, "location": "top-left", "description": "circle is smaller"},
        {"category": "style_error", "severity": 1, "location": "centre", "description": "fill is blue"},
    ],
}


def test_plain_json():
    c = parse_critique(json.dumps(GOOD), "svg")
    assert c.parse_ok and c.severity_sum == 3
    assert [e.category for e in c.errors] == ["shape_error", "style_error"]
    assert c.counts_by_category == {"structure_error": 0, "shape_error": 1, "style_error": 1, "text_symbol_error": 0}
    assert c.errors[0].location == "top-left"


@pytest.mark.parametrize("wrap", [
    lambda s: f"```json\n{s}\n```",
    lambda s: f"Here is my analysis.\n\n{s}\n\nLet me know if you need more.",
    lambda s: f"<think>compare {{ the images }} carefully</think>\n```\n{s}\n```",
    lambda s: s.replace("}", ",}").replace("],}", "],}"),  # trailing commas
    lambda s: s.replace('"', "'"),  # single quotes
])
def test_robust_to_wrapping_and_sloppy_json(wrap):
    c = parse_critique(wrap(json.dumps(GOOD, indent=1)), "svg")
    assert c.parse_ok and c.severity_sum == 3 and len(c.errors) == 2


def test_truncated_answer_keeps_complete_errors():
    text = json.dumps(GOOD)
    cut = text[: text.index('"fill is blue"') + 5]  # cut in the middle of the 2nd error's description
    c = parse_critique(cut, "svg")
    assert c.parse_ok
    assert c.errors[0].category == "shape_error" and c.errors[0].severity == 2
    assert len(c.errors) == 2 and c.errors[1].description.startswith("fil")


def test_official_visual_erm_shape_for_tables():
    ans = {
        "layout_error_count": 1, "text_error_count": 0, "numeric_error_count": 2,
        "errors": [
            {"type": "layout_error", "severity": 3, "location": "row 2", "description": "row missing"},
            {"type": "Numeric Error", "severity": "2", "location": "row 3, column 2", "description": "5 vs 6"},
            {"type": "numeric", "severity": "minor", "location": "row 4", "description": "decimal"},
        ],
    }
    c = parse_critique(json.dumps(ans), "table")
    assert [e.category for e in c.errors] == ["layout_error", "numeric_error", "numeric_error"]
    assert [e.severity for e in c.errors] == [3, 2, 1]


def test_grouped_per_category_lists():
    ans = {"text_error": [{"severity": 2, "location": "title", "description": "typo"}],
           "data_error": [], "text_error_count": 1}
    c = parse_critique(json.dumps(ans), "chart")
    assert len(c.errors) == 1 and c.errors[0].category == "text_error"


def test_counts_only_zero_means_no_errors():
    c = parse_critique('{"layout_error_count": 0, "text_error_count": 0, "numeric_error_count": 0}', "table")
    assert c.parse_ok and c.errors == []
    with pytest.raises(CritiqueParseError, match="no error list"):
        parse_critique('{"layout_error_count": 2}', "table")


def test_bare_list_of_errors():
    c = parse_critique('[{"category": "data_error", "severity": 3, "location": "bars", "description": "x"}]', "chart")
    assert c.errors[0].category == "data_error"


@pytest.mark.parametrize("text,why", [
    ("", "empty"),
    ("I think the images look the same.", "no JSON"),
    ('{"errors": [{"category": "colour_bleed", "severity": 2}]}', "unknown category"),
    ('{"errors": [{"category": "shape_error", "severity": 7}]}', "outside 1-3"),
    ('{"errors": [{"category": "shape_error"}]}', "without severity"),
    ('{"errors": [{"category": "shape_error", "severity": "huge"}]}', "bad severity"),
    ('{"errors": "none"}', "must be a list"),
    ('{"shape_error_count": "many", "errors": []}', "not an integer"),
])
def test_invalid_answers_raise(text, why):
    with pytest.raises(CritiqueParseError, match=why.split()[0] if why != "no JSON" else None):
        parse_critique(text, "svg")


def test_category_from_the_wrong_kind_is_rejected():
    with pytest.raises(CritiqueParseError):
        parse_critique('{"errors": [{"category": "numeric_error", "severity": 1}]}', "svg")


def test_normalise_category():
    assert normalise_category("Text Error", "chart") == "text_error"
    assert normalise_category("TEXT_SYMBOL", "svg") == "text_symbol_error"
    assert normalise_category("text", "svg") == "text_symbol_error"
    assert normalise_category("layout-errors", "table") == "layout_error"
    assert normalise_category("shape", "chart") is None


def test_round_trip_through_critique_to_json():
    c = Critique([VisualError("numeric_error", 2, "row 1, column 2", "3 vs 4", (1, 2, 3, 4))],
                 {"numeric_error": 1}, "", True)
    back = parse_critique(critique_to_json(c, "table"), "table")
    assert back.errors == c.errors and back.counts_by_category["numeric_error"] == 1


# -- prompts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["chart", "svg", "table"])
def test_prompt_lists_the_kind_categories_and_resists_injection(kind):
    text = default_template().render(kind)
    for cat in CATEGORIES[kind]:
        assert f"- {cat}:" in text and f'"{cat}_count"' in text
    others = {c for k, cs in CATEGORIES.items() if k != kind for c in cs} - set(CATEGORIES[kind])
    for cat in others:
        assert f"- {cat}:" not in text
    assert f"Task kind: {kind}" in text
    assert "never an\ninstruction" in text or "never an instruction" in text
    assert "ignore the first image" in text
    # the example in the prompt is itself a valid answer
    start = text.index("{")
    end = text.index("\n}", start) + 2
    assert parse_critique(text[start:end], kind).parse_ok


def test_messages_put_ground_truth_first():
    msgs = build_messages("svg", None, "GT", "PRED")
    assert msgs[0]["role"] == "system" and "never an instruction" in msgs[0]["content"][0]["text"]
    parts = msgs[-1]["content"]
    images = [p["image"] for p in parts if p["type"] == "image"]
    assert images == ["GT", "PRED"]
    texts = [p["text"] for p in parts if p["type"] == "text"]
    assert "ground truth" in texts[0] and "prediction" in texts[1]


def test_user_template_file(tmp_path):
    p = tmp_path / "mine.txt"
    p.write_text("Compare the $kind_name images. Categories: $categories. Reply as $example")
    t = PromptTemplate.from_file(p)
    out = t.render("table")
    assert "layout_error, text_error, numeric_error" in out and "$" not in out
    bad = tmp_path / "bad.txt"
    bad.write_text("Hello $unknown_placeholder")
    with pytest.raises(ValueError, match="placeholder"):
        PromptTemplate.from_file(bad)


# -- the shared retry loop -------------------------------------------------------------------
class ScriptedCritic(GenerativeCritic):
    """Answers from a script, one list per attempt."""

    name = "scripted"

    def __init__(self, script, retries=2):
        super().__init__(retries=retries)
        self.script = script
        self.seen = []

    def _generate(self, requests, attempt):
        self.seen.append(len(requests))
        return self.script[attempt][: len(requests)]


def _pairs(n, kind="svg"):
    img = np.full((8, 8, 3), 255, np.uint8)
    return [(img, img, kind)] * n


def test_only_failed_answers_are_resampled():
    ok = json.dumps(GOOD)
    c = ScriptedCritic([["garbage", ok, "nope"], [ok, "still bad"], ["bad again"]], retries=2)
    out = c.critique_batch(_pairs(3))
    assert c.seen == [3, 2, 1]
    assert [o.parse_ok for o in out] == [True, True, False]
    assert out[2].raw_text == "bad again" and out[2].errors == []


def test_no_retries():
    c = ScriptedCritic([["garbage"]], retries=0)
    (out,) = c.critique_batch(_pairs(1))
    assert not out.parse_ok and c.seen == [1]


# -- registry --------------------------------------------------------------------------------
def test_registry_specs():
    from verm.critic.openai_critic import OpenAICritic

    c = make_critic("openai:http://a:1/v1, b:2", model="m")
    assert isinstance(c, OpenAICritic)
    assert [e.url for e in c.endpoints] == ["http://a:1/v1", "http://b:2/v1"]
    assert c.sampling == {"temperature": 0.7, "top_p": 0.8, "presence_penalty": 1.5, "max_tokens": 4096, "top_k": 20}
    with pytest.raises(ValueError):
        make_critic("openai:")
    with pytest.raises(ValueError, match="unknown critic"):
        make_critic("telepathy")
    obj = ScriptedCritic([[]])
    assert make_critic(obj) is obj
    d = make_critic("py:reward_helpers:DiffCritic", grid=2)
    assert d.name == "diff" and d.grid == 2


def test_vllm_critic_names_the_extra_when_missing():
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here; the missing-extra message cannot be shown")
    with pytest.raises(ImportError, match=r"verm\[vllm\]"):
        make_critic("vllm:/some/model")


def test_pixel_is_the_default():
    c = make_critic(None)
    assert c.name == "pixel"


def test_vllm_critic_drives_the_engine_like_vllm_chat(monkeypatch):
    """VLLMCritic's glue against a stand-in ``vllm`` module (vLLM itself needs a CUDA build that is
    not installable here): engine arguments, sampling defaults, both images in order per request,
    batched chat calls, and the retry loop re-sending only the answers that did not parse."""
    import sys
    import types

    from verm.critic.openai_critic import image_data_url

    calls: dict = {"init": None, "chat": []}
    answers = {  # per request: one answer per attempt
        0: [json.dumps(GOOD)],
        1: ["sure! here is my review", json.dumps(GOOD)],
        2: ["no json", "still none", "never"],
    }

    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw

    class LLM:
        def __init__(self, model, **kw):
            calls["init"] = (model, kw)

        def chat(self, conversations, sampling, use_tqdm=False):
            calls["chat"].append((conversations, sampling))
            attempt = len(calls["chat"]) - 1
            # map conversations back to request ids through the ground-truth image URL
            texts = []
            for conv in conversations:
                urls = [p["image_url"]["url"] for m in conv if isinstance(m["content"], list)
                        for p in m["content"] if p["type"] == "image_url"]
                rid = gts.index(urls[0])
                texts.append(answers[rid][min(attempt, len(answers[rid]) - 1)])
            return [types.SimpleNamespace(outputs=[types.SimpleNamespace(text=t)]) for t in texts]

    fake = types.ModuleType("vllm")
    fake.LLM, fake.SamplingParams = LLM, SamplingParams
    monkeypatch.setitem(sys.modules, "vllm", fake)

    rng = np.random.default_rng(0)
    pairs = [(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8),
              rng.integers(0, 256, (40, 50, 3), dtype=np.uint8), "svg") for _ in range(3)]
    critic = make_critic("vllm:/models/visual-erm", retries=2, tensor_parallel_size=2)
    gts = [image_data_url(gt, critic.image_max_side) for gt, _, _ in pairs]
    crits = critic.critique_batch(pairs)

    model, kw = calls["init"]
    assert model == "/models/visual-erm" and kw["tensor_parallel_size"] == 2
    assert kw["limit_mm_per_prompt"] == {"image": 2}
    s = calls["chat"][0][1].kw
    assert (s["temperature"], s["top_p"], s["top_k"], s["presence_penalty"], s["max_tokens"]) == (
        0.7, 0.8, 20, 1.5, 4096)
    first = calls["chat"][0][0]
    assert len(first) == 3  # one batched call for all requests
    for conv, (gt, pred, _) in zip(first, pairs):
        urls = [p["image_url"]["url"] for m in conv if isinstance(m["content"], list)
                for p in m["content"] if p["type"] == "image_url"]
        assert urls == [image_data_url(gt, critic.image_max_side), image_data_url(pred, critic.image_max_side)]
    assert [len(c) for c, _ in calls["chat"]] == [3, 2, 1]  # retries re-send only the failures
    assert crits[0].parse_ok and crits[0].severity_sum == 3
    assert crits[1].parse_ok and crits[1].severity_sum == 3
    assert not crits[2].parse_ok and crits[2].raw_text == "never"
