"""Triton kernels of the fused linear GRPO loss (imported only when Triton is used)."""

from __future__ import annotations

import triton
import triton.language as tl

from ._backend import interpreting


@triton.jit
def _cast(x, dtype: tl.constexpr, EMU: tl.constexpr):
    """x.to(dtype) with round-to-nearest-even; EMU does the bf16 rounding by hand (Triton's CPU
    interpreter truncates fp32 -> bf16)."""
    if EMU:
        if dtype == tl.bfloat16:
            b = x.to(tl.uint32, bitcast=True)
            b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
            x = b.to(tl.float32, bitcast=True)
    return x.to(dtype)


@triton.jit
def _pid_grouped(pid, num_m, num_n, GROUP_M: tl.constexpr):
    group = GROUP_M * num_n
    gid = pid // group
    first = gid * GROUP_M
    gsz = min(num_m - first, GROUP_M)
    pid_m = first + ((pid % group) % gsz)
    pid_n = (pid % group) // gsz
    return pid_m, pid_n

@triton.jit
def fwd_logits_kernel(
    h_ptr, w_ptr, z_ptr, tgt_ptr, m_ptr, s_ptr, q_ptr, zt_ptr,
    M, V, H, s_hm, s_wv, s_zm, n_tiles, temperature,
    STORE_Z: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
    GROUP_M: tl.constexpr, UPCAST: tl.constexpr, PREC: tl.constexpr,
):
    pid = tl.program_id(0)
    num_m = tl.cdiv(M, BM)
    num_n = tl.cdiv(V, BN)
    pid_m, pid_n = _pid_grouped(pid, num_m, num_n, GROUP_M)
    rm = pid_m * BM + tl.arange(0, BM)
    rn = pid_n * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    mm = rm < M
    mn = rn < V
    a_ptrs = h_ptr + rm.to(tl.int64)[:, None] * s_hm + rk[None, :]
    b_ptrs = w_ptr + rn.to(tl.int64)[:, None] * s_wv + rk[None, :]
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, H, BK):
        km = (k + rk) < H
        a = tl.load(a_ptrs, mask=mm[:, None] & km[None, :], other=0.0)
        b = tl.load(b_ptrs, mask=mn[:, None] & km[None, :], other=0.0)
        if UPCAST:
            a = a.to(tl.float32)
            b = b.to(tl.float32)
        acc = tl.dot(a, tl.trans(b), acc, input_precision=PREC)
        a_ptrs += BK
        b_ptrs += BK
    zq = _cast(acc, z_ptr.dtype.element_ty, UPCAST)
    if STORE_Z:
        tl.store(z_ptr + rm.to(tl.int64)[:, None] * s_zm + rn[None, :], zq,
                 mask=mm[:, None] & mn[None, :])
    zf = zq.to(tl.float32) / temperature
    zf = tl.where(mn[None, :], zf, float("-inf"))
    mt = tl.max(zf, axis=1)
    e = tl.exp(zf - mt[:, None])
    e = tl.where(mn[None, :], e, 0.0)
    st = tl.sum(e, axis=1)
    qt = tl.sum(e * tl.where(mn[None, :], zf, 0.0), axis=1)
    sidx = rm.to(tl.int64) * n_tiles + pid_n
    tl.store(m_ptr + sidx, mt, mask=mm)
    tl.store(s_ptr + sidx, st, mask=mm)
    tl.store(q_ptr + sidx, qt, mask=mm)
    tgt = tl.load(tgt_ptr + rm, mask=mm, other=-1)
    hit = (rn[None, :] == tgt[:, None]) & mn[None, :]
    zt = tl.sum(tl.where(hit, zf, 0.0), axis=1)
    in_tile = (tgt >= pid_n * BN) & (tgt < pid_n * BN + BN)
    tl.store(zt_ptr + rm, zt, mask=mm & in_tile)

