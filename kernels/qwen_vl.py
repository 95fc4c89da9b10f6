"""Fused Qwen2/2.5/3-VL image preprocessing: smart_resize -> antialiased bicubic resize -> rescale
-> normalise -> patchify, one Triton launch per batch of images of any sizes.

Output layout and ``smart_resize`` sizes match transformers' ``Qwen2VLImageProcessorFast``
(torchvision backend): ``pixel_values`` is ``[sum(grid_h * grid_w), 3 * temporal_patch_size *
patch_size**2]`` float32 with patches ordered by merge window, ``image_grid_thw`` is ``[n, 3]`` int64.
The resize matches torch's antialiased bicubic (``F.interpolate(..., antialias=True)``, Keys a=-0.5,
the kernel transformers' fast processor runs), followed like there by clamping and rounding to uint8.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

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
        if img.mode not in ("RGB", "L", "RGBA"):
            img = img.convert("RGB")
        arr = np.asarray(img)
        return arr if arr.ndim == 3 else arr[:, :, None]
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


def _default_device(imgs):
    import torch

    for im in imgs:
        if isinstance(im, torch.Tensor) and im.device.type != "cpu":
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
_KERNEL = None


def _host_tensor(im):
    import warnings

    import torch

    if isinstance(im, torch.Tensor):
        return im
    with warnings.catch_warnings():  # read-only arrays (np.asarray of PIL images) are only read
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(np.ascontiguousarray(im))


def _pack(imgs, dev):
    """All images' bytes in one uint8 buffer on ``dev`` (one upload for host images)."""
    import torch

    sizes = [int(np.prod(im.shape)) for im in imgs]
    offsets = np.zeros(len(imgs) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    total = int(offsets[-1])
    if all(isinstance(im, torch.Tensor) and im.device == dev for im in imgs):
        return torch.cat([im.reshape(-1) for im in imgs]), offsets
    if dev.type == "cuda":
        with _STAGING.lock:
            host = _STAGING.get(total)
            for im, o, n in zip(imgs, offsets[:-1], sizes):
                host[o:o + n].copy_(_host_tensor(im).reshape(-1))
            out = host.to(dev, non_blocking=True)
            _STAGING.done(torch.cuda.current_stream(dev))
        return out, offsets
    parts = [_host_tensor(im).reshape(-1).cpu() for im in imgs]
    return torch.cat(parts).to(dev), offsets


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
    global _KERNEL
    if _KERNEL is None:
        from ._qwen_vl_triton import preprocess_kernel

        _KERNEL = preprocess_kernel
    import triton

    a, b = _affine(mean, std, rescale_factor, do_rescale, do_normalize)
    factor = patch_size * merge_size
    n = len(imgs)
    meta = np.zeros((n, 8), dtype=np.int64)
    cum = np.zeros(n + 1, dtype=np.int64)
    max_scale = 0.0
    grids = []
    for i, im in enumerate(imgs):
        h, w, c = (int(s) for s in im.shape)
        oh, ow = smart_resize(h, w, factor, min_pixels, max_pixels)
        gh, gw = oh // patch_size, ow // patch_size
        grids.append((1, gh, gw))
        meta[i, 1:6] = (h, w, oh, ow, c)
        meta[i, 6] = cum[i]
        cum[i + 1] = cum[i] + gh * gw
        max_scale = max(max_scale, h / oh, w / ow)
    src, offsets = _pack(imgs, dev)
    meta[:, 0] = offsets[:-1]
    support = 2.0 * max(max_scale, 1.0)
    kp = triton.next_power_of_2(int(math.ceil(2 * support)) + 2)
    rows = (patch_size - 1) * max(max_scale, 1.0) + 2 * support + 3
    rp = max(16, triton.next_power_of_2(int(math.ceil(rows))))
    bp = triton.next_power_of_2(patch_size)
    total = int(cum[-1])
    d = 3 * temporal_patch_size * patch_size * patch_size
    out = torch.empty((total, d), device=dev, dtype=out_dtype or torch.float32)
    meta_t = torch.from_numpy(meta)
    cum_t = torch.from_numpy(cum[:-1].copy())
    if dev.type == "cuda":
        meta_t = meta_t.pin_memory().to(dev, non_blocking=True)
        cum_t = cum_t.pin_memory().to(dev, non_blocking=True)
    a = [float(np.float32(x)) for x in a]
    b = [float(np.float32(x)) for x in b]
    _KERNEL[(total,)](
        src, meta_t, cum_t, out, n, a[0], a[1], a[2], b[0], b[1], b[2],
        P=patch_size, MERGE=merge_size, TP=temporal_patch_size, BP=bp, RP=rp, KP=kp,
        LOGN=max(1, int(math.ceil(math.log2(n + 1)))),
        num_warps=4 if not interpreting() else 1,
    )
    grid_thw = torch.tensor(grids, dtype=torch.long).to(dev, non_blocking=True)
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
