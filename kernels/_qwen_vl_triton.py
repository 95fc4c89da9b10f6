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
def _find_image(cum_ptr, pid, n_images, LOGN: tl.constexpr):
    """Largest i with cum[i] <= pid (cum: ascending start offsets)."""
    lo = 0
    hi = n_images - 1
    for _ in range(LOGN):
        mid = (lo + hi + 1) // 2
        c = tl.load(cum_ptr + mid)
        ok = c <= pid
        lo = tl.where(ok, mid, lo)
        hi = tl.where(ok, hi, mid - 1)
    return lo


@triton.jit
def _patch_origin(q, out_w, P: tl.constexpr, MERGE: tl.constexpr):
    """Top-left output pixel (y0, x0) of patch ``q`` of an image, patches in merge-window order."""
    gwm = (out_w // P) // MERGE
    mw = q % MERGE
    mh = (q // MERGE) % MERGE
    blk = q // (MERGE * MERGE)
    return ((blk // gwm) * MERGE + mh) * P, ((blk % gwm) * MERGE + mw) * P


@triton.jit
def _emit(o, obase, omask, c: tl.constexpr, m0, m1, m2, s0, s1, s2, P: tl.constexpr, TP: tl.constexpr):
    """Clamp, round to the uint8 grid, normalise, store the channel's temporal copies."""
    o = tl.minimum(tl.maximum(o, 0.0), 255.0)
    o = (o + 12582912.0) - 12582912.0  # round half to even, like torch.round before uint8
    if c == 0:
        o = (o - m0) / s0
    elif c == 1:
        o = (o - m1) / s1
    else:
        o = (o - m2) / s2
    o = o.to(obase.dtype.element_ty)
    for tt in tl.static_range(TP):
        tl.store(obase + (c * TP + tt) * P * P, o, mask=omask)


@triton.jit
def _tap_setup(o, in_n, out_n):
    """Antialiased bicubic taps of output positions ``o``: first input index, tap count, centre and
    the filter's inverse stretch (torch's ``F.interpolate(..., antialias=True)`` arithmetic)."""
    s = in_n.to(tl.float32) / out_n.to(tl.float32)
    sup = tl.where(s >= 1.0, 2.0 * s, 2.0)
    inv = tl.where(s >= 1.0, 1.0 / s, 1.0)
    c = s * (o.to(tl.float32) + 0.5)
    first = tl.maximum((c - sup + 0.5).to(tl.int32), 0)
    size = tl.minimum((c + sup + 0.5).to(tl.int32), in_n) - first
    return first, size, c, inv


@triton.jit
def _tap_weight(first, size, c, inv, k):
    """Unnormalised weight of tap ``k`` (0 past the tap count)."""
    w = _aa_cubic(((first + k).to(tl.float32) - c + 0.5) * inv)
    return tl.where(k < size, w, 0.0)


@triton.jit
def _tap_sum(first, size, c, inv, K: tl.constexpr):
    """Sum of the ``K`` taps' weights (1 where it is 0), to normalise them by."""
    ws = _tap_weight(first, size, c, inv, 0)
    for k in tl.static_range(1, K):
        ws += _tap_weight(first, size, c, inv, k)
    return tl.where(ws == 0.0, 1.0, ws)


@triton.jit
def _taps(o, in_n, out_n, KP: tl.constexpr):
    """Antialiased bicubic taps of output positions ``o``: (first input index, [len(o), KP] weights)."""
    first, size, c, inv = _tap_setup(o, in_n, out_n)
    k = tl.arange(0, KP)
    w = _aa_cubic(((first[:, None] + k[None, :]).to(tl.float32) - c[:, None] + 0.5) * inv)
    w = tl.where(k[None, :] < size[:, None], w, 0.0)
    ws = tl.sum(w, axis=1)
    return first, w / tl.where(ws == 0.0, 1.0, ws)[:, None]


@triton.jit
def preprocess_kernel(
    src_ptr, meta_ptr, cum_ptr, out_ptr, n_images,
    m0, m1, m2, s0, s1, s2,
    P: tl.constexpr, MERGE: tl.constexpr, TP: tl.constexpr, BP: tl.constexpr, RP: tl.constexpr,
    KP: tl.constexpr, LOGN: tl.constexpr,
):
    pid = tl.program_id(0)
    lo = _find_image(cum_ptr, pid, n_images, LOGN)  # image of this patch
    mrow = meta_ptr + lo * 8
    src_off = tl.load(mrow + 0)
    in_h = tl.load(mrow + 1).to(tl.int32)
    in_w = tl.load(mrow + 2).to(tl.int32)
    out_h = tl.load(mrow + 3).to(tl.int32)
    out_w = tl.load(mrow + 4).to(tl.int32)
    cin = tl.load(mrow + 5).to(tl.int32)
    row_off = tl.load(mrow + 6)
    q = pid - row_off.to(tl.int32)
    y0, x0 = _patch_origin(q, out_w, P, MERGE)

    p = tl.arange(0, BP)
    pm = p < P
    k = tl.arange(0, KP)
    r = tl.arange(0, RP)

    # horizontal taps of the output columns x0 + p
    xmin, wx = _taps(x0 + p, in_w, out_w, KP)
    col = xmin[:, None] + k[None, :]
    kval = (wx != 0.0) & pm[:, None]
    wx = tl.where(kval, wx, 0.0)

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
        _emit(o, obase, omask, c, m0, m1, m2, s0, s1, s2, P, TP)


# ----------------------------------------------------------------------------- two-pass variant
# Pass 1 resizes every input row horizontally into a planar fp32 buffer [3, in_h, out_w] per image;
# pass 2 resizes vertically, rounds, normalises and writes the patch layout.  Each output value
# then reads only its own taps along one axis (the one-pass kernel above gathers a full 2-D window
# per patch), and a side that keeps its size is a plain copy.


@triton.jit
def hpass_kernel(
    src_ptr, meta_ptr, cum_ptr, tmp_ptr, n_images, pid_base,
    BY: tl.constexpr, BX: tl.constexpr, KX: tl.constexpr, LOGN: tl.constexpr, MW: tl.constexpr,
):
    # Offsets inside one image are int32 (the caller keeps every image and its planes under 2**31
    # elements); only the per-image bases are int64: 64-bit index math costs several instructions.
    pid = tl.program_id(0) + pid_base  # launches may cover a run of images only
    img = _find_image(cum_ptr, pid, n_images, LOGN)
    mrow = meta_ptr + img * MW
    src = src_ptr + tl.load(mrow + 0)
    in_h = tl.load(mrow + 1).to(tl.int32)
    in_w = tl.load(mrow + 2).to(tl.int32)
    out_w = tl.load(mrow + 4).to(tl.int32)
    cin = tl.load(mrow + 5).to(tl.int32)
    tmp = tmp_ptr + tl.load(mrow + 7)
    t = pid - tl.load(cum_ptr + img).to(tl.int32)
    ntx = tl.cdiv(out_w, BX)
    ys = (t // ntx) * BY + tl.arange(0, BY)
    xs = (t % ntx) * BX + tl.arange(0, BX)
    ym = ys < in_h
    xm = xs < out_w
    plane = in_h * out_w
    dst = tmp + ys[:, None] * out_w + xs[None, :]
    omask = ym[:, None] & xm[None, :]
    rowpix = ys[:, None] * (in_w * cin)
    c1 = tl.minimum(cin - 1, 1)
    c2 = tl.minimum(cin - 1, 2)
    if in_w == out_w:
        pix = src + rowpix + (xs * cin)[None, :]
        tl.store(dst, tl.load(pix, mask=omask, other=0).to(tl.float32), mask=omask)
        tl.store(dst + plane, tl.load(pix + c1, mask=omask, other=0).to(tl.float32), mask=omask)
        tl.store(dst + 2 * plane, tl.load(pix + c2, mask=omask, other=0).to(tl.float32), mask=omask)
    else:
        first, size, cx, inv = _tap_setup(xs, in_w, out_w)
        ws = _tap_sum(first, size, cx, inv, KX)
        a0 = tl.zeros([BY, BX], tl.float32)
        a1 = tl.zeros([BY, BX], tl.float32)
        a2 = tl.zeros([BY, BX], tl.float32)
        for k in tl.static_range(KX):  # one tap at a time: no lanes for taps a position lacks
            w = _tap_weight(first, size, cx, inv, k) / ws
            col = first + k
            ok = (w != 0.0) & xm & (col < in_w)
            m = ym[:, None] & ok[None, :]
            pix = src + rowpix + (col * cin)[None, :]
            a0 += tl.load(pix, mask=m, other=0).to(tl.float32) * w[None, :]
            a1 += tl.load(pix + c1, mask=m, other=0).to(tl.float32) * w[None, :]
            a2 += tl.load(pix + c2, mask=m, other=0).to(tl.float32) * w[None, :]
        tl.store(dst, a0, mask=omask)
        tl.store(dst + plane, a1, mask=omask)
        tl.store(dst + 2 * plane, a2, mask=omask)


@triton.jit
def vpass_kernel(
    tmp_ptr, meta_ptr, cum_ptr, out_ptr, n_images, pid_base,
    m0, m1, m2, s0, s1, s2,
    P: tl.constexpr, MERGE: tl.constexpr, TP: tl.constexpr, BP: tl.constexpr, KY: tl.constexpr,
    LOGN: tl.constexpr, MW: tl.constexpr,
):
    pid = tl.program_id(0) + pid_base
    img = _find_image(cum_ptr, pid, n_images, LOGN)
    mrow = meta_ptr + img * MW
    in_h = tl.load(mrow + 1).to(tl.int32)
    out_h = tl.load(mrow + 3).to(tl.int32)
    out_w = tl.load(mrow + 4).to(tl.int32)
    row_off = tl.load(mrow + 6)
    base = tmp_ptr + tl.load(mrow + 7)
    q = pid - row_off.to(tl.int32)
    y0, x0 = _patch_origin(q, out_w, P, MERGE)
    p = tl.arange(0, BP)
    pm = p < P
    xs = x0 + p
    plane = in_h * out_w
    D: tl.constexpr = 3 * TP * P * P
    obase = out_ptr + (row_off + q).to(tl.int64) * D + p[:, None] * P + p[None, :]
    omask = pm[:, None] & pm[None, :]
    if in_h == out_h:
        ptrs = base + (y0 + p)[:, None] * out_w + xs[None, :]
        for c in tl.static_range(3):
            _emit(tl.load(ptrs + c * plane, mask=omask, other=0.0), obase, omask, c, m0, m1, m2, s0, s1, s2,
                  P, TP)
    else:
        first, size, cy, inv = _tap_setup(y0 + p, in_h, out_h)
        ws = _tap_sum(first, size, cy, inv, KY)
        a0 = tl.zeros([BP, BP], tl.float32)
        a1 = tl.zeros([BP, BP], tl.float32)
        a2 = tl.zeros([BP, BP], tl.float32)
        for k in tl.static_range(KY):
            w = _tap_weight(first, size, cy, inv, k) / ws
            rows = first + k
            ok = (w != 0.0) & pm & (rows < in_h)
            m = ok[:, None] & pm[None, :]
            ptrs = base + rows[:, None] * out_w + xs[None, :]
            a0 += tl.load(ptrs, mask=m, other=0.0) * w[:, None]
            a1 += tl.load(ptrs + plane, mask=m, other=0.0) * w[:, None]
            a2 += tl.load(ptrs + 2 * plane, mask=m, other=0.0) * w[:, None]
        _emit(a0, obase, omask, 0, m0, m1, m2, s0, s1, s2, P, TP)
        _emit(a1, obase, omask, 1, m0, m1, m2, s0, s1, s2, P, TP)
        _emit(a2, obase, omask, 2, m0, m1, m2, s0, s1, s2, P, TP)