@triton.jit
def row_kernel(
    z_ptr, tgt_ptr, m_ptr, s_ptr, q_ptr, zt_ptr, old_ptr, ref_ptr, adv_ptr, c_ptr,
    logp_ptr, ent_ptr, V, n_tiles, s_zm, temperature, clip_low, clip_high, dual_clip, kl_coef,
    NTP: tl.constexpr, BV: tl.constexpr, DUAL: tl.constexpr, KL: tl.constexpr,
    GRAD: tl.constexpr, EMU: tl.constexpr, ROW_STATS: tl.constexpr,
):
    row = tl.program_id(0)
    cols = tl.arange(0, BV)
    zrow = z_ptr + row.to(tl.int64) * s_zm
    if ROW_STATS:
        # logits written by a plain (cuBLAS) matmul: softmax statistics from one online pass over
        # the row, per lane, combined at the end.  A masked token (weight 0) needs neither: its
        # log-prob and entropy are reported as 0 and its logit gradient is 0, so its row is not read.
        c_row = tl.load(c_ptr + row)
        mx = c_row * 0.0
        S = mx + 1.0
        Q = mx
        zt = mx
        if c_row != 0.0:
            mv = tl.full((BV,), float("-inf"), tl.float32)
            sv = tl.zeros((BV,), dtype=tl.float32)
            qv = tl.zeros((BV,), dtype=tl.float32)
            for v0 in range(0, V, BV):
                vm = (v0 + cols) < V
                z = tl.load(zrow + v0 + cols, mask=vm, other=0.0).to(tl.float32) / temperature
                zm = tl.where(vm, z, float("-inf"))
                mn = tl.maximum(mv, zm)
                mn_safe = tl.where(mn == float("-inf"), 0.0, mn)
                a = tl.exp(mv - mn_safe)
                e = tl.where(vm, tl.exp(z - mn_safe), 0.0)
                sv = sv * a + e
                qv = qv * a + e * tl.where(vm, z, 0.0)
                mv = mn
            mx = tl.max(mv, axis=0)
            sc = tl.where(mv == float("-inf"), 0.0, tl.exp(mv - mx))
            S = tl.sum(sv * sc, axis=0)
            Q = tl.sum(qv * sc, axis=0)
            tgt_r = tl.load(tgt_ptr + row)
            zt = tl.load(zrow + tgt_r).to(tl.float32) / temperature
    else:
        t = tl.arange(0, NTP)
        tm = t < n_tiles
        base = row.to(tl.int64) * n_tiles
        mt = tl.load(m_ptr + base + t, mask=tm, other=float("-inf"))
        st = tl.load(s_ptr + base + t, mask=tm, other=0.0)
        qt = tl.load(q_ptr + base + t, mask=tm, other=0.0)
        mx = tl.max(mt, axis=0)
        sc = tl.where(tm, tl.exp(mt - mx), 0.0)
        S = tl.sum(st * sc, axis=0)
        Q = tl.sum(qt * sc, axis=0)
        zt = tl.load(zt_ptr + row)
    lse = mx + tl.log(S)
    logp = zt - lse
    tl.store(logp_ptr + row, logp)
    tl.store(ent_ptr + row, lse - Q / S)
    if GRAD:
        c = tl.load(c_ptr + row)
        A = tl.load(adv_ptr + row)
        old = tl.load(old_ptr + row)
        dl = logp - old
        ratio = tl.exp(tl.minimum(tl.maximum(dl, -20.0), 20.0))
        dratio = tl.where((dl >= -20.0) & (dl <= 20.0), ratio, 0.0)
        pg1 = -A * ratio
        pg2 = -A * tl.minimum(tl.maximum(ratio, 1.0 - clip_low), 1.0 + clip_high)
        cg = tl.where((ratio >= 1.0 - clip_low) & (ratio <= 1.0 + clip_high), 1.0, 0.0)
        d1 = -A * dratio
        d_clip1 = tl.where(pg1 > pg2, d1, tl.where(pg1 < pg2, d1 * cg, d1 * (0.5 + 0.5 * cg)))
        dpg = d_clip1
        if DUAL:
            clip1 = tl.maximum(pg1, pg2)
            pg3 = -A * dual_clip
            d2 = tl.where(clip1 < pg3, d_clip1, tl.where(clip1 > pg3, 0.0, 0.5 * d_clip1))
            dpg = tl.where(A < 0, d2, d_clip1)
        g = dpg
        if KL != 0:
            ref = tl.load(ref_ptr + row)
            if KL == 1:
                dk = 1.0
            elif KL == 2:
                dk = logp - ref
            else:
                kl = ref - logp
                klc = tl.minimum(tl.maximum(kl, -20.0), 20.0)
                r = tl.exp(klc)
                kld = r - klc - 1.0
                dk = tl.where((kld >= -10.0) & (kld <= 10.0), 1.0, 0.0) * (r - 1.0)
                dk = dk * tl.where((kl >= -20.0) & (kl <= 20.0), -1.0, 0.0)
            g = g + kl_coef * dk
        g = g * c / temperature
        tgt = tl.load(tgt_ptr + row)
        if g == 0.0:
            zero = tl.zeros((BV,), dtype=tl.float32).to(z_ptr.dtype.element_ty)
            for v0 in range(0, V, BV):
                tl.store(zrow + v0 + cols, zero, mask=(v0 + cols) < V)
        else:
            for v0 in range(0, V, BV):
                vm = (v0 + cols) < V
                z = tl.load(zrow + v0 + cols, mask=vm, other=0.0).to(tl.float32)
                p = tl.exp(z / temperature - lse)
                d = g * (tl.where(v0 + cols == tgt, 1.0, 0.0) - p)
                tl.store(zrow + v0 + cols, d.to(z_ptr.dtype.element_ty), mask=vm)

