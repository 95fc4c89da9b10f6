"""Fused linear (lm-head) + GRPO/PPO policy loss, chunked over tokens, Triton forward and backward.

``fused_linear_grpo_loss`` computes the same loss as verl's actor update on top of
``logits = hidden @ lm_head_weight.T``:

* log-probs of the target tokens from ``log_softmax(logits.float() / temperature)``;
* ``compute_policy_loss`` (vanilla): ratio = exp(clamp(logp - old, -20, 20)), clip-higher with
  separate ``clip_low``/``clip_high``, optional dual clip (``dual_clip`` = verl's ``clip_ratio_c``,
  applied to negative advantages only);
* an optional KL loss to the reference policy (``kl_penalty``: ``"k1"``, ``"k2"``, ``"low_var_kl"``
  clamped to [-10, 10]) weighted by ``kl_coef``;
* ``agg_loss`` with ``"token-mean"``, ``"seq-mean-token-sum"`` or ``"seq-mean-token-mean"``.

The (tokens x vocab) logits are never materialised: tokens are processed in chunks.  For each
chunk the logits are written in the input dtype (bf16 tensor-core matmul, fp32 accumulation); one
Triton row kernel computes the log-sum-exp, entropy and target log-prob with an online softmax, the
loss terms, and turns the logits in place into d(loss)/d(logits); two more matmuls produce the
chunk's hidden gradient and add its weight gradient.  The matmuls run on torch (cuBLAS) by default,
as Liger-Kernel's fused linear losses do, or on verm's own Triton matmuls (``matmul="triton"``, with
the softmax statistics fused into the logits matmul's epilogue).  The gradients are computed during
the forward (the loss is a scalar), so only three matmuls of size tokens x vocab x hidden run in
total; backward only scales them by the incoming gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._backend import interpreting, use_triton

LOSS_AGG_MODES = ("token-mean", "seq-mean-token-sum", "seq-mean-token-mean")
_KL_ALIASES = {"low_var_kl": "low_var_kl", "k3": "low_var_kl", "k1": "k1", "kl": "k1", "k2": "k2", "mse": "k2"}
_KL_CODE = {None: 0, "k1": 1, "k2": 2, "low_var_kl": 3}


@dataclass(frozen=True)
class _Opts:
    temperature: float
    clip_low: float
    clip_high: float
    dual_clip: float | None
    kl: str | None
    kl_coef: float
    loss_agg: str


# ----------------------------------------------------------------------------- shared torch parts


def _token_weights(mask: torch.Tensor, loss_agg: str) -> torch.Tensor:
    """Per-token weights c so that agg_loss(x, mask, mode) == (c * x).sum()."""
    m = mask.float()
    if loss_agg == "token-mean":
        return m / (m.sum() + 1e-8)
    if loss_agg == "seq-mean-token-sum":
        return m / m.shape[0]
    # seq-mean-token-mean; a fully masked sequence contributes 0 (verl would give NaN there)
    return m / (m.sum(-1, keepdim=True).clamp(min=1.0) * m.shape[0])


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / (mask.sum() + 1e-8)


def _kl_term(logp: torch.Tensor, ref: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "k1":
        return logp - ref
    if kind == "k2":
        return 0.5 * (logp - ref).square()
    kl = torch.clamp(ref - logp, min=-20.0, max=20.0)
    return torch.clamp(torch.exp(kl) - kl - 1.0, min=-10.0, max=10.0)


def _policy_terms(logp, old, ref, adv, mask, weights, o: _Opts):
    """verl's compute_policy_loss + kl_penalty + agg_loss on per-token log-probs (differentiable)."""
    neg_kl = torch.clamp(logp - old, min=-20.0, max=20.0)
    ratio = torch.exp(neg_kl)
    pg1 = -adv * ratio
    pg2 = -adv * torch.clamp(ratio, 1.0 - o.clip_low, 1.0 + o.clip_high)
    clip1 = torch.maximum(pg1, pg2)
    if o.dual_clip is not None:
        pg3 = -adv * o.dual_clip
        clip2 = torch.min(pg3, clip1)
        pg = torch.where(adv < 0, clip2, clip1)
        clipfrac_lower = _masked_mean(torch.gt(clip1, pg3).float() * (adv < 0).float(), mask)
    else:
        pg = clip1
        clipfrac_lower = torch.zeros((), device=logp.device)
    pg_loss = (pg * weights).sum()
    metrics = {
        "pg_loss": pg_loss.detach(),
        "pg_clipfrac": _masked_mean(torch.gt(pg2, pg1).float(), mask).detach(),
        "pg_clipfrac_lower": clipfrac_lower.detach(),
        "ppo_kl": _masked_mean(-neg_kl, mask).detach(),
        "ratio_mean": _masked_mean(ratio, mask).detach(),
    }
    loss = pg_loss
    if o.kl is not None:
        kl_loss = (_kl_term(logp, ref, o.kl) * weights).sum()
        metrics["kl_loss"] = kl_loss.detach()
        loss = loss + o.kl_coef * kl_loss
    return loss, metrics


