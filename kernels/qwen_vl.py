"""Fused Qwen2/2.5/3-VL image preprocessing: smart_resize -> antialiased bicubic resize -> rescale
-> normalise -> patchify, one Triton launch per batch of images of any sizes.

Output layout and ``smart_resize`` sizes match transformers' ``Qwen2VLImageProcessorFast``
(torchvision backend): ``pixel_values`` is ``[sum(grid_h * grid_w), 3 * temporal_patch_size *
patch_size**2]`` float32 with patches ordered by merge window, ``image_grid_thw`` is ``[n, 3]`` int64.
The resize matches torch's antialiased bicubic (``F.interpolate(..., antialias=True)``, Keys a=-0.5,
the kernel transformers' fast processor runs), followed like there by clamping and rounding to uint8.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ._backend import interpreting, use_triton

OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

#: transformers' Qwen2VLImageProcessor defaults (Qwen2-VL)
QWEN2_VL: dict[str, Any] = dict(
    patch_size=14, merge_size=2, temporal_patch_size=2, min_pixels=56 * 56, max_pixels=28 * 28 * 1280,
    mean=OPENAI_CLIP_MEAN, std=OPENAI_CLIP_STD,
)
#: Qwen2.5-VL checkpoints' preprocessor_config.json
QWEN2_5_VL: dict[str, Any] = dict(QWEN2_VL, max_pixels=12845056)
#: Qwen3-VL checkpoints' preprocessor_config.json (16-pixel patches, mean = std = 0.5)
QWEN3_VL: dict[str, Any] = dict(
    patch_size=16, merge_size=2, temporal_patch_size=2, min_pixels=65536, max_pixels=16777216,
    mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
)
PRESETS = {"qwen2-vl": QWEN2_VL, "qwen2.5-vl": QWEN2_5_VL, "qwen3-vl": QWEN3_VL}


def smart_resize(height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56,
                 max_pixels: int = 14 * 14 * 4 * 1280) -> tuple[int, int]:
    """Qwen-VL's target size: both sides multiples of ``factor``, area within [min, max] pixels,
    aspect ratio kept as closely as possible (same arithmetic as transformers)."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image has an empty side: {height}x{width}")
    if max(height, width) / min(height, width) > 200:
        raise ValueError(
            f"absolute aspect ratio must be smaller than 200, got {max(height, width) / min(height, width)}"
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


# ----------------------------------------------------------------------------- input handling


def _to_hwc(img):
    """uint8 HWC view of a PIL image / numpy array / torch tensor (no copy where possible)."""
    import torch

    if hasattr(img, "mode") and hasattr(img, "size") and not isinstance(img, (np.ndarray, torch.Tensor)):
        return _PilImage(img)
    if isinstance(img, np.ndarray):
        arr = img
    elif isinstance(img, torch.Tensor):
        arr = img
    else:
        raise TypeError(f"unsupported image type {type(img).__name__}")
    if arr.dtype not in (np.uint8, torch.uint8):
        raise TypeError(f"images must be uint8, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"images must be HWC (or HW), got shape {tuple(arr.shape)}")
    if arr.shape[-1] not in (1, 3, 4) and arr.shape[0] in (1, 3, 4):  # CHW tensor
        arr = arr.permute(1, 2, 0) if isinstance(arr, torch.Tensor) else arr.transpose(1, 2, 0)
    if arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"images must have 1, 3 or 4 channels, got shape {tuple(arr.shape)}")
    return arr


_PIL_MODES = frozenset({"RGB", "L", "RGBA"})  # read as they are; other modes are converted to RGB


class _ArrowSchema(ctypes.Structure):
    pass


_ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p), ("name", ctypes.c_char_p), ("metadata", ctypes.c_char_p),
    ("flags", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(_ArrowSchema))), ("dictionary", ctypes.c_void_p),
    ("release", ctypes.c_void_p), ("private_data", ctypes.c_void_p),
]


class _ArrowArray(ctypes.Structure):
    pass


_ArrowArray._fields_ = [
    ("length", ctypes.c_int64), ("null_count", ctypes.c_int64), ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(_ArrowArray))), ("dictionary", ctypes.c_void_p),
    ("release", ctypes.c_void_p), ("private_data", ctypes.c_void_p),
]

