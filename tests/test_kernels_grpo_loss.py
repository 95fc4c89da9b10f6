"""verm.kernels.fused_linear_grpo_loss against autograd of the plain-torch (verl-semantics) reference."""

from __future__ import annotations

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # CPU CI: run the Triton kernels interpreted

import verm.kernels as K  # noqa: E402

DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_inputs(B, T, H, V, dtype, seed=0, temperature=1.0):
    g = torch.Generator().manual_seed(seed)
    hidden = (torch.randn(B, T, H, generator=g) * 0.6).to(dtype)
    weight = (torch.randn(V, H, generator=g) * 0.4).to(dtype)
    tgt = torch.randint(0, V, (B, T), generator=g)
    with torch.no_grad():  # behaviour log-probs near the current ones: a mix of clipped/unclipped
        logits = (hidden.double().reshape(-1, H) @ weight.double().t()) / temperature
        cur = torch.log_softmax(logits, -1).gather(-1, tgt.reshape(-1, 1)).view(B, T)
    old = (cur + torch.randn(B, T, generator=g) * 0.3).float()
    ref = (cur + torch.randn(B, T, generator=g) * 0.5).float()
    adv = torch.randn(B, generator=g)
    mask = (torch.rand(B, T, generator=g) > 0.25).float()
    mask[:, 0] = 1.0
    return [t.to(DEV) for t in (hidden, weight, tgt, old, ref, adv, mask)]


def run_both(inputs, chunk_size=None, matmul="torch", **kw):
    hidden, weight, tgt, old, ref, adv, mask = inputs
    h1 = hidden.clone().requires_grad_()
    w1 = weight.clone().requires_grad_()
    loss, metrics = K.fused_linear_grpo_loss(h1, w1, tgt, old, ref, adv, mask, chunk_size=chunk_size,
                                             matmul=matmul, **kw)
    loss.backward()
    # fp32 inputs: reference in float64; bf16: the reference in bf16 (logits rounded like the kernel)
    ref_dtype = torch.float64 if hidden.dtype == torch.float32 else hidden.dtype
    h2 = hidden.detach().to(ref_dtype).clone().requires_grad_()
    w2 = weight.detach().to(ref_dtype).clone().requires_grad_()
    loss_r, metrics_r = K.grpo_loss_reference(h2, w2, tgt, old, ref, adv, mask, **kw)
    loss_r.backward()
    return (loss, metrics, h1.grad, w1.grad), (loss_r, metrics_r, h2.grad, w2.grad)


def rel_err(a, b):
    return ((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30)).item()


# (B, T, H, V, chunk): odd sizes, tokens not a multiple of the chunk, chunk > tokens, V < tile
SHAPES = [(2, 5, 24, 37, 4), (3, 13, 40, 70, 16), (1, 1, 16, 16, None), (4, 7, 33, 129, 9)]
OPTIONS = [
    dict(kl="low_var_kl", kl_coef=0.1, loss_agg="token-mean", dual_clip=3.0),
    dict(kl="k1", kl_coef=0.05, loss_agg="seq-mean-token-sum", clip_high=0.28, temperature=0.7),
    dict(kl="k2", kl_coef=0.2, loss_agg="seq-mean-token-mean", clip_low=0.1, dual_clip=2.0),
    dict(kl=None, loss_agg="token-mean", clip_high=0.28),
]