def _prepare(hidden, weight, target_ids, old_logprobs, ref_logprobs, advantages, response_mask,
             temperature, clip_low, clip_high, dual_clip, kl, kl_coef, loss_agg):
    if loss_agg not in LOSS_AGG_MODES:
        raise ValueError(f"loss_agg must be one of {LOSS_AGG_MODES}, got {loss_agg!r}")
    if kl is not None:
        if kl not in _KL_ALIASES:
            raise ValueError(f"kl must be one of {sorted(_KL_ALIASES)} or None, got {kl!r}")
        kl = _KL_ALIASES[kl]
    if dual_clip is not None and not dual_clip > 1.0:
        raise ValueError(f"dual_clip (verl's clip_ratio_c) must be > 1.0, got {dual_clip}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if response_mask.ndim != 2:
        raise ValueError(f"response_mask must be [batch, response_len], got {tuple(response_mask.shape)}")
    B, T = response_mask.shape
    N = B * T
    if N == 0:
        raise ValueError("empty batch: response_mask has no tokens")
    if weight.ndim != 2:
        raise ValueError(f"lm_head_weight must be [vocab, hidden], got {tuple(weight.shape)}")
    V, H = weight.shape
    if hidden.shape[-1] != H or hidden.numel() != N * H:
        raise ValueError(
            f"hidden {tuple(hidden.shape)} does not match response_mask {tuple(response_mask.shape)} "
            f"and hidden size {H}"
        )
    if hidden.dtype != weight.dtype:
        raise ValueError(f"hidden ({hidden.dtype}) and lm_head_weight ({weight.dtype}) dtypes differ")
    if target_ids.numel() != N:
        raise ValueError(f"target_ids has {target_ids.numel()} elements, expected {N}")
    if old_logprobs.numel() != N:
        raise ValueError(f"old_logprobs has {old_logprobs.numel()} elements, expected {N}")
    if kl is not None and (ref_logprobs is None or ref_logprobs.numel() != N):
        raise ValueError(f"kl={kl!r} needs ref_logprobs with {N} elements")
    if advantages.numel() == B and advantages.numel() != N:
        advantages = advantages.reshape(B, 1).expand(B, T)
    elif advantages.numel() == N:
        advantages = advantages.reshape(B, T)
    else:
        raise ValueError(f"advantages must have {B} (per sequence) or {N} (per token) elements")
    dev = hidden.device
    for name, t in (("lm_head_weight", weight), ("target_ids", target_ids), ("old_logprobs", old_logprobs),
                    ("advantages", advantages), ("response_mask", response_mask)):
        if t.device != dev:
            raise ValueError(f"{name} is on {t.device}, hidden on {dev}")
    tgt = target_ids.reshape(N).long()
    bad = (tgt < 0) | (tgt >= V)
    if bool(bad.any()):
        raise ValueError(f"target_ids must lie in [0, {V}); found ids outside it")
    mask = response_mask.reshape(B, T).float()
    old = old_logprobs.reshape(B, T).float()
    ref = ref_logprobs.reshape(B, T).float() if kl is not None else old
    adv = advantages.float()
    o = _Opts(float(temperature), float(clip_low), float(clip_high),
              None if dual_clip is None else float(dual_clip), kl, float(kl_coef), loss_agg)
    return hidden.reshape(N, H), tgt, old, ref, adv, mask, o


# ----------------------------------------------------------------------------- torch reference


def grpo_loss_reference(
    hidden, lm_head_weight, target_ids, old_logprobs, ref_logprobs, advantages, response_mask, *,
    temperature=1.0, clip_low=0.2, clip_high=0.2, dual_clip=None, kl="low_var_kl", kl_coef=0.0,
    loss_agg="token-mean", return_entropy=False,
):
    """Plain-torch reference (materialises the logits); differentiable through autograd.

    Same arguments and results as :func:`fused_linear_grpo_loss`.
    """
    h2, tgt, old, ref, adv, mask, o = _prepare(
        hidden, lm_head_weight, target_ids, old_logprobs, ref_logprobs, advantages, response_mask,
        temperature, clip_low, clip_high, dual_clip, kl, kl_coef, loss_agg)
    B, T = mask.shape
    logits = (h2 @ lm_head_weight.t()).float() / o.temperature
    logsm = torch.log_softmax(logits, dim=-1)
    logp = logsm.gather(-1, tgt[:, None]).squeeze(-1).view(B, T)
    weights = _token_weights(mask, o.loss_agg)
    loss, metrics = _policy_terms(logp, old, ref, adv, mask, weights, o)
    if return_entropy:
        with torch.no_grad():
            ent = -(logsm.exp() * logsm).sum(-1).view(B, T)
            metrics["entropy"] = (ent * weights).sum()
    return loss, metrics


# ----------------------------------------------------------------------------- Triton kernels

_K = None
_FWD_BN = 256  # vocab tile of the forward kernel on GPU


def _build():
    from . import _grpo_triton

    return _grpo_triton.build()


def _kernels():
    global _K
    if _K is None:
        _K = _build()
    return _K


_SMALL_WORK = 1 << 32  # M * N * K below this: one fixed tile config, no autotuning
_GPU_SMALL = ({"BM": 64, "BN": 64, "BK": 32, "GROUP_M": 8}, 4, 3)  # tiles, num_warps, num_stages
_INTERP = ({"BM": 16, "BN": 32, "BK": 16, "GROUP_M": 4}, 1, 1)


def _prec(dtype):
    return "ieee" if dtype == torch.float32 else None  # fp32: exact products, like the reference


def _fixed_config(M: int, N: int, K: int):
    """(tiles, num_warps, num_stages) for an explicit launch, or None to use the autotuner."""
    if interpreting():
        return _INTERP
    if M * N * K < _SMALL_WORK:
        return _GPU_SMALL
    return None


def _mm(a, b, c, accum: bool):
    """c (+)= a @ b on strided 2-D views, fp32 accumulation."""
    import triton

    ks = _kernels()
    M, K = a.shape
    N = b.shape[1]
    args = (a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1))
    fixed = _fixed_config(M, N, K)
    if fixed is not None:
        tiles, warps, stages = fixed
        grid = (triton.cdiv(M, tiles["BM"]) * triton.cdiv(N, tiles["BN"]),)
        ks["mm_raw"][grid](*args, ACCUM=accum, UPCAST=interpreting(), PREC=_prec(a.dtype),
                           num_warps=warps, num_stages=stages, **tiles)
    else:
        def grid(meta):
            return (triton.cdiv(M, meta["BM"]) * triton.cdiv(N, meta["BN"]),)
        ks["mm"][grid](*args, ACCUM=accum, UPCAST=False, PREC=_prec(a.dtype))