_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _pil_view(img):
    """Zero-copy ``([H, W, C] uint8 view, keep-alive)`` of a PIL image's own pixel memory, or None.

    Pillow (>= 11.2) exports its pixel storage through the Arrow C data interface: RGB/RGBA as 4
    bytes per pixel (RGB padded to RGBX), L as 1.  Reading it skips ``tobytes``, which repacks
    every row while holding the GIL.  The view is valid while the returned keep-alive (the
    exported capsules, which hold a reference on Pillow's image memory) lives.

    Only images that Pillow allocated itself are read this way: memory-mapped or borrowed images
    (``readonly``) have no block Pillow's exporter can name (its export dereferences a null block
    list for them), and images split over several blocks (over 16 MB by default) are refused by
    Pillow; both take the copying path.
    """
    if img.mode not in _PIL_MODES or not hasattr(img, "__arrow_c_array__"):
        return None
    img.load()
    if img.readonly:
        return None
    channels = 1 if img.mode == "L" else 4
    w, h = img.size
    n = w * h
    try:
        caps = img.__arrow_c_array__()
        schema = _ArrowSchema.from_address(_capsule_pointer(caps[0], b"arrow_schema"))
        arr = _ArrowArray.from_address(_capsule_pointer(caps[1], b"arrow_array"))
        if arr.length != n or arr.offset != 0:
            return None
        if channels == 4:
            if (schema.format != b"+w:4" or schema.n_children != 1 or arr.n_children != 1
                    or schema.children[0].contents.format != b"C"):
                return None
            arr = arr.children[0].contents
            if arr.length != 4 * n or arr.offset != 0:
                return None
        elif schema.format != b"C" or arr.n_children != 0:
            return None
        if arr.n_buffers != 2 or not arr.buffers[1]:
            return None
        buf = (ctypes.c_uint8 * (n * channels)).from_address(arr.buffers[1])
    except Exception:  # noqa: BLE001 - multi-block images (ValueError) or an unexpected layout: copy
        return None
    return np.frombuffer(buf, dtype=np.uint8).reshape(h, w, channels), caps


class _PilImage:
    """A PIL image whose pixels are read only when they are staged (files still to decode, and
    modes to convert, in worker threads).  RGB and RGBA images are staged as 4 bytes per pixel,
    the layout of Pillow's own storage, so that its pixels can be read without a conversion."""

    __slots__ = ("img", "shape", "_keep")

    def __init__(self, img) -> None:
        self.img = img
        self.shape = (img.height, img.width, 1 if img.mode == "L" else 4)
        self._keep = None

    def array(self) -> np.ndarray:
        """[H, W, C] uint8 pixels: a view of Pillow's memory where it exports one (kept valid
        while this object lives), else a converted copy (C = 3 for RGB then)."""
        img = self.img if self.img.mode in _PIL_MODES else self.img.convert("RGB")
        found = _pil_view(img)
        if found is not None:
            view, self._keep = found
            return view
        arr = np.asarray(img)
        return arr if arr.ndim == 3 else arr[:, :, None]


def _normalise_list(images) -> list:
    import torch

    if isinstance(images, (np.ndarray, torch.Tensor)) and images.ndim == 4:
        return [images[i] for i in range(images.shape[0])]
    if not isinstance(images, (list, tuple)):
        images = [images]
    out: list = []
    for im in images:
        if isinstance(im, (list, tuple)):
            out.extend(_normalise_list(im))
        else:
            out.append(im)
    if not out:
        raise ValueError("no images given")
    return out


def _affine(mean, std, rescale_factor, do_rescale, do_normalize):
    """(x - a) / b with a, b as transformers fuses rescale and normalise."""
    mean = [float(m) for m in (mean if isinstance(mean, Sequence) else [mean] * 3)]
    std = [float(s) for s in (std if isinstance(std, Sequence) else [std] * 3)]
    if len(mean) != 3 or len(std) != 3:
        raise ValueError("mean and std need 3 values (RGB)")
    if do_rescale and do_normalize:
        return [m * (1.0 / rescale_factor) for m in mean], [s * (1.0 / rescale_factor) for s in std]
    if do_normalize:
        return mean, std
    if do_rescale:
        return [0.0] * 3, [1.0 / rescale_factor] * 3
    return [0.0] * 3, [1.0] * 3


# ----------------------------------------------------------------------------- torch reference