@pytest.mark.parametrize("matmul", ["torch", "triton"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("case", range(len(SHAPES)))
def test_forward_backward_match_reference(case, dtype, matmul):
    B, T, H, V, chunk = SHAPES[case]
    opts = dict(OPTIONS[case], return_entropy=True)
    inputs = make_inputs(B, T, H, V, dtype, seed=case, temperature=opts.get("temperature", 1.0))
    (loss, m, gh, gw), (loss_r, m_r, gh_r, gw_r) = run_both(inputs, chunk, matmul=matmul, **opts)
    tol = 1e-4 if dtype == torch.float32 else 2e-3
    assert torch.isfinite(loss)
    assert abs(loss.item() - loss_r.item()) <= tol * max(1.0, abs(loss_r.item()))
    for key in m_r:
        assert abs(m[key].item() - m_r[key].item()) <= tol * max(1.0, abs(m_r[key].item())), key
    assert gh.dtype == dtype and gw.dtype == dtype
    assert gh.shape == inputs[0].shape and gw.shape == inputs[1].shape
    # bf16: both sides round logits and d(logits) to bf16; differences come from summation order
    assert rel_err(gh, gh_r) <= (2e-4 if dtype == torch.float32 else 2e-2)
    assert rel_err(gw, gw_r) <= (2e-4 if dtype == torch.float32 else 2e-2)
    if dtype == torch.bfloat16:  # and both stay close to the exact (float64) gradient
        h64 = inputs[0].double().requires_grad_()
        w64 = inputs[1].double().requires_grad_()
        K.grpo_loss_reference(h64, w64, *inputs[2:], **opts)[0].backward()
        assert rel_err(gh, h64.grad) <= 2 * rel_err(gh_r, h64.grad) + 2e-2
        assert rel_err(gw, w64.grad) <= 2 * rel_err(gw_r, w64.grad) + 2e-2


def test_masked_tokens_get_no_gradient_and_empty_sequence_is_finite():
    inputs = make_inputs(3, 6, 16, 40, torch.float32, seed=11)
    mask = inputs[-1]
    mask[1] = 0.0  # a response with no tokens
    mask[0, 3] = 0.0
    (loss, m, gh, _), (loss_r, _, gh_r, _) = run_both(
        inputs, 4, loss_agg="seq-mean-token-mean", kl="low_var_kl", kl_coef=0.1)
    assert torch.isfinite(loss) and abs(loss.item() - loss_r.item()) < 1e-4
    assert torch.all(gh[1] == 0) and torch.all(gh[0, 3] == 0)
    assert gh[0, 2].abs().sum() > 0
    assert rel_err(gh, gh_r) < 2e-4


def test_dual_clip_and_clip_fractions_active():
    """Make sure the test data exercises the clipping branches the gradients must follow."""
    inputs = make_inputs(4, 8, 16, 32, torch.float32, seed=5)
    inputs[3] = inputs[3] + torch.linspace(-2.0, 2.0, 32, device=DEV).view(4, 8)  # far ratios
    inputs[5] = torch.tensor([1.0, -1.0, 2.0, -0.5], device=DEV)
    (loss, m, gh, gw), (loss_r, m_r, gh_r, gw_r) = run_both(inputs, 8, dual_clip=1.5, kl=None)
    assert m_r["pg_clipfrac"] > 0 and m_r["pg_clipfrac_lower"] > 0
    assert abs(m["pg_clipfrac_lower"].item() - m_r["pg_clipfrac_lower"].item()) < 1e-6
    assert rel_err(gh, gh_r) < 2e-4 and rel_err(gw, gw_r) < 2e-4


def test_grad_output_scaling_and_no_grad_path():
    inputs = make_inputs(2, 5, 16, 24, torch.float32, seed=2)
    hidden, weight, tgt, old, ref, adv, mask = inputs
    h1 = hidden.clone().requires_grad_()
    w1 = weight.clone().requires_grad_()
    loss, _ = K.fused_linear_grpo_loss(h1, w1, tgt, old, ref, adv, mask, chunk_size=3, kl="k1", kl_coef=0.3)
    (2.5 * loss).backward()
    h2 = hidden.double().requires_grad_()
    w2 = weight.double().requires_grad_()
    loss_r, _ = K.grpo_loss_reference(h2, w2, tgt, old, ref, adv, mask, kl="k1", kl_coef=0.3)
    (2.5 * loss_r).backward()
    assert rel_err(h1.grad, h2.grad) < 2e-4 and rel_err(w1.grad, w2.grad) < 2e-4
    with torch.no_grad():
        loss_ng, m_ng = K.fused_linear_grpo_loss(hidden, weight, tgt, old, ref, adv, mask, kl="k1", kl_coef=0.3)
    assert abs(loss_ng.item() - loss_r.item()) < 1e-4
    assert "entropy" not in m_ng


def test_per_token_advantages():
    inputs = make_inputs(2, 7, 16, 24, torch.float32, seed=8)
    inputs[5] = torch.randn(2, 7, device=DEV)
    (loss, _, gh, gw), (loss_r, _, gh_r, gw_r) = run_both(inputs, 5, kl=None)
    assert abs(loss.item() - loss_r.item()) < 1e-4
    assert rel_err(gh, gh_r) < 2e-4 and rel_err(gw, gw_r) < 2e-4


def test_errors():
    hidden, weight, tgt, old, ref, adv, mask = make_inputs(2, 4, 16, 20, torch.float32)
    f = K.fused_linear_grpo_loss
    with pytest.raises(ValueError, match="target_ids"):
        f(hidden, weight, tgt + 20, old, ref, adv, mask)
    with pytest.raises(ValueError, match="dual_clip"):
        f(hidden, weight, tgt, old, ref, adv, mask, dual_clip=0.9)
    with pytest.raises(ValueError, match="loss_agg"):
        f(hidden, weight, tgt, old, ref, adv, mask, loss_agg="token-sum")
    with pytest.raises(ValueError, match="ref_logprobs"):
        f(hidden, weight, tgt, old, None, adv, mask, kl="k2")
    with pytest.raises(ValueError, match="advantages"):
        f(hidden, weight, tgt, old, ref, adv[:1].repeat(3), mask)
    with pytest.raises(ValueError, match="hidden"):
        f(hidden[:, :3], weight, tgt, old, ref, adv, mask)
    with pytest.raises(ValueError, match="empty"):
        z = torch.zeros(0, 4, device=DEV)
        f(hidden[:0], weight, tgt[:0], z, z, adv[:0], z)
    with pytest.raises(ValueError, match="kl"):
        f(hidden, weight, tgt, old, ref, adv, mask, kl="k9")
    with pytest.raises(ValueError, match="matmul"):
        f(hidden, weight, tgt, old, ref, adv, mask, matmul="cutlass")