def _default_chunk(V: int, elem: int, N: int) -> int:
    budget = 640 * 1024 * 1024  # bytes of chunk logits (2048 tokens at a 152k vocab in bf16)
    c = max(128, min(4096, budget // max(1, V * elem)))
    c = 1 << int(math.log2(c))
    return min(c, N)


def _chunk_setup(h2, weight, old, ref, adv, mask, o: _Opts, chunk_size):
    """Contiguous inputs, the chunk size, flat per-token inputs and the output/chunk buffers."""
    N = h2.shape[0]
    V = weight.shape[0]
    dev = h2.device
    C = int(chunk_size) if chunk_size else _default_chunk(V, h2.element_size(), N)
    C = max(1, min(C, N))
    flat = [t.reshape(N).contiguous() for t in (_token_weights(mask, o.loss_agg), old, ref, adv)]
    logp = torch.empty(N, device=dev, dtype=torch.float32)
    ent = torch.empty(N, device=dev, dtype=torch.float32)
    zbuf = torch.empty((C, V), device=dev, dtype=h2.dtype)
    return (h2.contiguous(), weight.contiguous(), C, *flat, logp, ent, zbuf)


MATMUL_BACKENDS = ("torch", "triton")
ROW_LAUNCH = {"BV": 2048, "num_warps": 8}  # row kernel launch of the torch-matmul path (GPU)


def _fused_forward(h2, weight, tgt, old, ref, adv, mask, o: _Opts, need_grad: bool, chunk_size,
                   matmul: str = "torch"):
    """Runs the chunked kernels; returns (logp, entropy, grad_hidden, grad_weight).

    ``matmul="torch"``: the three matmuls per chunk go to torch (cuBLAS on GPU, bf16 tensor cores
    with fp32 accumulation) and one Triton row kernel does the softmax statistics, loss terms and
    d(loss)/d(logits) in place.  ``matmul="triton"``: verm's own Triton matmuls, the forward one
    with the softmax statistics fused into its epilogue.
    """
    if matmul == "torch":
        return _fused_forward_torch_mm(h2, weight, tgt, old, ref, adv, mask, o, need_grad, chunk_size)
    import triton

    ks = _kernels()
    N, H = h2.shape
    V = weight.shape[0]
    dev = h2.device
    interp = interpreting()
    prec = _prec(h2.dtype)
    h2, weight, C, weights, oldf, reff, advf, logp, ent, zbuf = _chunk_setup(
        h2, weight, old, ref, adv, mask, o, chunk_size)
    fixed = _fixed_config(C, V, H)
    bn_stats = fixed[0]["BN"] if fixed else _FWD_BN  # one softmax-statistics slot per vocab tile
    grad_h = torch.empty_like(h2) if need_grad else None
    grad_w = torch.empty_like(weight) if need_grad else None
    stats = torch.empty((3, C, triton.cdiv(V, bn_stats)), device=dev, dtype=torch.float32)
    zt = torch.empty(C, device=dev, dtype=torch.float32)
    kl_code = _KL_CODE[o.kl]
    for ci, s in enumerate(range(0, N, C)):
        e = min(N, s + C)
        Mc = e - s
        hc = h2[s:e]
        fwd_args = (hc, weight, zbuf, tgt[s:e], stats[0], stats[1], stats[2], zt,
                    Mc, V, H, hc.stride(0), weight.stride(0), zbuf.stride(0))
        n_tiles = triton.cdiv(V, bn_stats)
        if fixed is not None:
            tiles, warps, stages = fixed
            grid = (triton.cdiv(Mc, tiles["BM"]) * n_tiles,)
            ks["fwd_raw"][grid](*fwd_args, n_tiles, o.temperature, STORE_Z=need_grad,
                                UPCAST=interp, PREC=prec, num_warps=warps, num_stages=stages, **tiles)
        else:
            def grid(meta, Mc=Mc, n_tiles=n_tiles):
                return (triton.cdiv(Mc, meta["BM"]) * n_tiles,)

            ks["fwd"][grid](*fwd_args, n_tiles, o.temperature, STORE_Z=need_grad,
                            UPCAST=False, PREC=prec, BN=bn_stats)
        ntp = triton.next_power_of_2(n_tiles)
        bv = 16 if interp else 2048
        ks["row"][(Mc,)](
            zbuf, tgt[s:e], stats[0], stats[1], stats[2], zt, oldf[s:e], reff[s:e], advf[s:e],
            weights[s:e], logp[s:e], ent[s:e], V, n_tiles, zbuf.stride(0), o.temperature,
            o.clip_low, o.clip_high, o.dual_clip if o.dual_clip is not None else 0.0, o.kl_coef,
            NTP=ntp, BV=bv, DUAL=o.dual_clip is not None, KL=kl_code, GRAD=need_grad, EMU=interp,
            ROW_STATS=False,
        )
        if need_grad:
            dz = zbuf[:Mc]
            _mm(dz, weight, grad_h[s:e], accum=False)
            _mm(dz.t(), hc, grad_w, accum=ci > 0)
    return logp, ent, grad_h, grad_w


def _fused_forward_torch_mm(h2, weight, tgt, old, ref, adv, mask, o: _Opts, need_grad: bool, chunk_size):
    ks = _kernels()
    N = h2.shape[0]
    V = weight.shape[0]
    dev = h2.device
    h2, weight, C, weights, oldf, reff, advf, logp, ent, zbuf = _chunk_setup(
        h2, weight, old, ref, adv, mask, o, chunk_size)
    grad_h = torch.empty_like(h2) if need_grad else None
    grad_w = torch.empty_like(weight) if need_grad else None
    unused = torch.empty(1, device=dev, dtype=torch.float32)  # tile statistics: not used here
    interp = interpreting()
    bv = 16 if interp else ROW_LAUNCH["BV"]
    for ci, s in enumerate(range(0, N, C)):
        e = min(N, s + C)
        Mc = e - s
        hc = h2[s:e]
        z = zbuf[:Mc]
        torch.mm(hc, weight.t(), out=z)
        ks["row"][(Mc,)](
            z, tgt[s:e], unused, unused, unused, unused, oldf[s:e], reff[s:e], advf[s:e],
            weights[s:e], logp[s:e], ent[s:e], V, 1, z.stride(0), o.temperature,
            o.clip_low, o.clip_high, o.dual_clip if o.dual_clip is not None else 0.0, o.kl_coef,
            NTP=1, BV=bv, DUAL=o.dual_clip is not None, KL=_KL_CODE[o.kl], GRAD=need_grad, EMU=interp,
            ROW_STATS=True, num_warps=1 if interp else ROW_LAUNCH["num_warps"],
        )
        if need_grad:
            torch.mm(z, weight, out=grad_h[s:e])
            if ci == 0:
                torch.mm(z.t(), hc, out=grad_w)
            else:
                grad_w.addmm_(z.t(), hc)
    return logp, ent, grad_h, grad_w


class _FusedLinearGRPOLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, tgt, old, ref, adv, mask, o, chunk_size, need_grad, matmul, out_metrics):
        h2 = hidden.reshape(-1, hidden.shape[-1])
        logp, ent, gh, gw = _fused_forward(h2, weight, tgt, old, ref, adv, mask, o, need_grad, chunk_size,
                                           matmul)
        B, T = mask.shape
        logp = logp.view(B, T)
        ent = ent.view(B, T)
        weights = _token_weights(mask, o.loss_agg)
        loss, metrics = _policy_terms(logp, old, ref, adv, mask, weights, o)
        out_metrics.update(metrics)  # the metrics leave through this dict (apply returns tensors only)
        out_metrics["_entropy_sum"] = (ent * weights).sum()
        if gh is not None:
            ctx.save_for_backward(gh.view_as(hidden), gw)
        ctx.has_grad = gh is not None
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        if not ctx.has_grad:
            raise RuntimeError("fused_linear_grpo_loss was run without gradients enabled")
        gh, gw = ctx.saved_tensors
        if bool(torch.ne(grad_loss, 1.0)):
            gh = gh * grad_loss.to(gh.dtype)
            gw = gw * grad_loss.to(gw.dtype)
        return gh, gw, None, None, None, None, None, None, None, None, None, None


def fused_linear_grpo_loss(
    hidden: torch.Tensor,
    lm_head_weight: torch.Tensor,
    target_ids: torch.Tensor,
    old_logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor | None,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    *,
    temperature: float = 1.0,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
    dual_clip: float | None = None,
    kl: str | None = "low_var_kl",
    kl_coef: float = 0.0,
    loss_agg: str = "token-mean",
    return_entropy: bool = False,
    chunk_size: int | None = None,
    matmul: str = "torch",
):
    """GRPO/PPO policy loss on top of the lm head, without materialising (tokens x vocab) logits.

    Args:
        hidden: ``[B, T, H]`` (or ``[B*T, H]``) final hidden states of the response tokens.
        lm_head_weight: ``[V, H]`` output embedding, same dtype as ``hidden`` (bf16, fp16, fp32).
        target_ids: ``[B, T]`` sampled token ids (in ``[0, V)``; masked positions too).
        old_logprobs, ref_logprobs: ``[B, T]`` log-probs of the behaviour / reference policy
            (``ref_logprobs`` may be None when ``kl`` is None).
        advantages: ``[B]`` or ``[B, T]``.
        response_mask: ``[B, T]``; zeros exclude tokens from loss and metrics.
        temperature: logits are divided by it before the softmax.
        clip_low, clip_high: ratio clip range ``[1 - clip_low, 1 + clip_high]`` (clip-higher).
        dual_clip: verl's ``clip_ratio_c`` (> 1) for negative advantages, or None.
        kl: ``"low_var_kl"`` (k3, clamped to [-10, 10]), ``"k1"``, ``"k2"`` or None.
        kl_coef: weight of the KL loss.
        loss_agg: ``"token-mean"``, ``"seq-mean-token-sum"`` or ``"seq-mean-token-mean"``.
        return_entropy: add the aggregated entropy to the metrics.
        chunk_size: tokens per chunk (default: about 640 MiB of chunk logits).
        matmul: ``"torch"`` (default): the chunk matmuls run on torch/cuBLAS and a Triton kernel does
            the softmax, loss and logit gradients between them; ``"triton"``: verm's Triton matmuls
            with the softmax statistics fused into the logits matmul.

    Returns:
        ``(loss, metrics)``: scalar loss (differentiable w.r.t. ``hidden`` and ``lm_head_weight``)
        and a dict of detached scalars ``pg_loss``, ``pg_clipfrac``, ``pg_clipfrac_lower``,
        ``ppo_kl``, ``ratio_mean``, ``kl_loss`` (when ``kl``), ``entropy`` (when requested).
    """
    if matmul not in MATMUL_BACKENDS:
        raise ValueError(f"matmul must be one of {MATMUL_BACKENDS}, got {matmul!r}")
    h2, tgt, old, ref, adv, mask, o = _prepare(
        hidden, lm_head_weight, target_ids, old_logprobs, ref_logprobs, advantages, response_mask,
        temperature, clip_low, clip_high, dual_clip, kl, kl_coef, loss_agg)
    if not use_triton(hidden.device):
        return grpo_loss_reference(
            hidden, lm_head_weight, target_ids, old_logprobs, ref_logprobs, advantages, response_mask,
            temperature=temperature, clip_low=clip_low, clip_high=clip_high, dual_clip=dual_clip,
            kl=kl, kl_coef=kl_coef, loss_agg=loss_agg, return_entropy=return_entropy)
    need_grad = torch.is_grad_enabled() and (hidden.requires_grad or lm_head_weight.requires_grad)
    metrics: dict = {}
    loss = _FusedLinearGRPOLoss.apply(
        hidden, lm_head_weight, tgt, old, ref, adv, mask, o, chunk_size, need_grad, matmul, metrics)
    entropy = metrics.pop("_entropy_sum")
    if return_entropy:
        metrics["entropy"] = entropy
    return loss, metrics
