"""Group-normalised outcome advantages for GRPO / Dr. GRPO / RLOO in one Triton launch.

Semantics follow verl's ``compute_grpo_outcome_advantage`` (``norm_adv_by_std_in_grpo`` True for
``"grpo"``, False for ``"dr_grpo"``; a group of one sample gets mean 0 and std 1) and
``compute_rloo_outcome_advantage``.  Samples are grouped contiguously: rewards ``[g0s0, g0s1, ...,
g1s0, ...]``.  With ``response_mask`` the per-token expansion ``adv[:, None] * mask`` is written by the
same launch.
"""

from __future__ import annotations

import torch

from ._backend import use_triton

_MODES = ("grpo", "dr_grpo", "rloo")


def _check(rewards: torch.Tensor, group_size: int, mode: str, response_mask):
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size must be a positive int, got {group_size!r}")
    if rewards.ndim == 2:
        if rewards.shape[1] != group_size:
            raise ValueError(f"rewards of shape {tuple(rewards.shape)} do not have groups of {group_size}")
        rewards = rewards.reshape(-1)
    if rewards.ndim != 1:
        raise ValueError(f"rewards must be 1-D (or [groups, group_size]), got shape {tuple(rewards.shape)}")
    n = rewards.numel()
    if n == 0:
        raise ValueError("rewards is empty: no groups to normalise")
    if n % group_size:
        raise ValueError(
            f"{n} rewards cannot be split into groups of {group_size}: the last group would be "
            f"incomplete ({n % group_size} samples)"
        )
    if mode == "rloo" and group_size < 2:
        raise ValueError("rloo needs at least 2 samples per group (leave-one-out baseline)")
    if not rewards.is_floating_point():
        rewards = rewards.float()
    if response_mask is not None:
        if response_mask.ndim != 2 or response_mask.shape[0] != n:
            raise ValueError(
                f"response_mask must be [{n}, response_len], got {tuple(response_mask.shape)}"
            )
        if response_mask.device != rewards.device:
            raise ValueError("response_mask and rewards are on different devices")
    return rewards


def grpo_advantages_reference(
    rewards: torch.Tensor,
    group_size: int,
    *,
    mode: str = "grpo",
    eps: float = 1e-6,
    response_mask: torch.Tensor | None = None,
):
    """Plain-torch reference of :func:`grpo_advantages` (same arguments and results)."""
    r = _check(rewards, group_size, mode, response_mask).float().view(-1, group_size)
    g = group_size
    if mode == "rloo":
        adv = (r * g - r.sum(1, keepdim=True)) / (g - 1)
    else:
        if g == 1:
            mean = torch.zeros_like(r)
            std = torch.ones_like(r)
        else:
            mean = r.mean(1, keepdim=True)
            std = r.std(1, keepdim=True)
        adv = (r - mean) / (std + eps) if mode == "grpo" else r - mean
    adv = adv.reshape(-1)
    if response_mask is None:
        return adv
    return adv, adv[:, None] * response_mask.to(adv.dtype)


def _kernels():
    import triton
    import triton.language as tl

    @triton.jit
    def _adv_kernel(
        r_ptr, adv_ptr, mask_ptr, tok_ptr, n_groups, T, stride_m, stride_t,
        eps, G: tl.constexpr, GP: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_T: tl.constexpr,
        MODE: tl.constexpr, HAS_MASK: tl.constexpr,
    ):
        pid = tl.program_id(0)
        gi = pid * BLOCK_G + tl.arange(0, BLOCK_G)
        si = tl.arange(0, GP)
        valid = (gi[:, None] < n_groups) & (si[None, :] < G)
        idx = gi[:, None] * G + si[None, :]
        r = tl.load(r_ptr + idx, mask=valid, other=0.0).to(tl.float32)
        total = tl.sum(r, axis=1)
        if MODE == 2:  # rloo
            adv = (r * G - total[:, None]) / (G - 1)
        else:
            if G == 1:
                mean = tl.zeros_like(total)
                std = tl.zeros_like(total) + 1.0
            else:
                mean = total / G
                d = tl.where(valid, r - mean[:, None], 0.0)
                std = tl.sqrt(tl.sum(d * d, axis=1) / (G - 1))
            if MODE == 0:
                adv = (r - mean[:, None]) / (std[:, None] + eps)
            else:
                adv = r - mean[:, None]
        tl.store(adv_ptr + idx, adv, mask=valid)
        if HAS_MASK:
            ti = tl.arange(0, BLOCK_T)
            for t0 in range(0, T, BLOCK_T):
                t = t0 + ti
                m3 = valid[:, :, None] & (t[None, None, :] < T)
                off = idx[:, :, None].to(tl.int64) * stride_m + t[None, None, :] * stride_t
                mk = tl.load(mask_ptr + off, mask=m3, other=0).to(tl.float32)
                tl.store(tok_ptr + idx[:, :, None].to(tl.int64) * T + t[None, None, :],
                         adv[:, :, None] * mk, mask=m3)

    return _adv_kernel


_KERNEL = None


def grpo_advantages(
    rewards: torch.Tensor,
    group_size: int,
    *,
    mode: str = "grpo",
    eps: float = 1e-6,
    response_mask: torch.Tensor | None = None,
):
    """Group-normalised advantages of outcome rewards, one kernel launch.

    Args:
        rewards: ``[n]`` (or ``[n // group_size, group_size]``) rewards, groups contiguous.
        group_size: samples per prompt; ``n`` must be a multiple of it (partial or empty groups
            raise ``ValueError``).
        mode: ``"grpo"`` ((r - mean) / (std + eps), unbiased std), ``"dr_grpo"`` (r - mean) or
            ``"rloo"`` (r - mean of the other samples; needs ``group_size >= 2``).
        eps: added to the std in ``"grpo"`` mode.
        response_mask: optional ``[n, T]`` mask; when given also returns per-token advantages
            ``adv[:, None] * mask`` (float32).

    Returns:
        ``adv`` (float32 ``[n]``), or ``(adv, adv_tokens)`` when ``response_mask`` is given.
    """
    global _KERNEL
    r = _check(rewards, group_size, mode, response_mask)
    if not use_triton(r.device):
        return grpo_advantages_reference(r, group_size, mode=mode, eps=eps, response_mask=response_mask)
    import triton

    if _KERNEL is None:
        _KERNEL = _kernels()
    r = r.contiguous()
    n = r.numel()
    n_groups = n // group_size
    adv = torch.empty(n, device=r.device, dtype=torch.float32)
    gp = triton.next_power_of_2(group_size)
    block_g = max(1, min(triton.next_power_of_2(n_groups), max(1, 1024 // gp)))
    has_mask = response_mask is not None
    if has_mask:
        m = response_mask
        if m.dtype == torch.bool:
            m = m.view(torch.uint8)
        T = m.shape[1]
        tok = torch.empty((n, T), device=r.device, dtype=torch.float32)
        sm, st = m.stride(0), m.stride(1)
        block_g = max(1, min(block_g, max(1, 64 // gp)))
        block_t = min(triton.next_power_of_2(max(T, 1)), 256)
    else:
        m, tok, T, sm, st, block_t = r, adv, 0, 0, 0, 16
    grid = (triton.cdiv(n_groups, block_g),)
    _KERNEL[grid](
        r, adv, m, tok, n_groups, T, sm, st, float(eps),
        G=group_size, GP=gp, BLOCK_G=block_g, BLOCK_T=block_t,
        MODE=_MODES.index(mode), HAS_MASK=has_mask,
    )
    if has_mask:
        return adv, tok
    return adv
