"""Triton kernel of the fused Qwen-VL image preprocessing (imported only when Triton is used)."""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _aa_cubic(x):
    # Keys cubic (a = -0.5), written as torch's antialiased bicubic filter evaluates it
    a: tl.constexpr = -0.5
    x = tl.abs(x)
    w1 = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    w2 = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return tl.where(x < 1.0, w1, tl.where(x < 2.0, w2, 0.0))


@triton.jit
def preprocess_kernel(
    src_ptr, meta_ptr, cum_ptr, out_ptr, n_images,
    m0, m1, m2, s0, s1, s2,
    P: tl.constexpr, MERGE: tl.constexpr, TP: tl.constexpr, BP: tl.constexpr, RP: tl.constexpr,
    KP: tl.constexpr, LOGN: tl.constexpr,
):
    pid = tl.program_id(0)
    # image of this patch: largest i with cum[i] <= pid
    lo = 0
    hi = n_images - 1
    for _ in range(LOGN):
        mid = (lo + hi + 1) // 2
        c = tl.load(cum_ptr + mid)
        ok = c <= pid
        lo = tl.where(ok, mid, lo)
        hi = tl.where(ok, hi, mid - 1)
    mrow = meta_ptr + lo * 8
    src_off = tl.load(mrow + 0)
    in_h = tl.load(mrow + 1).to(tl.int32)
    in_w = tl.load(mrow + 2).to(tl.int32)
    out_h = tl.load(mrow + 3).to(tl.int32)
    out_w = tl.load(mrow + 4).to(tl.int32)
    cin = tl.load(mrow + 5).to(tl.int32)
    row_off = tl.load(mrow + 6)
    q = pid - row_off.to(tl.int32)
    gwm = (out_w // P) // MERGE
    mw = q % MERGE
    mh = (q // MERGE) % MERGE
    blk = q // (MERGE * MERGE)
    bw = blk % gwm
    bh = blk // gwm
    y0 = (bh * MERGE + mh) * P
    x0 = (bw * MERGE + mw) * P

    p = tl.arange(0, BP)
    pm = p < P
    k = tl.arange(0, KP)
    r = tl.arange(0, RP)

    # horizontal taps of the output columns x0 + p
    sw = in_w.to(tl.float32) / out_w.to(tl.float32)
    supw = tl.where(sw >= 1.0, 2.0 * sw, 2.0)
    invw = tl.where(sw >= 1.0, 1.0 / sw, 1.0)
    cx = sw * ((x0 + p).to(tl.float32) + 0.5)
    xmin = tl.maximum((cx - supw + 0.5).to(tl.int32), 0)
    xsize = tl.minimum((cx + supw + 0.5).to(tl.int32), in_w) - xmin
    col = xmin[:, None] + k[None, :]
    kval = (k[None, :] < xsize[:, None]) & pm[:, None]
    wx = _aa_cubic((col.to(tl.float32) - cx[:, None] + 0.5) * invw)
    wx = tl.where(kval, wx, 0.0)
    wxs = tl.sum(wx, axis=1)
    wx = wx / tl.where(wxs == 0.0, 1.0, wxs)[:, None]

    # vertical taps of the output rows y0 + p over the input rows ry0 + r
    sh = in_h.to(tl.float32) / out_h.to(tl.float32)
    suph = tl.where(sh >= 1.0, 2.0 * sh, 2.0)
    invh = tl.where(sh >= 1.0, 1.0 / sh, 1.0)
    cy = sh * ((y0 + p).to(tl.float32) + 0.5)
    ymin = tl.maximum((cy - suph + 0.5).to(tl.int32), 0)
    ysize = tl.minimum((cy + suph + 0.5).to(tl.int32), in_h) - ymin
    ry0 = tl.min(tl.where(pm, ymin, 2147483647), axis=0)
    row = ry0 + r
    j = row[None, :] - ymin[:, None]
    yval = (j >= 0) & (j < ysize[:, None]) & pm[:, None]
    wy = _aa_cubic((row[None, :].to(tl.float32) - cy[:, None] + 0.5) * invh)
    wy = tl.where(yval, wy, 0.0)
    wys = tl.sum(wy, axis=1)
    wy = wy / tl.where(wys == 0.0, 1.0, wys)[:, None]

    rmask = row < in_h
    gmask = rmask[:, None, None] & kval[None, :, :]
    pix = (row.to(tl.int64)[:, None, None] * in_w + col[None, :, :]) * cin + src_off
    D: tl.constexpr = 3 * TP * P * P
    obase = out_ptr + (row_off + q).to(tl.int64) * D + p[:, None] * P + p[None, :]
    omask = pm[:, None] & pm[None, :]
    for c in tl.static_range(3):
        cidx = tl.minimum(cin - 1, c)
        v = tl.load(src_ptr + pix + cidx, mask=gmask, other=0).to(tl.float32)
        tmp = tl.sum(v * wx[None, :, :], axis=2)  # [RP, BP]: horizontal pass on the input rows
        o = tl.sum(wy[:, :, None] * tmp[None, :, :], axis=1)  # [BP, BP]
        o = tl.minimum(tl.maximum(o, 0.0), 255.0)
        o = (o + 12582912.0) - 12582912.0  # round half to even, like torch.round before uint8
        if c == 0:
            o = (o - m0) / s0
        elif c == 1:
            o = (o - m1) / s1
        else:
            o = (o - m2) / s2
        o = o.to(out_ptr.dtype.element_ty)
        for t in tl.static_range(TP):
            tl.store(obase + (c * TP + t) * P * P, o, mask=omask)
