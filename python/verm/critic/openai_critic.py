"""A critic served by any OpenAI-compatible endpoint (``vllm serve``, ``verm serve``, ...).

Requests go out concurrently (async httpx), round-robin over several base URLs. A request that
fails on one endpoint (connection error, timeout, 429 or 5xx) is retried on the next one, with
exponential backoff once every endpoint has failed; the failing endpoint leaves the rotation for
a cool-down that doubles on each consecutive failure and is probed again afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import io
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from verm.critic.base import CriticUnavailable, GenerativeCritic, ImageLike, to_pil

__all__ = ["OpenAICritic", "image_data_url", "to_openai_messages"]


def image_data_url(img: ImageLike, max_side: int | None = 1024, quality: int = 90) -> str:
    """Encode an image as a ``data:image/jpeg;base64,...`` URL, longest side at most ``max_side``."""
    im = to_pil(img, max_side=max_side)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=int(quality))
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def to_openai_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Convert verm's chat messages (image parts holding data URLs) to the OpenAI wire format."""
    out = []
    for msg in messages:
        parts = []
        for part in msg["content"]:
            if part["type"] == "image":
                parts.append({"type": "image_url", "image_url": {"url": part["image"]}})
            else:
                parts.append({"type": "text", "text": part["text"]})
        if msg["role"] == "system":
            out.append({"role": "system", "content": "\n".join(p["text"] for p in parts)})
        else:
            out.append({"role": msg["role"], "content": parts})
    return out


def _norm_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    if not url.endswith("/v1"):
        url += "/v1"
    return url


@dataclass
class _Endpoint:
    url: str
    down_until: float = 0.0
    consecutive_failures: int = 0
    ok: int = 0
    failed: int = 0
    last_error: str = ""