@triton.jit
def mm_kernel(
    a_ptr, b_ptr, c_ptr, M, N, K, s_am, s_ak, s_bk, s_bn, s_cm, s_cn,
    ACCUM: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
    GROUP_M: tl.constexpr, UPCAST: tl.constexpr, PREC: tl.constexpr,
):
    pid = tl.program_id(0)
    num_m = tl.cdiv(M, BM)
    num_n = tl.cdiv(N, BN)
    pid_m, pid_n = _pid_grouped(pid, num_m, num_n, GROUP_M)
    rm = pid_m * BM + tl.arange(0, BM)
    rn = pid_n * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    mm = rm < M
    mn = rn < N
    a_ptrs = a_ptr + rm.to(tl.int64)[:, None] * s_am + rk[None, :].to(tl.int64) * s_ak
    b_ptrs = b_ptr + rk[:, None].to(tl.int64) * s_bk + rn.to(tl.int64)[None, :] * s_bn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        km = (k + rk) < K
        a = tl.load(a_ptrs, mask=mm[:, None] & km[None, :], other=0.0)
        b = tl.load(b_ptrs, mask=km[:, None] & mn[None, :], other=0.0)
        if UPCAST:
            a = a.to(tl.float32)
            b = b.to(tl.float32)
        acc = tl.dot(a, b, acc, input_precision=PREC)
        a_ptrs += BK * s_ak
        b_ptrs += BK * s_bk
    c_ptrs = c_ptr + rm.to(tl.int64)[:, None] * s_cm + rn.to(tl.int64)[None, :] * s_cn
    cmask = mm[:, None] & mn[None, :]
    if ACCUM:
        acc += tl.load(c_ptrs, mask=cmask, other=0.0).to(tl.float32)
    tl.store(c_ptrs, _cast(acc, c_ptr.dtype.element_ty, UPCAST), mask=cmask)


def build():
    """The kernels: ``fwd``/``mm`` autotuned on GPU (plain under the interpreter), ``*_raw`` for
    launches with an explicit tile config (small problems, interpreter)."""
    kernels = {"fwd": fwd_logits_kernel, "row": row_kernel, "mm": mm_kernel,
               "fwd_raw": fwd_logits_kernel, "mm_raw": mm_kernel}
    if not interpreting():
        cfg = triton.Config
        kernels["fwd"] = triton.autotune(
            configs=[
                cfg({"BM": 128, "BK": 64, "GROUP_M": 8}, num_warps=8, num_stages=3),
                cfg({"BM": 128, "BK": 64, "GROUP_M": 8}, num_warps=8, num_stages=4),
            ],
            key=["M", "V", "H", "STORE_Z"],
        )(fwd_logits_kernel)
        kernels["mm"] = triton.autotune(
            configs=[
                cfg({"BM": 128, "BN": 256, "BK": 64, "GROUP_M": 8}, num_warps=8, num_stages=3),
                cfg({"BM": 128, "BN": 128, "BK": 64, "GROUP_M": 8}, num_warps=8, num_stages=4),
                cfg({"BM": 256, "BN": 128, "BK": 64, "GROUP_M": 8}, num_warps=8, num_stages=3),
            ],
            key=["M", "N", "K", "ACCUM"],
            restore_value=["c_ptr"],
        )(mm_kernel)
    return kernels
