"""ASGI app (Starlette): an OpenAI-compatible critic endpoint, a reward endpoint, health, metrics.

Routes:

``POST /v1/chat/completions``
    OpenAI chat-completions request whose user message holds two ``image_url`` parts (data URLs)
    in the order [ground truth, prediction]. The kind comes from a ``verm_kind`` field, else from
    the prompt (``Task kind: svg`` or the category names it lists). The answer's content is the
    critique as JSON in verm's shape, so :class:`~verm.critic.openai_critic.OpenAICritic` can use
    this server like a ``vllm serve`` endpoint.
``POST /v1/reward``
    ``{"gt_image": data URL or base64, "response": str, "kind": "auto", "preset": name}`` ->
    :class:`~verm.records.RewardResult` as JSON.
``GET /v1/models``, ``GET /health``, ``GET /metrics`` (Prometheus text format).

Critic calls from concurrent requests are gathered into batches (``max_batch`` pairs, waiting at
most ``max_wait_ms``) and run on worker threads. Bad requests get 4xx with a message; a body or
image over the limits gets 413.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from verm.critic.base import CriticUnavailable
from verm.records import CATEGORIES, KINDS, Critique

__all__ = ["ServerConfig", "create_app"]


@dataclass
class ServerConfig:
    """Limits and batching of the server."""

    model_name: str | None = None
    max_batch: int = 16
    max_wait_ms: float = 5.0
    critic_workers: int = 1
    max_body_bytes: int = 64 * 1024 * 1024
    max_image_bytes: int = 16 * 1024 * 1024
    max_image_pixels: int = 32 * 1024 * 1024
    reward_threads: int = 32
    preset: str = "visual-erm"


class HTTPError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


class _Batcher:
    """Collects (gt, pred, kind) from concurrent requests into critic batches."""

    def __init__(self, critic, max_batch: int, max_wait_s: float, workers: int, metrics) -> None:
        self.critic = critic
        self.max_batch = max(1, max_batch)
        self.max_wait_s = max(0.0, max_wait_s)
        self.workers = max(1, workers)
        self.metrics = metrics
        self.queue: asyncio.Queue | None = None
        self.tasks: list[asyncio.Task] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="verm-critic")

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue()
        self.tasks = [asyncio.create_task(self._run()) for _ in range(self.workers)]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def submit(self, pairs: list[tuple[Any, Any, str]]) -> list[Critique]:
        assert self.queue is not None and self.loop is not None
        futs = []
        for pair in pairs:
            fut = self.loop.create_future()
            await self.queue.put((pair, fut))
            futs.append(fut)
        return list(await asyncio.gather(*futs))

    async def _run(self) -> None:
        assert self.queue is not None and self.loop is not None
        while True:
            batch = [await self.queue.get()]
            deadline = self.loop.time() + self.max_wait_s
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                left = deadline - self.loop.time()
                if left <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self.queue.get(), left))
                except asyncio.TimeoutError:
                    break
            batch = [(p, f) for p, f in batch if not f.done()]
            if not batch:
                continue
            self.metrics["batch"].observe(len(batch))
            try:
                out = await self.loop.run_in_executor(
                    self.pool, self.critic.critique_batch, [p for p, _ in batch])
                if len(out) != len(batch):
                    raise RuntimeError("critic returned a wrong number of critiques")
            except Exception as exc:
                for _, f in batch:
                    if not f.done():
                        f.set_exception(exc)
            else:
                for (_, f), c in zip(batch, out):
                    if not f.done():
                        f.set_result(c)


class _BatchingCritic:
    """A synchronous critic (for :func:`verm.reward.score`, run on a thread) backed by the batcher."""

    def __init__(self, batcher: _Batcher, critic) -> None:
        self.batcher = batcher
        self.name = str(getattr(critic, "name", "critic"))
        self.cache_key = getattr(critic, "cache_key", None) or f"serve:{type(critic).__qualname__}:{self.name}"

    def critique_batch(self, pairs):
        assert self.batcher.loop is not None
        fut = asyncio.run_coroutine_threadsafe(self.batcher.submit(list(pairs)), self.batcher.loop)
        return fut.result()


_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+/-]*)(?P<params>(?:;[\w=.+-]+)*?)(?P<b64>;base64)?,(?P<data>.*)$", re.S)
_KIND_LINE = re.compile(r"task kind:\s*(chart|table|svg)\b", re.I)


def _decode_image(url: Any, cfg: ServerConfig) -> np.ndarray:
    from PIL import Image

    if not isinstance(url, str) or not url:
        raise HTTPError(400, "image_url.url must be a non-empty string")
    m = _DATA_URL.match(url)
    if m:
        if not m.group("b64"):
            raise HTTPError(400, "image data URLs must be base64-encoded")
        payload = m.group("data")
    elif url.startswith(("http://", "https://", "file:")):
        raise HTTPError(400, "only data: URLs are accepted for images (the server fetches nothing)")
    else:
        payload = url  # bare base64
    if len(payload) * 3 // 4 > cfg.max_image_bytes:
        raise HTTPError(413, f"image larger than the limit of {cfg.max_image_bytes} bytes", "payload_too_large")
    try:
        raw = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise HTTPError(400, f"image is not valid base64: {exc}") from exc
    if len(raw) > cfg.max_image_bytes:
        raise HTTPError(413, f"image larger than the limit of {cfg.max_image_bytes} bytes", "payload_too_large")
    try:
        with Image.open(io.BytesIO(raw)) as im:
            if im.width * im.height > cfg.max_image_pixels:
                raise HTTPError(413, f"image has {im.width}x{im.height} pixels, over the limit of "
                                f"{cfg.max_image_pixels}", "payload_too_large")
            im.load()
            rgba = im.convert("RGBA")
    except HTTPError:
        raise
    except Exception as exc:
        raise HTTPError(400, f"image could not be decoded: {type(exc).__name__}: {exc}") from exc
    return np.asarray(rgba)


def _kind_from_text(text: str) -> str | None:
    m = _KIND_LINE.search(text)
    if m:
        return m.group(1).lower()
    hits = [k for k in KINDS if all(c in text for c in CATEGORIES[k])]
    if len(hits) == 1:
        return hits[0]
    if "text_symbol_error" in text:
        return "svg"
    if "numeric_error" in text or "layout_error" in text:
        return "table"
    if "data_error" in text:
        return "chart"
    return None


def _parse_chat(body: Any) -> tuple[list[str], str, str]:
    """(image URLs, all text, kind hint) of a chat-completions body."""
    if not isinstance(body, dict):
        raise HTTPError(400, "the body must be a JSON object")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise HTTPError(400, "'messages' must be a non-empty list")
    urls: list[str] = []
    texts: list[str] = []
    for msg in msgs:
        if not isinstance(msg, dict) or "content" not in msg:
            raise HTTPError(400, "each message must be an object with 'role' and 'content'")
        content = msg["content"]
        if isinstance(content, str):
            texts.append(content)
            continue
        if not isinstance(content, list):
            raise HTTPError(400, "message content must be a string or a list of parts")
        for part in content:
            if not isinstance(part, dict):
                raise HTTPError(400, "content parts must be objects")
            t = part.get("type")
            if t == "text":
                texts.append(str(part.get("text", "")))
            elif t == "image_url":
                iu = part.get("image_url")
                urls.append(iu.get("url") if isinstance(iu, dict) else iu)
            else:
                raise HTTPError(400, f"unsupported content part type {t!r}")
    kind = body.get("verm_kind")
    return urls, "\n".join(texts), kind


def _metrics():
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    reg = CollectorRegistry()
    return {
        "registry": reg,
        "requests": Counter("verm_requests", "HTTP requests", ["endpoint", "status"], registry=reg),
        "latency": Histogram("verm_request_seconds", "request latency", ["endpoint"], registry=reg,
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)),
        "in_flight": Gauge("verm_requests_in_flight", "requests being served", registry=reg),
        "batch": Histogram("verm_critic_batch_size", "pairs per critic call", registry=reg,
                           buckets=(1, 2, 4, 8, 16, 32, 64, 128)),
        "errors": Counter("verm_critique_errors", "critiques reported", ["category"], registry=reg),
    }


def create_app(critic, config: ServerConfig | None = None):
    """Build the Starlette app around a critic object (see :func:`verm.critic.make_critic`)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from verm.critic.parse import critique_to_json

    cfg = config or ServerConfig()
    metrics = _metrics()
    batcher = _Batcher(critic, cfg.max_batch, cfg.max_wait_ms / 1000.0, cfg.critic_workers, metrics)
    sync_critic = _BatchingCritic(batcher, critic)
    critic_name = str(getattr(critic, "name", "critic"))
    model_name = cfg.model_name or f"verm-{critic_name}"
    reward_pool = ThreadPoolExecutor(max_workers=max(1, cfg.reward_threads), thread_name_prefix="verm-reward")

    def error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)

    async def read_json(request: Request) -> Any:
        length = request.headers.get("content-length")
        if length is not None:
            try:
                if int(length) > cfg.max_body_bytes:
                    raise HTTPError(413, f"body larger than the limit of {cfg.max_body_bytes} bytes",
                                    "payload_too_large")
            except ValueError as exc:
                raise HTTPError(400, "bad Content-Length") from exc
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > cfg.max_body_bytes:
                raise HTTPError(413, f"body larger than the limit of {cfg.max_body_bytes} bytes",
                                "payload_too_large")
            chunks.append(chunk)
        try:
            return json.loads(b"".join(chunks))
        except ValueError as exc:
            raise HTTPError(400, f"the body is not valid JSON: {exc}") from exc

    def instrumented(endpoint: str):
        def wrap(fn):
            async def handler(request: Request):
                t0 = time.perf_counter()
                metrics["in_flight"].inc()
                try:
                    resp = await fn(request)
                except HTTPError as exc:
                    resp = error(exc.status, exc.message, exc.kind)
                except CriticUnavailable as exc:  # the server's own back end is down: retryable
                    resp = error(503, f"critic unavailable: {exc}", "service_unavailable")
                except Exception as exc:  # never crash the server; report 500 with the cause
                    resp = error(500, f"{type(exc).__name__}: {exc}", "server_error")
                finally:
                    metrics["in_flight"].dec()
                metrics["requests"].labels(endpoint, str(resp.status_code)).inc()
                metrics["latency"].labels(endpoint).observe(time.perf_counter() - t0)
                return resp
            return handler
        return wrap

    @instrumented("chat")
    async def chat(request: Request):
        body = await read_json(request)
        if isinstance(body, dict) and body.get("stream"):
            raise HTTPError(400, "streaming is not supported; send \"stream\": false")
        urls, text, kind = _parse_chat(body)
        if len(urls) != 2:
            raise HTTPError(400, f"expected exactly 2 images [ground truth, prediction], got {len(urls)}")
        kind = kind or _kind_from_text(text)
        if kind not in KINDS:
            raise HTTPError(400, "could not tell the kind (chart, table or svg): send 'verm_kind' or a "
                            "prompt with a 'Task kind: ...' line")
        loop = asyncio.get_running_loop()
        gt, pred = await asyncio.gather(
            loop.run_in_executor(reward_pool, _decode_image, urls[0], cfg),
            loop.run_in_executor(reward_pool, _decode_image, urls[1], cfg),
        )
        (crit,) = await batcher.submit([(gt, pred, kind)])
        for e in crit.errors:
            metrics["errors"].labels(e.category).inc()
        content = critique_to_json(crit, kind) if crit.parse_ok else crit.raw_text
        return JSONResponse({
            "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model") or model_name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        })

    @instrumented("reward")
    async def reward(request: Request):
        from verm.reward import RewardConfig, score

        body = await read_json(request)
        if not isinstance(body, dict):
            raise HTTPError(400, "the body must be a JSON object")
        response = body.get("response")
        if not isinstance(response, str):
            raise HTTPError(400, "'response' (the policy's text) is required and must be a string")
        kind = body.get("kind", "auto")
        if kind not in (*KINDS, "auto"):
            raise HTTPError(400, f"unknown kind {kind!r}")
        preset = body.get("preset", cfg.preset)
        try:
            rc = RewardConfig.preset(preset)
        except ValueError as exc:
            raise HTTPError(400, str(exc)) from exc
        if "gt_image" not in body:
            raise HTTPError(400, "'gt_image' (data URL or base64 image) is required")
        loop = asyncio.get_running_loop()
        gt = await loop.run_in_executor(reward_pool, _decode_image, body["gt_image"], cfg)
        res = await loop.run_in_executor(reward_pool, lambda: score(response, gt, kind, sync_critic, rc))
        return JSONResponse(res.to_dict())

    async def models(request: Request):
        return JSONResponse({"object": "list", "data": [
            {"id": model_name, "object": "model", "created": 0, "owned_by": "verm"}]})

    async def health(request: Request):
        q = batcher.queue.qsize() if batcher.queue is not None else 0
        return JSONResponse({"status": "ok", "critic": critic_name, "model": model_name, "queued": q})

    async def prom(request: Request):
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics["registry"]), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        try:
            yield
        finally:
            await batcher.stop()
            reward_pool.shutdown(wait=False, cancel_futures=True)

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/reward", reward, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", prom, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.critic = critic
    app.state.config = cfg
    return app