class OpenAICritic(GenerativeCritic):
    """Critic over one or more OpenAI-compatible chat-completions endpoints.

    Args:
        base_urls: endpoints such as ``http://host:8000/v1`` (``/v1`` is added when missing).
        model: model name; ``None`` asks the first endpoint's ``/v1/models``.
        api_key: sent as a bearer token when given.
        max_concurrency: requests in flight at once (over all endpoints).
        timeout: seconds per HTTP request.
        temperature, top_p, top_k, presence_penalty, max_tokens: sampling settings.
        image_max_side: images are sent as JPEG data URLs shrunk to this longest side.
        retries: re-samples of answers that do not parse.
        max_attempts: transport attempts per request before :class:`CriticUnavailable`.
        cooldown, max_cooldown: seconds a failed endpoint stays out of the rotation.
        send_kind: add a ``verm_kind`` field to the body (understood by ``verm serve``).
        extra_body: merged into every request body.
    """

    name = "openai"

    def __init__(
        self,
        base_urls: Sequence[str] | str,
        model: str | None = None,
        api_key: str | None = None,
        max_concurrency: int = 32,
        timeout: float = 300.0,
        *,
        temperature: float = 0.7,
        top_p: float = 0.8,
        top_k: int | None = 20,
        presence_penalty: float = 1.5,
        max_tokens: int = 4096,
        image_max_side: int | None = 1024,
        jpeg_quality: int = 90,
        retries: int = 2,
        max_attempts: int = 6,
        backoff: float = 0.25,
        max_backoff: float = 8.0,
        cooldown: float = 1.0,
        max_cooldown: float = 30.0,
        send_kind: bool = False,
        extra_body: dict[str, Any] | None = None,
        template=None,
    ) -> None:
        super().__init__(template=template, retries=retries)
        if isinstance(base_urls, str):
            base_urls = [u for u in base_urls.split(",") if u.strip()]
        if not base_urls:
            raise ValueError("OpenAICritic needs at least one base URL")
        self.endpoints = [_Endpoint(_norm_url(u)) for u in base_urls]
        self.model = model
        self.api_key = api_key
        self.max_concurrency = max(1, int(max_concurrency))
        self.timeout = float(timeout)
        self.sampling: dict[str, Any] = {
            "temperature": temperature, "top_p": top_p, "presence_penalty": presence_penalty,
            "max_tokens": max_tokens,
        }
        if top_k is not None:
            self.sampling["top_k"] = top_k
        self.image_max_side = image_max_side
        self.jpeg_quality = jpeg_quality
        self.max_attempts = max(1, int(max_attempts))
        self.backoff, self.max_backoff = float(backoff), float(max_backoff)
        self.cooldown, self.max_cooldown = float(cooldown), float(max_cooldown)
        self.send_kind = send_kind
        self.extra_body = dict(extra_body or {})
        self._rr = 0
        self._lock = threading.Lock()

    def _cache_ident(self) -> str:
        return repr((sorted(e.url for e in self.endpoints), self.model, sorted(self.sampling.items()),
                     sorted(self.extra_body.items()), self.image_max_side, self.jpeg_quality))

    # -- endpoint rotation ------------------------------------------------------------------
    def endpoint_stats(self) -> list[dict[str, Any]]:
        """Per endpoint: successes, failures, whether it is in the rotation now, last error."""
        now = time.monotonic()
        return [
            {"url": e.url, "ok": e.ok, "failed": e.failed, "in_rotation": e.down_until <= now,
             "last_error": e.last_error}
            for e in self.endpoints
        ]

    def _pick_now(self) -> _Endpoint | None:
        now = time.monotonic()
        with self._lock:
            n = len(self.endpoints)
            for k in range(n):
                ep = self.endpoints[(self._rr + k) % n]
                if ep.down_until <= now:
                    self._rr = (self._rr + k + 1) % n
                    return ep
        return None

    async def _pick(self) -> _Endpoint:
        while True:
            ep = self._pick_now()
            if ep is not None:
                return ep
            wait = min(e.down_until for e in self.endpoints) - time.monotonic()
            await asyncio.sleep(min(max(wait, 0.005), 1.0))

    def _mark_failed(self, ep: _Endpoint, why: str) -> None:
        now = time.monotonic()
        with self._lock:
            ep.failed += 1
            ep.last_error = why
            if ep.down_until > now:
                return  # a request already in flight when the endpoint went down: no escalation
            ep.consecutive_failures += 1
            cool = min(self.cooldown * 2 ** (ep.consecutive_failures - 1), self.max_cooldown)
            ep.down_until = now + cool

    def _mark_ok(self, ep: _Endpoint) -> None:
        with self._lock:
            ep.ok += 1
            ep.consecutive_failures = 0
            ep.down_until = 0.0

    # -- HTTP ---------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    async def _discover_model(self, client) -> str:
        import httpx

        errors = []
        for ep in self.endpoints:
            try:
                r = await client.get(ep.url + "/models", headers=self._headers())
                r.raise_for_status()
                return str(r.json()["data"][0]["id"])
            except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
                errors.append(f"{ep.url}: {exc}")
        raise CriticUnavailable("could not find a model name (pass model=...): " + "; ".join(errors))

    async def _post(self, client, body: dict[str, Any]) -> str:
        import httpx

        delay = self.backoff
        last = ""
        for attempt in range(self.max_attempts):
            ep = await self._pick()
            try:
                r = await client.post(ep.url + "/chat/completions", json=body, headers=self._headers())
            except httpx.TransportError as exc:  # connect/read/write errors and timeouts
                self._mark_failed(ep, f"{type(exc).__name__}: {exc}")
                last = f"{ep.url}: {type(exc).__name__}: {exc}"
            else:
                if r.status_code == 200:
                    try:
                        content = r.json()["choices"][0]["message"]["content"]
                    except (ValueError, KeyError, IndexError, TypeError) as exc:
                        self._mark_failed(ep, f"malformed response: {exc}")
                        last = f"{ep.url}: malformed response"
                    else:
                        self._mark_ok(ep)
                        return content or ""
                elif r.status_code in (408, 409, 425, 429) or r.status_code >= 500:
                    self._mark_failed(ep, f"HTTP {r.status_code}")
                    last = f"{ep.url}: HTTP {r.status_code}: {r.text[:200]}"
                else:
                    raise CriticUnavailable(
                        f"{ep.url} rejected the request (HTTP {r.status_code}): {r.text[:500]}"
                    )
            if attempt + 1 >= len(self.endpoints):
                await asyncio.sleep(delay * (1.0 + 0.25 * random.random()))
                delay = min(delay * 2.0, self.max_backoff)
        raise CriticUnavailable(f"request failed after {self.max_attempts} attempts; last: {last}")

    async def _agenerate(self, requests: list[tuple[Any, Any, str]]) -> list[str]:
        import httpx

        from verm.critic.prompts import build_messages

        limits = httpx.Limits(max_connections=self.max_concurrency,
                              max_keepalive_connections=self.max_concurrency)
        timeout = httpx.Timeout(self.timeout, connect=min(10.0, self.timeout))
        sem = asyncio.Semaphore(self.max_concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            if self.model is None:
                self.model = await self._discover_model(client)

            async def one(gt_url: str, pred_url: str, kind: str) -> str:
                body: dict[str, Any] = {
                    "model": self.model,
                    "messages": to_openai_messages(build_messages(kind, self.template, gt_url, pred_url)),
                    **self.sampling, **self.extra_body,
                }
                if self.send_kind:
                    body["verm_kind"] = kind
                async with sem:
                    return await self._post(client, body)

            return list(await asyncio.gather(*(one(*r) for r in requests)))

    def _prepare(self, img: ImageLike) -> str:
        return image_data_url(img, self.image_max_side, self.jpeg_quality)

    def _generate(self, requests: list[tuple[Any, Any, str]], attempt: int) -> list[str]:
        coro = self._agenerate(requests)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        # Called from inside an event loop: run on a private loop in a worker thread.
        box: dict[str, Any] = {}

        def runner() -> None:
            try:
                box["v"] = asyncio.run(coro)
            except BaseException as exc:  # re-raised in the caller's thread
                box["e"] = exc

        t = threading.Thread(target=runner, daemon=True)
        t.start()
        t.join()
        if "e" in box:
            raise box["e"]
        return box["v"]
