"""verm serve: routes and limits in process; OpenAICritic failover and a load test over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import statistics
import threading
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the serve extra is not installed")
pytest.importorskip("uvicorn", reason="the serve extra is not installed")
httpx = pytest.importorskip("httpx", reason="the critic extra is not installed")

from PIL import Image  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from reward_helpers import DiffCritic, injection_image, start_server, stop_server  # noqa: E402
from verm.critic.openai_critic import OpenAICritic, image_data_url, to_openai_messages  # noqa: E402
from verm.critic.parse import parse_critique  # noqa: E402
from verm.critic.prompts import build_messages  # noqa: E402
from verm.serve.app import ServerConfig, create_app  # noqa: E402

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="128" height="96">'
       '<rect x="10" y="10" width="50" height="40" fill="#2b5fad"/>'
       '<circle cx="92" cy="58" r="24" fill="#f2a93b"/></svg>')


def _img(seed: int, h: int = 48, w: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 255, np.uint8)
    for _ in range(3):
        y, x = rng.integers(0, h - 12), rng.integers(0, w - 12)
        img[y : y + 12, x : x + 12] = rng.integers(0, 256, 3)
    return img


def _png_url(img: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _chat_body(gt, pred, kind="svg", **extra):
    msgs = to_openai_messages(build_messages(kind, None, _png_url(gt), _png_url(pred)))
    return {"model": "m", "messages": msgs, **extra}


@pytest.fixture()
def client():
    app = create_app(DiffCritic(), ServerConfig(max_image_bytes=200_000, max_body_bytes=2_000_000))
    with TestClient(app) as c:
        yield c


# -- routes, in process --------------------------------------------------------------------------
def test_health_models_metrics(client):
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/v1/models").json()["data"][0]["id"] == "verm-diff"
    client.post("/v1/chat/completions", json=_chat_body(_img(1), _img(2)))
    text = client.get("/metrics").text
    assert 'verm_requests_total{endpoint="chat",status="200"} 1.0' in text
    assert "verm_critic_batch_size_bucket" in text and "verm_request_seconds_bucket" in text


def test_chat_completion_returns_a_parseable_critique(client):
    gt, pred = _img(1), _img(2)
    r = client.post("/v1/chat/completions", json=_chat_body(gt, pred, "table"))
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["role"] == "assistant"
    crit = parse_critique(body["choices"][0]["message"]["content"], "table")
    expected = DiffCritic().critique_batch([(gt, pred, "table")])[0]
    assert crit.errors == expected.errors and crit.errors  # kind read from the prompt
    # identical images -> no errors
    r = client.post("/v1/chat/completions", json=_chat_body(gt, gt))
    assert parse_critique(r.json()["choices"][0]["message"]["content"], "svg").errors == []


@pytest.mark.parametrize("body,status,msg", [
    ({"messages": []}, 400, "non-empty"),
    ({"model": "m"}, 400, "messages"),
    ([1, 2], 400, "JSON object"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "Task kind: svg"}]}]}, 400, "exactly 2 images"),
    ({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "http://example.invalid/a.png"}},
        {"type": "image_url", "image_url": {"url": "http://example.invalid/b.png"}},
        {"type": "text", "text": "Task kind: svg"}]}]}, 400, "data: URLs"),
    ({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "text", "text": "Task kind: svg"}]}]}, 400, "could not be decoded"),
    ({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}, 400, "unsupported content part"),
    ({"messages": [{"role": "user", "content": "hi"}], "stream": True}, 400, "streaming"),
])
def test_bad_requests_get_4xx_with_a_message(client, body, status, msg):
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == status
    assert msg in r.json()["error"]["message"]


def test_bad_json_and_unknown_kind(client):
    r = client.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
    body = _chat_body(_img(1), _img(2))
    for m in body["messages"]:
        if isinstance(m["content"], list):
            m["content"] = [p for p in m["content"] if p["type"] == "image_url"]
    body["messages"] = [m for m in body["messages"] if m["role"] == "user"]
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 400 and "kind" in r.json()["error"]["message"]
    body["verm_kind"] = "chart"
    assert client.post("/v1/chat/completions", json=body).status_code == 200
    assert client.get("/nope").status_code == 404
    assert client.get("/v1/chat/completions").status_code == 405


def test_images_over_the_limit_get_413(client):
    big = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)  # ~480 kB PNG
    r = client.post("/v1/chat/completions", json=_chat_body(big, _img(1)))
    assert r.status_code == 413 and "limit" in r.json()["error"]["message"]
    huge_body = b'{"messages": "' + b"x" * 2_100_000 + b'"}'
    r = client.post("/v1/chat/completions", content=huge_body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    text = client.get("/metrics").text
    assert 'status="413"' in text


def test_reward_endpoint(client):
    from verm.render import render_svgs

    gt = render_svgs([SVG])[0].image
    ok = client.post("/v1/reward", json={"gt_image": _png_url(gt), "response": f"```svg\n{SVG}\n```"})
    assert ok.status_code == 200
    res = ok.json()
    assert res["status"] == "ok" and res["reward"] == 2.0 and res["critic"] == "diff"
    bad = client.post("/v1/reward", json={"gt_image": _png_url(gt), "response": "no code here", "kind": "svg"})
    assert bad.json()["status"] == "no_code" and bad.json()["reward"] == 0.0
    neg = client.post("/v1/reward", json={"gt_image": _png_url(gt), "response": f"```svg\n{SVG}\n```",
                                           "preset": "reference-table"})
    assert neg.json()["reward"] == 0.0
    assert client.post("/v1/reward", json={"gt_image": _png_url(gt)}).status_code == 400
    assert client.post("/v1/reward", json={"response": "x"}).status_code == 400
    r = client.post("/v1/reward", json={"gt_image": _png_url(gt), "response": "x", "preset": "nope"})
    assert r.status_code == 400 and "unknown reward preset" in r.json()["error"]["message"]


# -- over real HTTP ------------------------------------------------------------------------------
def _jpeg_roundtrip(img: np.ndarray) -> np.ndarray:
    url = image_data_url(img)
    raw = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def test_openai_critic_survives_an_endpoint_killed_mid_run():
    env = {"VERM_TEST_CRITIC_DELAY": "0.03"}
    a, url_a = start_server(env=env)
    b, url_b = start_server(env=env)
    port_b = url_b.rsplit(":", 1)[1]
    try:
        critic = OpenAICritic([url_a, url_b + "/v1"], model="verm-diff", max_concurrency=8,
                              cooldown=0.1, max_cooldown=0.5, max_attempts=8, retries=0)
        pairs = [(_img(i), _img(1000 + i), "svg") for i in range(60)]
        killed = {}

        def killer():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if critic.endpoint_stats()[1]["ok"] >= 5:
                    b.kill()
                    killed["at_ok"] = critic.endpoint_stats()[1]["ok"]
                    return
                time.sleep(0.005)

        t = threading.Thread(target=killer)
        t.start()
        out = critic.critique_batch(pairs)
        t.join()
        assert "at_ok" in killed, "endpoint B was never killed"
        stats = critic.endpoint_stats()
        # no request lost: every pair has the critique the test critic gives for it
        expected = DiffCritic().critique_batch([(_jpeg_roundtrip(g), _jpeg_roundtrip(p), k) for g, p, k in pairs])
        assert all(c.parse_ok for c in out)
        assert [c.errors for c in out] == [e.errors for e in expected]
        assert stats[1]["failed"] >= 1 and stats[0]["ok"] + stats[1]["ok"] == 60
        assert stats[0]["ok"] > 30  # A took over
        # B comes back on the same port and is taken into the rotation again
        b2, _ = start_server(port=int(port_b), env=env)
        try:
            time.sleep(0.6)  # longer than max_cooldown
            ok_before = critic.endpoint_stats()[1]["ok"]
            out2 = critic.critique_batch(pairs[:20])
            assert all(c.parse_ok for c in out2)
            assert critic.endpoint_stats()[1]["ok"] > ok_before
        finally:
            stop_server(b2)
    finally:
        stop_server(a)
        stop_server(b)


def test_prompt_injection_through_openai_critic_and_server():
    """The default server critic (pixel) behind OpenAICritic reports the injected text as an error."""
    from verm.render import render_svgs

    proc, url = start_server(critic="pixel")
    try:
        gt = render_svgs([SVG])[0].image
        critic = OpenAICritic([url], retries=0)
        out = critic.critique_batch([
            (gt, injection_image(base=gt), "svg"),
            (gt, injection_image(size=(gt.shape[1], gt.shape[0])), "chart"),
            (gt, gt, "svg"),
        ])
        assert critic.model == "verm-pixel"  # discovered from /v1/models
        assert out[0].parse_ok and out[0].errors
        assert out[1].parse_ok and out[1].errors
        assert out[2].parse_ok and out[2].errors == []
    finally:
        stop_server(proc)


def test_load_200_concurrent_requests_zero_failures():
    proc, url = start_server(critic="pixel", extra=["--max-batch", "32"])
    gt = _img(7, 96, 128)
    bodies = [json.dumps(_chat_body(gt, _img(i, 96, 128), "svg")).encode() for i in range(200)]

    async def fire():
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(limits=limits, timeout=120.0) as cl:
            async def one(body):
                t0 = time.perf_counter()
                r = await cl.post(url + "/v1/chat/completions", content=body,
                                  headers={"content-type": "application/json"})
                return r.status_code, time.perf_counter() - t0, r.text

            t0 = time.perf_counter()
            res = await asyncio.gather(*(one(b) for b in bodies), return_exceptions=True)
            return res, time.perf_counter() - t0

    try:
        results, wall = asyncio.run(fire())
        failures = [r for r in results if isinstance(r, BaseException) or r[0] != 200]
        assert failures == [], failures[:3]
        for _status, _, text in results:
            parse_critique(json.loads(text)["choices"][0]["message"]["content"], "svg")
        lat = sorted(r[1] for r in results)
        metrics = httpx.get(url + "/metrics").text
        print(f"\nload test: 200 concurrent chat completions, 0 failures, wall {wall:.2f} s, "
              f"{200 / wall:.0f} req/s, latency p50 {statistics.median(lat) * 1000:.0f} ms, "
              f"p99 {lat[int(0.99 * len(lat)) - 1] * 1000:.0f} ms")
        assert 'verm_requests_total{endpoint="chat",status="200"} 200.0' in metrics

        # 200 concurrent /v1/reward requests (extract + render + critique each)
        from verm.render import render_svgs

        gt_url = _png_url(render_svgs([SVG])[0].image)
        colours = ["#f2a93b", "#d9534f", "#5cb85c", "#000000"]
        rbodies = [json.dumps({"gt_image": gt_url, "kind": "svg", "response": "```svg\n"
                               + SVG.replace("#f2a93b", colours[i % 4]).replace("128", str(128 + i % 7))
                               + "\n```"}).encode() for i in range(200)]

        async def fire_rewards():
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
            async with httpx.AsyncClient(limits=limits, timeout=120.0) as cl:
                t0 = time.perf_counter()
                res = await asyncio.gather(*(cl.post(url + "/v1/reward", content=b,
                                                     headers={"content-type": "application/json"})
                                             for b in rbodies), return_exceptions=True)
                return res, time.perf_counter() - t0

        rres, rwall = asyncio.run(fire_rewards())
        bad = [r for r in rres if isinstance(r, BaseException) or r.status_code != 200]
        assert bad == [], bad[:3]
        statuses = {r.json()["status"] for r in rres}
        assert statuses == {"ok"}, statuses
        print(f"load test: 200 concurrent /v1/reward, 0 failures, wall {rwall:.2f} s, {200 / rwall:.0f} req/s")
    finally:
        stop_server(proc)


def test_openai_critic_4xx_is_not_retried_and_send_kind(tmp_path):
    from verm.critic.base import CriticUnavailable
    from verm.critic.prompts import PromptTemplate

    proc, url = start_server()
    try:
        tmpl = tmp_path / "t.txt"
        tmpl.write_text("Compare the two pictures and answer in JSON.")  # names no kind
        critic = OpenAICritic([url], model="m", template=PromptTemplate.from_file(tmpl), retries=0)
        t0 = time.perf_counter()
        with pytest.raises(CriticUnavailable, match="HTTP 400"):
            critic.critique_batch([(_img(1), _img(2), "svg")])
        assert time.perf_counter() - t0 < 5 and critic.endpoint_stats()[0]["failed"] == 0
        critic.send_kind = True  # the verm_kind field tells the server the kind
        (out,) = critic.critique_batch([(_img(1), _img(2), "table")])
        assert out.parse_ok and out.errors and all(e.category == "layout_error" for e in out.errors)
    finally:
        stop_server(proc)


def test_serve_cli_rejects_a_bad_critic():
    import subprocess
    import sys

    from reward_helpers import ROOT

    p = subprocess.run([sys.executable, "-m", "verm", "serve", "--critic", "telepathy"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 2 and "unknown critic" in p.stderr