def _patchify(x, patch_size: int, merge_size: int, temporal_patch_size: int):
    """[3, H, W] -> [grid_h * grid_w, 3 * T * P * P] in Qwen2-VL's merge-window order."""
    c, h, w = x.shape
    gh, gw = h // patch_size, w // patch_size
    p = x.reshape(c, gh // merge_size, merge_size, patch_size, gw // merge_size, merge_size, patch_size)
    p = p.permute(1, 4, 2, 5, 0, 3, 6)
    p = p.unsqueeze(5).expand(-1, -1, -1, -1, -1, temporal_patch_size, -1, -1)
    return p.reshape(gh * gw, c * temporal_patch_size * patch_size * patch_size), gh, gw


def qwen_vl_preprocess_reference(
    images, *, patch_size: int = 14, merge_size: int = 2, temporal_patch_size: int = 2,
    min_pixels: int = 56 * 56, max_pixels: int = 28 * 28 * 1280, mean=OPENAI_CLIP_MEAN,
    std=OPENAI_CLIP_STD, rescale_factor: float = 1 / 255, do_rescale: bool = True,
    do_normalize: bool = True, device=None, out_dtype=None,
):
    """Plain-torch reference of :func:`qwen_vl_preprocess` (one image at a time, unfused)."""
    import torch
    import torch.nn.functional as F

    imgs = [_to_hwc(im) for im in _normalise_list(images)]
    a, b = _affine(mean, std, rescale_factor, do_rescale, do_normalize)
    dev = torch.device(device) if device is not None else _default_device(imgs)
    a_t = torch.tensor(a, dtype=torch.float32, device=dev)[:, None, None]
    b_t = torch.tensor(b, dtype=torch.float32, device=dev)[:, None, None]
    pvs, grids = [], []
    factor = patch_size * merge_size
    for im in imgs:
        t = _host_tensor(im).to(dev)
        if t.shape[-1] == 1:
            t = t.expand(-1, -1, 3)
        t = t[..., :3].permute(2, 0, 1).float()
        h, w = t.shape[-2:]
        oh, ow = smart_resize(h, w, factor, min_pixels, max_pixels)
        if (oh, ow) != (h, w):
            t = F.interpolate(t[None], size=(oh, ow), mode="bicubic", antialias=True, align_corners=False)[0]
            t = t.clamp_(0, 255).round_()
        t = (t - a_t) / b_t
        pv, gh, gw = _patchify(t, patch_size, merge_size, temporal_patch_size)
        pvs.append(pv)
        grids.append([1, gh, gw])
    pv = torch.cat(pvs)
    if out_dtype is not None:
        pv = pv.to(out_dtype)
    return pv, torch.tensor(grids, dtype=torch.long, device=dev)


# ----------------------------------------------------------------------------- fused path


def _on_device(im) -> bool:
    """A tensor already in device memory (read there, never staged through the host)."""
    import torch

    return isinstance(im, torch.Tensor) and im.device.type != "cpu"


def _default_device(imgs):
    import torch

    for im in imgs:
        if _on_device(im):
            return im.device
    return torch.device("cuda") if use_triton("cuda") else torch.device("cpu")


class _PinnedStaging:
    """A reusable pinned host buffer for one batched upload per call."""

    def __init__(self) -> None:
        self.buf = None
        self.event = None
        self.lock = threading.Lock()

    def get(self, nbytes: int):
        import torch

        if self.event is not None:
            self.event.synchronize()
        if self.buf is None or self.buf.numel() < nbytes:
            self.buf = torch.empty(max(nbytes, 1 << 20), dtype=torch.uint8, pin_memory=True)
        return self.buf[:nbytes]

    def done(self, stream) -> None:
        import torch

        self.event = torch.cuda.Event()
        self.event.record(stream)


_STAGING = _PinnedStaging()


def _host_array(im):
    """A host image's bytes as an [H, W, C] numpy array, a view of the caller's memory where
    possible (PIL images: see :meth:`_PilImage.array`; CPU tensors: their numpy view)."""
    import torch

    if isinstance(im, torch.Tensor):
        return im.numpy()
    if isinstance(im, _PilImage):
        return im.array()
    return im


def _as_tensor(arr):
    """torch view of a host numpy array (torch cannot view negative strides: those are copied)."""
    import warnings

    import torch

    if any(st < 0 for st in arr.strides):
        arr = np.ascontiguousarray(arr)
    with warnings.catch_warnings():  # read-only arrays (np.asarray of PIL images) are only read
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(arr)


def _host_tensor(im):
    """The image as a [H, W, C] torch tensor (device tensors as they are, host images as views)."""
    return im if _on_device(im) else _as_tensor(_host_array(im))


def _write_image(dst, shape, src) -> None:
    """Copy one image ``src`` ([H, W, c] tensor) into its staging slot ``dst`` (flat, laid out as
    ``shape``): the channels both have (a 3-byte RGB copy fills the first 3 bytes of a 4-byte
    slot; a 4-byte source gives a 3-byte slot its RGB); the kernels read only those."""
    c = min(int(src.shape[2]), int(shape[2]))
    dst.view(shape)[..., :c].copy_(src[..., :c])


_UPLOAD_BYTES = 16 << 20  # staged bytes per host-to-device copy + kernel launch (the middle runs)
_POOL_LOCK = threading.Lock()
_DECODE_THREADS = None
_STAGER: list = []  # [verm._core.HostStager or None], set on first use
_INHERITED: list = []  # stagers a forked child inherited without their threads: never destroyed


def _reset_after_fork() -> None:
    """A forked child has none of the parent's threads: locks that another thread held at the
    fork, and pools whose workers are gone, are replaced (the inherited stager is kept alive but
    unused, since destroying it would join threads that do not exist here)."""
    global _POOL_LOCK, _DECODE_THREADS
    _POOL_LOCK = threading.Lock()
    _DECODE_THREADS = None
    _STAGING.lock = threading.Lock()
    _INHERITED.extend(s for s in _STAGER if s is not None)
    _STAGER.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _decode_pool():
    """Process-wide threads for PIL images that still need decoding or conversion (Pillow
    releases the GIL while it decodes)."""
    global _DECODE_THREADS
    with _POOL_LOCK:
        if _DECODE_THREADS is None:
            from concurrent.futures import ThreadPoolExecutor

            _DECODE_THREADS = ThreadPoolExecutor(max_workers=min(16, os.cpu_count() or 1),
                                                 thread_name_prefix="verm-decode")
    return _DECODE_THREADS


def _native_stager():
    """The process-wide native stager (``verm._core.HostStager``), or None where the compiled
    core is absent or ``VERM_NATIVE_STAGING=0``.  Its threads (``VERM_STAGING_THREADS``, default
    three quarters of the cores, at most 12) copy while this thread issues uploads and kernels,
    and repack 4-byte pixels to RGB on the way."""
    if os.environ.get("VERM_NATIVE_STAGING", "1") == "0":
        return None
    with _POOL_LOCK:
        if not _STAGER:
            try:
                from verm import _core

                threads = int(os.environ.get("VERM_STAGING_THREADS", "0") or 0)
                _STAGER.append(_core.HostStager(threads))
            except (ImportError, AttributeError):
                _STAGER.append(None)
    return _STAGER[0]


def _needs_decode(im) -> bool:
    """A PIL image that still has to be decoded or converted (worth a worker thread)."""
    return isinstance(im, _PilImage) and (bool(getattr(im.img, "tile", None)) or im.img.mode not in _PIL_MODES)


def _slot_shapes(imgs, compact: bool) -> list[tuple[int, int, int]]:
    """[H, W, C] of each image's slot in the packed upload: host images with 4 bytes a pixel get
    3-byte RGB slots when ``compact`` (the native stager repacks them), the rest their own."""
    shapes = []
    for im in imgs:
        h, w, c = (int(x) for x in im.shape)
        shapes.append((h, w, 3 if compact and c == 4 and not _on_device(im) else c))
    return shapes


class _Copy(NamedTuple):
    """One staging copy into ``host[start:end]``: ``parts`` (contiguous 1-D tensors) concatenated,
    or, where ``shape`` is set, the one image ``parts[0]`` written through a ``shape`` view."""

    start: int
    end: int
    parts: list
    shape: tuple | None = None


def _copy_plan(shapes, offsets, items) -> list[_Copy]:
    """The torch copies that stage ``items`` (``(k, [H, W, c] CPU tensor)`` pairs, ascending ``k``)
    into their slots (``shapes[k]``) of the flat host buffer.  Consecutive contiguous images that
    fill their slots become one ``torch.cat(..., out=)``: torch's CPU copy spreads each image over
    all cores and the loop runs in C++."""
    plan: list[_Copy] = []
    group: list = []
    start = end = 0
    for k, src in items:
        o0, o1 = int(offsets[k]), int(offsets[k + 1])
        if src.is_contiguous() and src.numel() == o1 - o0 and src.shape[2] == shapes[k][2]:
            if group and o0 != end:
                plan.append(_Copy(start, end, group))
                group = []
            if not group:
                start = o0
            group.append(src.reshape(-1))
            end = o1
            continue
        if group:
            plan.append(_Copy(start, end, group))
            group = []
        plan.append(_Copy(o0, o1, [src], tuple(shapes[k])))
    if group:
        plan.append(_Copy(start, end, group))
    return plan


def _run_copies(host, plan: list[_Copy]) -> None:
    """Carry out a :func:`_copy_plan` into the flat CPU buffer ``host`` on the calling thread
    (measured on a 16-core host, the same copies issued from a second Python thread ran 2-3x
    slower: torch's OpenMP team is the main thread's)."""
    import torch

    for c in plan:
        if c.shape is None:
            torch.cat(c.parts, out=host[c.start:c.end])
        else:
            _write_image(host[c.start:c.end], c.shape, c.parts[0])


class _Staging(NamedTuple):
    """A run's staging work: ``native`` jobs ``(src array, offset, pack)`` for the native stager
    (pack 1: RGBX -> RGB) and the torch ``plan`` for the rest."""

    native: list
    plan: list


def _prepare(shapes, offsets, items, native: bool) -> _Staging:
    """Split ``items`` (``(k, [H, W, c] host array)``) between the native stager (C-contiguous
    arrays whose channels match their slot, or 4-byte pixels into an RGB slot) and torch."""
    jobs, rest = [], []
    for k, arr in items:
        c_src, c_dst = int(arr.shape[2]), shapes[k][2]
        if native and arr.flags.c_contiguous and (c_src == c_dst or (c_src == 4 and c_dst == 3)):
            jobs.append((arr, int(offsets[k]), int(c_src != c_dst)))
        else:
            rest.append((k, _as_tensor(arr)))
    return _Staging(jobs, _copy_plan(shapes, offsets, rest))


def _byte_offsets(shapes) -> np.ndarray:
    sizes = [math.prod(sh) for sh in shapes]
    offsets = np.zeros(len(shapes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


_COPY_STREAMS: dict = {}


def _copy_stream(dev):
    import torch

    with _POOL_LOCK:
        if dev not in _COPY_STREAMS:
            _COPY_STREAMS[dev] = torch.cuda.Stream(dev)
    return _COPY_STREAMS[dev]


def _runs(offsets, n: int, upload_bytes: int) -> list[tuple[int, int]]:
    """Image index ranges ``[lo, hi)`` that are staged, uploaded and computed one after another.

    Runs end at the first image boundary at or past byte marks: a quarter run first (the device
    starts early), full runs of ``upload_bytes``, then a half and a quarter run last (little is
    left to upload and compute once the last copy is done)."""
    total = int(offsets[-1])
    u = max(1, int(upload_bytes))
    tail = total - 3 * u // 4
    marks = {u // 4, tail, total - u // 4}
    pos = u // 4 + u
    while pos < tail - u // 2:
        marks.add(pos)
        pos += u
    cuts = sorted({int(np.searchsorted(offsets, m, side="left")) for m in marks if 0 < m < total})
    bounds = [0] + [c for c in cuts if 0 < c < n] + [n]
    return list(zip(bounds[:-1], bounds[1:]))


def _pack(imgs, shapes, dev, offsets, stager, on_ready=None):
    """All images' bytes in one uint8 buffer on ``dev``, image ``k`` at ``offsets[k]`` laid out as
    ``shapes[k]`` (see :func:`_slot_shapes`); ``on_ready(buffer, lo, hi)`` is called once the
    bytes of images ``[lo, hi)`` are ordered before later work on the current stream.
    ``stager``: the native stager (:func:`_native_stager`) the shapes were chosen for, or None.

    Host images go through a reused pinned buffer in runs (:func:`_runs`).  With the native
    stager, its threads copy run ``i + 1`` while this thread uploads run ``i`` on a copy stream
    and launches its kernels (``on_ready``); this thread prepares run ``i + 1``'s views while run
    ``i`` is copied.  Without it, torch copies on this thread, then uploads and launches.  PIL
    images are read directly from Pillow's memory where it exports it; files still to decode,
    and modes to convert, go to a thread pool first.
    """
    import concurrent.futures as cf

    import torch

    n = len(imgs)
    total = int(offsets[-1])
    ready = on_ready or (lambda buf, lo, hi: None)
    if all(isinstance(im, torch.Tensor) and im.device == dev for im in imgs):
        out = torch.cat([im.reshape(-1) for im in imgs])
        ready(out, 0, n)
        return out
    on_device = [_on_device(im) for im in imgs]
    decoding = {k: _decode_pool().submit(_host_array, imgs[k]) for k in range(n) if _needs_decode(imgs[k])}

    def prepare(lo: int, hi: int) -> _Staging:
        items = [(k, decoding[k].result() if k in decoding else _host_array(imgs[k]))
                 for k in range(lo, hi) if not on_device[k]]
        return _prepare(shapes, offsets, items, stager is not None)

    def start(staged: _Staging, host_np):
        """Hand a run's native jobs to the stager's threads (a ticket to wait on), or None."""
        return stager.submit(host_np, staged.native) if staged.native else None

    ticket = None
    try:
        if dev.type != "cuda":
            out = torch.empty(total, dtype=torch.uint8)
            staged = prepare(0, n)
            ticket = start(staged, out.numpy())
            _run_copies(out, staged.plan)
            for k in range(n):
                if on_device[k]:
                    out[offsets[k]:offsets[k + 1]].copy_(imgs[k].reshape(-1))
            if ticket is not None:
                ticket.wait()
            out = out.to(dev)
            ready(out, 0, n)
            return out
        out = torch.empty(total, dtype=torch.uint8, device=dev)
        compute = torch.cuda.current_stream(dev)
        copy = _copy_stream(dev)
        copy.wait_stream(compute)  # ``out`` was allocated on the compute stream
        out.record_stream(copy)
        runs = _runs(offsets, n, _UPLOAD_BYTES)
        with _STAGING.lock:
            host = _STAGING.get(total)
            try:
                host_np = host.numpy()
                staged = prepare(*runs[0])
                ticket = start(staged, host_np)
                for i, (lo, hi) in enumerate(runs):
                    _run_copies(host, staged.plan)
                    # run i + 1's views are built while the native copies of run i go on
                    staged = prepare(*runs[i + 1]) if i + 1 < len(runs) else None
                    if ticket is not None:
                        ticket.wait()
                    ticket = start(staged, host_np) if staged is not None else None
                    with torch.cuda.stream(copy):
                        k = lo
                        while k < hi:
                            e = k + 1
                            while e < hi and on_device[e] == on_device[k]:
                                e += 1
                            if on_device[k]:
                                for j in range(k, e):
                                    out[offsets[j]:offsets[j + 1]].copy_(imgs[j].reshape(-1))
                            else:  # consecutive host images: one upload
                                out[offsets[k]:offsets[e]].copy_(host[offsets[k]:offsets[e]], non_blocking=True)
                            k = e
                    compute.wait_stream(copy)
                    ready(out, lo, hi)
            finally:
                # the buffer is reused only after every copy into it and upload from it finished
                if ticket is not None:
                    ticket.wait()
                _STAGING.done(copy)
        return out
    finally:
        # no decode job may outlive the call
        for f in decoding.values():
            f.cancel()
        cf.wait(list(decoding.values()))


def qwen_vl_preprocess(
    images, *, patch_size: int = 14, merge_size: int = 2, temporal_patch_size: int = 2,
    min_pixels: int = 56 * 56, max_pixels: int = 28 * 28 * 1280, mean=OPENAI_CLIP_MEAN,
    std=OPENAI_CLIP_STD, rescale_factor: float = 1 / 255, do_rescale: bool = True,
    do_normalize: bool = True, device=None, out_dtype=None,
):
    """Qwen-VL image preprocessing in one fused kernel.

    Args:
        images: uint8 images of any sizes: a list of HWC (or HW / CHW) torch tensors (CPU or
            GPU), numpy arrays or PIL images, or an ``[N, H, W, C]`` tensor.  1-channel images are
            replicated to RGB, a 4th (alpha) channel is dropped.
        patch_size, merge_size, temporal_patch_size, min_pixels, max_pixels, mean, std: the
            processor settings (defaults: Qwen2-VL; see ``QWEN2_VL``, ``QWEN2_5_VL``,
            ``QWEN3_VL`` presets, usable as ``**QWEN3_VL``).
        rescale_factor, do_rescale, do_normalize: as in transformers.
        device: where the outputs go (default: the images' GPU, else CUDA when available).
        out_dtype: pixel_values dtype (default float32).

    Returns:
        ``(pixel_values, image_grid_thw)`` laid out like transformers' Qwen2-VL image processor.
    """
    import torch

    imgs = [_to_hwc(im) for im in _normalise_list(images)]
    dev = torch.device(device) if device is not None else _default_device(imgs)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    kw = dict(patch_size=patch_size, merge_size=merge_size, temporal_patch_size=temporal_patch_size,
              min_pixels=min_pixels, max_pixels=max_pixels, mean=mean, std=std,
              rescale_factor=rescale_factor, do_rescale=do_rescale, do_normalize=do_normalize,
              out_dtype=out_dtype)
    if not use_triton(dev):
        return qwen_vl_preprocess_reference(imgs, device=dev, **kw)
    return _fused(imgs, dev, patch_size, merge_size, temporal_patch_size, min_pixels, max_pixels,
                  mean, std, rescale_factor, do_rescale, do_normalize, out_dtype)


_META_W = 8  # int64 fields per image in the kernels' metadata table
_INDEX_LIMIT = 2**31  # elements of one image (or its resize buffer) the two-pass kernels index in int32
_H_TILE = (4, 64)  # rows x output columns per program of the horizontal pass


def _fused(imgs, dev, patch_size, merge_size, temporal_patch_size, min_pixels, max_pixels, mean, std,
           rescale_factor, do_rescale, do_normalize, out_dtype, algorithm: str | None = None):
    import torch
    import triton

    from . import _qwen_vl_triton as kt

    algorithm = algorithm or os.environ.get("VERM_QWEN_VL_ALGO", "two-pass")
    if algorithm not in ("two-pass", "one-pass"):
        raise ValueError(f"VERM_QWEN_VL_ALGO must be two-pass or one-pass, got {algorithm!r}")
    a, b = _affine(mean, std, rescale_factor, do_rescale, do_normalize)
    factor = patch_size * merge_size
    n = len(imgs)
    by, bx = (32, 64) if interpreting() else _H_TILE  # the interpreter pays per program
    # one int64 table, uploaded once: meta [n, W] | patch starts [n] | h-pass tile starts [n] | grid_thw [n, 3]
    stager = _native_stager()
    shapes = _slot_shapes(imgs, compact=stager is not None)
    targets = [smart_resize(h, w, factor, min_pixels, max_pixels) for h, w, _ in shapes]
    hwc = np.array(shapes, dtype=np.int64).reshape(n, 3)
    ohw = np.array(targets, dtype=np.int64).reshape(n, 2)
    h, w, c, oh, ow = hwc[:, 0], hwc[:, 1], hwc[:, 2], ohw[:, 0], ohw[:, 1]
    n_patches = (oh // patch_size) * (ow // patch_size)
    n_tmp = 3 * h * ow
    n_htiles = -(-h // by) * -(-ow // bx)
    if int((h * w * c).max()) >= _INDEX_LIMIT or int(n_tmp.max()) >= _INDEX_LIMIT:
        # the two-pass kernels index inside an image with int32: images this large (over 2 GB)
        # take the torch path
        return qwen_vl_preprocess_reference(
            imgs, patch_size=patch_size, merge_size=merge_size, temporal_patch_size=temporal_patch_size,
            min_pixels=min_pixels, max_pixels=max_pixels, mean=mean, std=std, rescale_factor=rescale_factor,
            do_rescale=do_rescale, do_normalize=do_normalize, device=dev, out_dtype=out_dtype)
    table = np.zeros(n * (_META_W + 5), dtype=np.int64)
    meta = table[: n * _META_W].reshape(n, _META_W)
    cum = table[n * _META_W: n * (_META_W + 1)]
    hcum = table[n * (_META_W + 1): n * (_META_W + 2)]
    grids = table[n * (_META_W + 2):].reshape(n, 3)
    grids[:, 0] = 1
    grids[:, 1] = oh // patch_size
    grids[:, 2] = ow // patch_size
    cum[1:] = np.cumsum(n_patches)[:-1]
    hcum[1:] = np.cumsum(n_htiles)[:-1]
    meta[:, 1:6] = np.stack([h, w, oh, ow, c], axis=1)
    meta[:, 6] = cum
    meta[:, 7][1:] = np.cumsum(n_tmp)[:-1]
    patches, tmp_elems, htiles = int(n_patches.sum()), int(n_tmp.sum()), int(n_htiles.sum())
    max_sh = max(1.0, float((h / oh).max()))
    max_sw = max(1.0, float((w / ow).max()))
    offsets = _byte_offsets(shapes)
    meta[:, 0] = offsets[:-1]
    # pageable source: the driver copies these few bytes out before returning, with no sync
    table_d = torch.from_numpy(table).to(dev, non_blocking=True)
    meta_d = table_d[: n * _META_W]
    cum_d = table_d[n * _META_W: n * (_META_W + 1)]
    hcum_d = table_d[n * (_META_W + 1): n * (_META_W + 2)]
    grid_thw = table_d[n * (_META_W + 2):].view(n, 3)
    d = 3 * temporal_patch_size * patch_size * patch_size
    out = torch.empty((patches, d), device=dev, dtype=out_dtype or torch.float32)
    a = [float(np.float32(x)) for x in a]
    b = [float(np.float32(x)) for x in b]
    logn = max(1, int(math.ceil(math.log2(n + 1))))
    warps = 1 if interpreting() else 4
    bp = triton.next_power_of_2(patch_size)
    if algorithm == "one-pass":
        src = _pack(imgs, shapes, dev, offsets, stager)
        support = 2.0 * max(max_sh, max_sw)
        kp = triton.next_power_of_2(int(math.ceil(2 * support)) + 2)
        rows = (patch_size - 1) * max(max_sh, max_sw) + 2 * support + 3
        rp = max(16, triton.next_power_of_2(int(math.ceil(rows))))
        kt.preprocess_kernel[(patches,)](
            src, meta_d, cum_d, out, n, a[0], a[1], a[2], b[0], b[1], b[2],
            P=patch_size, MERGE=merge_size, TP=temporal_patch_size, BP=bp, RP=rp, KP=kp, LOGN=logn,
            num_warps=warps,
        )
        return out, grid_thw
    tmp = torch.empty(tmp_elems, device=dev, dtype=torch.float32)
    # taps per output along each axis: at most floor(4 * scale) + 1, one more for fp32 rounding
    kx = int(math.floor(4.0 * max_sw)) + 2
    ky = int(math.floor(4.0 * max_sh)) + 2
    hstart = np.append(hcum, htiles)
    pstart = np.append(cum, patches)

    def launch(src, lo: int, hi: int) -> None:
        # images [lo, hi) are on the device: resize them while later ones are still uploading
        h0, h1 = int(hstart[lo]), int(hstart[hi])
        p0, p1 = int(pstart[lo]), int(pstart[hi])
        if h1 > h0:
            kt.hpass_kernel[(h1 - h0,)](src, meta_d, hcum_d, tmp, n, h0, BY=by, BX=bx, KX=kx, LOGN=logn,
                                        MW=_META_W, num_warps=warps)
        if p1 > p0:
            kt.vpass_kernel[(p1 - p0,)](
                tmp, meta_d, cum_d, out, n, p0, a[0], a[1], a[2], b[0], b[1], b[2],
                P=patch_size, MERGE=merge_size, TP=temporal_patch_size, BP=bp, KY=ky, LOGN=logn,
                MW=_META_W, num_warps=warps,
            )

    _pack(imgs, shapes, dev, offsets, stager, on_ready=launch)
    return out, grid_thw


# ----------------------------------------------------------------------------- transformers drop-in

_PASSTHROUGH_KEYS = {"return_tensors", "do_convert_rgb", "input_data_format", "data_format", "resample",
                     "disable_grouping"}


def patch_processor(processor, *, device=None):
    """Make a transformers Qwen2/2.5/3-VL processor (or its image processor) use the fused kernel.

    The image processor's ``preprocess`` is replaced in place by one that reads the processor's
    own settings (patch/merge/temporal sizes, min/max pixels, mean/std, rescale) and calls
    :func:`qwen_vl_preprocess`; calls it cannot serve (videos, ``do_resize=False``, non-bicubic
    resampling, unknown options) go to the original method.  Returns ``processor``;
    ``processor.image_processor._verm_original_preprocess`` holds the original.
    """
    ip = getattr(processor, "image_processor", processor)
    if getattr(ip, "_verm_original_preprocess", None) is not None:
        return processor
    original = ip.preprocess

    def preprocess(images, *args, **kwargs):
        if args or images is None:
            return original(images, *args, **kwargs)
        unknown = set(kwargs) - _PASSTHROUGH_KEYS - {
            "patch_size", "merge_size", "temporal_patch_size", "min_pixels", "max_pixels", "size",
            "image_mean", "image_std", "do_rescale", "rescale_factor", "do_normalize", "do_resize",
            "device"}
        if unknown or kwargs.get("do_resize", getattr(ip, "do_resize", True)) is False:
            return original(images, *args, **kwargs)
        resample = kwargs.get("resample", getattr(ip, "resample", 3))
        if int(getattr(resample, "value", resample)) != 3:  # PIL BICUBIC
            return original(images, *args, **kwargs)
        size = kwargs.get("size") or getattr(ip, "size", None) or {}
        size = dict(size) if not isinstance(size, dict) else size
        min_px = kwargs.get("min_pixels") or size.get("shortest_edge") or getattr(ip, "min_pixels", 56 * 56)
        max_px = kwargs.get("max_pixels") or size.get("longest_edge") or getattr(ip, "max_pixels", 28 * 28 * 1280)
        try:
            pv, thw = qwen_vl_preprocess(
                images,
                patch_size=kwargs.get("patch_size", ip.patch_size),
                merge_size=kwargs.get("merge_size", ip.merge_size),
                temporal_patch_size=kwargs.get("temporal_patch_size", ip.temporal_patch_size),
                min_pixels=int(min_px), max_pixels=int(max_px),
                mean=kwargs.get("image_mean", ip.image_mean), std=kwargs.get("image_std", ip.image_std),
                rescale_factor=kwargs.get("rescale_factor", ip.rescale_factor),
                do_rescale=kwargs.get("do_rescale", ip.do_rescale),
                do_normalize=kwargs.get("do_normalize", ip.do_normalize),
                device=kwargs.get("device", device),
            )
        except TypeError:
            return original(images, *args, **kwargs)
        from transformers.feature_extraction_utils import BatchFeature

        return BatchFeature(data={"pixel_values": pv, "image_grid_thw": thw})

    ip._verm_original_preprocess = original
    ip.preprocess = preprocess
    return processor
