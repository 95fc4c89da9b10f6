"""verm.kernels.grpo_advantages against its torch reference and a verl-style per-group loop."""

from __future__ import annotations

import os
from collections import defaultdict

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # CPU CI: run the Triton kernels interpreted

import verm.kernels as K  # noqa: E402

DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def verl_style(rewards, group_size, mode, eps=1e-6):
    """Independent re-statement of verl's grouped advantage loops (index -> list of scores)."""
    scores = rewards.double().cpu().tolist()
    index = [i // group_size for i in range(len(scores))]
    groups = defaultdict(list)
    for i, s in zip(index, scores):
        groups[i].append(s)
    out = []
    for i, s in zip(index, scores):
        g = torch.tensor(groups[i], dtype=torch.float64)
        n = len(g)
        if mode == "rloo":
            out.append(s * n / (n - 1) - g.mean().item() * n / (n - 1))
            continue
        mean, std = (0.0, 1.0) if n == 1 else (g.mean().item(), g.std().item())
        out.append((s - mean) / (std + eps) if mode == "grpo" else s - mean)
    return torch.tensor(out, dtype=torch.float64)


def test_backend_reported():
    b = K.backend()
    assert b in ("triton", "triton-interpret", "torch")
    if torch.cuda.is_available():
        assert b == "triton"
    elif os.environ.get("TRITON_INTERPRET") == "1":
        assert b == "triton-interpret"


CASES = [(m, g) for m in ("grpo", "dr_grpo", "rloo") for g in (1, 2, 3, 5, 8) if not (m == "rloo" and g == 1)]


@pytest.mark.parametrize(("mode", "group_size"), CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_matches_reference_and_verl(mode, group_size, dtype):
    g = torch.Generator().manual_seed(group_size * 7 + len(mode))
    n = group_size * 11
    r = torch.randint(0, 4, (n,), generator=g).float() / 3 + torch.rand(n, generator=g) * 0.1
    r = r.to(dtype).to(DEV)
    adv = K.grpo_advantages(r, group_size, mode=mode)
    ref = K.grpo_advantages_reference(r, group_size, mode=mode)
    assert adv.dtype == torch.float32 and adv.shape == (n,)
    torch.testing.assert_close(adv, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(adv.double().cpu(), verl_style(r.float(), group_size, mode), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["grpo", "rloo"])
def test_per_token_expansion_with_mask(mode):
    g = torch.Generator().manual_seed(3)
    n, T = 24, 37
    r = torch.rand(n, generator=g).to(DEV)
    mask = (torch.rand(n, T, generator=g) > 0.4).to(DEV)
    mask[0] = False  # a fully masked response
    adv, tok = K.grpo_advantages(r, 8, mode=mode, response_mask=mask)
    adv_r, tok_r = K.grpo_advantages_reference(r, 8, mode=mode, response_mask=mask)
    torch.testing.assert_close(adv, adv_r, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(tok, tok_r, rtol=1e-5, atol=1e-5)
    assert tok.shape == (n, T)
    assert torch.all(tok[~mask] == 0)
    assert torch.all(tok[0] == 0)
    # float masks work too
    _, tok_f = K.grpo_advantages(r, 8, mode=mode, response_mask=mask.float())
    torch.testing.assert_close(tok_f, tok_r)


def test_grouped_2d_input_and_constant_group():
    r = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]], device=DEV)
    adv = K.grpo_advantages(r, 4)
    assert torch.all(adv[:4] == 0)  # no signal in a constant group (std 0 -> eps)
    assert adv[5] > 0 > adv[4]


def test_errors():
    r = torch.rand(10, device=DEV)
    with pytest.raises(ValueError, match="empty"):
        K.grpo_advantages(torch.empty(0, device=DEV), 4)
    with pytest.raises(ValueError, match="groups of 4"):
        K.grpo_advantages(r, 4)
    with pytest.raises(ValueError, match="group_size"):
        K.grpo_advantages(r, 0)
    with pytest.raises(ValueError, match="rloo"):
        K.grpo_advantages(r, 1, mode="rloo")
    with pytest.raises(ValueError, match="mode"):
        K.grpo_advantages(r, 5, mode="ppo")
    with pytest.raises(ValueError, match="response_mask"):
        K.grpo_advantages(r, 5, response_mask=torch.ones(9, 3, device=DEV))


def test_torch_fallback_forced(monkeypatch):
    r = torch.rand(16, device=DEV)
    want = K.grpo_advantages(r, 4, mode="dr_grpo")
    monkeypatch.setenv("VERM_KERNELS_BACKEND", "torch")
    assert K.backend() == "torch"
    torch.testing.assert_close(K.grpo_advantages(r, 4, mode="dr_grpo"), want)
