"""verm.kernels.qwen_vl_preprocess against its torch reference, transformers' Qwen2-VL image
processor and a tiny random Qwen2-VL vision tower."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # CPU CI: run the Triton kernels interpreted

import verm.kernels as K  # noqa: E402

from bench_kernels import natural_image  # noqa: E402  (bench/ is on sys.path via conftest)

DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")
STEP = 1 / 255 / 0.26130258  # one uint8 step after CLIP normalisation (largest of the 3 channels)


def hf_processor(**kw):
    """transformers' Qwen2-VL image processor: the fast (torchvision) one where it imports, else PIL."""
    try:
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

        return Qwen2VLImageProcessor(**kw), "torchvision"
    except Exception:  # torchvision missing or broken
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
            Qwen2VLImageProcessorPil,
        )

        return Qwen2VLImageProcessorPil(**kw), "pil"


def test_smart_resize_matches_transformers():
    try:
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
            smart_resize as hf_smart_resize,
        )
    except ImportError:  # transformers before the PIL/torchvision split
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import (
            smart_resize as hf_smart_resize,
        )

    rng = np.random.default_rng(0)
    for _ in range(300):
        h, w = (int(x) for x in rng.integers(1, 3000, 2))
        if max(h, w) / min(h, w) > 200:
            continue
        for factor, lo, hi in ((28, 56 * 56, 28 * 28 * 1280), (32, 65536, 16777216), (28, 3136, 12845056)):
            assert K.smart_resize(h, w, factor, lo, hi) == hf_smart_resize(h, w, factor, lo, hi)
    with pytest.raises(ValueError, match="aspect ratio"):
        K.smart_resize(10, 3000)


SIZES = [(60, 90), (57, 31), (100, 77), (29, 150), (8, 9)]


@pytest.mark.parametrize("algorithm", ["two-pass", "one-pass"])
@pytest.mark.parametrize("preset", ["qwen2-vl", "qwen3-vl"])
def test_fused_matches_torch_reference(preset, algorithm, monkeypatch):
    monkeypatch.setenv("VERM_QWEN_VL_ALGO", algorithm)
    rng = np.random.default_rng(1)
    cfg = dict(K.PRESETS[preset])
    cfg.update(min_pixels=cfg["patch_size"] ** 2 * 4, max_pixels=(cfg["patch_size"] * 6) ** 2)
    f = cfg["patch_size"] * 2
    # plus sides that keep their size (the two-pass kernel copies instead of resampling them)
    sizes = SIZES + [(2 * f, 3 * f), (2 * f, 3 * f - 5), (3 * f - 4, 2 * f)]
    imgs = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]  # noise: worst case
    imgs.append(rng.integers(0, 256, (40, 50), dtype=np.uint8))  # grayscale
    imgs.append(torch.from_numpy(rng.integers(0, 256, (45, 33, 4), dtype=np.uint8)).to(DEV))  # RGBA
    pv, thw = K.qwen_vl_preprocess(imgs, device=DEV, **cfg)
    # The reference runs on the CPU: torch's CPU antialiased bicubic is the canonical one (it
    # matches PIL); its CUDA twin rounds a few percent of pixels one uint8 step differently.
    pr, thw_r = K.qwen_vl_preprocess_reference(
        [im.cpu() if isinstance(im, torch.Tensor) else im for im in imgs], device="cpu", **cfg)
    pr = pr.to(pv.device)
    assert pv.dtype == torch.float32 and pv.shape == pr.shape
    assert pv.shape[1] == 3 * 2 * cfg["patch_size"] ** 2
    assert torch.equal(thw.cpu(), thw_r.cpu())
    assert int(thw.prod(-1).sum()) == pv.shape[0]
    d = (pv - pr).abs()
    step = 1 / 255 / min(cfg["std"])
    assert d.max().item() <= step + 1e-4  # at most one uint8 rounding step apart
    if pv.device.type == "cpu":
        # Same float ops as the reference: identical almost everywhere. On CUDA the kernel's
        # fused multiply-adds round a few percent of values one uint8 step the other way.
        assert (d > 1e-4).float().mean().item() < 2e-3


def test_natural_images_match_transformers():
    rng = np.random.default_rng(2)
    imgs = [natural_image(rng, h, w) for h, w in ((120, 200), (213, 171), (64, 400))]
    proc, _ = hf_processor(min_pixels=56 * 56, max_pixels=140 * 140)
    want = proc(imgs, return_tensors="pt")
    pv, thw = K.qwen_vl_preprocess(imgs, device=DEV, min_pixels=56 * 56, max_pixels=140 * 140)
    assert torch.equal(thw.cpu(), want["image_grid_thw"])
    d = (pv.cpu() - want["pixel_values"]).abs()
    assert d.max().item() <= 2e-2
    assert d.mean().item() < 4e-3


def test_patch_processor_drop_in():
    rng = np.random.default_rng(3)
    imgs = [natural_image(rng, 70, 110), natural_image(rng, 130, 60)]
    proc, _ = hf_processor(min_pixels=56 * 56, max_pixels=112 * 112)
    want = proc(imgs, return_tensors="pt")
    assert K.patch_processor(proc, device=DEV) is proc
    got = proc(imgs, return_tensors="pt")
    assert torch.equal(got["image_grid_thw"].cpu(), want["image_grid_thw"])
    assert (got["pixel_values"].cpu() - want["pixel_values"]).abs().max().item() <= 2e-2
    direct, _ = K.qwen_vl_preprocess(imgs, device=DEV, min_pixels=56 * 56, max_pixels=112 * 112)
    assert torch.equal(got["pixel_values"], direct)
    # calls the kernel cannot serve (here: nearest-neighbour resampling) go to the original
    plain, _ = hf_processor(min_pixels=56 * 56, max_pixels=112 * 112)
    want_nn = plain(imgs, resample=0, return_tensors="pt")
    got_nn = proc(imgs, resample=0, return_tensors="pt")
    assert torch.equal(got_nn["pixel_values"], want_nn["pixel_values"])
    assert not torch.allclose(got_nn["pixel_values"], want["pixel_values"])
    assert K.patch_processor(proc) is proc  # idempotent


def test_tiny_vision_tower_gives_close_outputs():
    from transformers.models.qwen2_vl.configuration_qwen2_vl import Qwen2VLVisionConfig
    from transformers.models.qwen2_vl.modeling_qwen2_vl import Qwen2VisionTransformerPretrainedModel

    torch.manual_seed(0)
    cfg = Qwen2VLVisionConfig(depth=2, embed_dim=32, hidden_size=48, num_heads=2, mlp_ratio=2,
                              patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
    model = Qwen2VisionTransformerPretrainedModel._from_config(cfg).eval()
    rng = np.random.default_rng(4)
    imgs = [natural_image(rng, 100, 150), natural_image(rng, 77, 61)]
    proc, _ = hf_processor(min_pixels=56 * 56, max_pixels=112 * 112)
    want = proc(imgs, return_tensors="pt")
    pv, thw = K.qwen_vl_preprocess(imgs, device=DEV, min_pixels=56 * 56, max_pixels=112 * 112)
    with torch.no_grad():
        a = model(want["pixel_values"], grid_thw=want["image_grid_thw"])
        b = model(pv.cpu(), grid_thw=thw.cpu())
    a = getattr(a, "pooler_output", a)
    b = getattr(b, "pooler_output", b)
    if isinstance(a, tuple):
        a, b = a[0], b[0]
    assert a.shape == b.shape
    rel_in = ((pv.cpu() - want["pixel_values"]).norm() / want["pixel_values"].norm()).item()
    rel = ((a - b).norm() / a.norm()).item()
    assert rel < 3e-2, (rel, rel_in)


def test_inputs_and_errors():
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    from PIL import Image

    kw = dict(device=DEV, max_pixels=56 * 56 * 2)
    a, _ = K.qwen_vl_preprocess([img], **kw)
    b, _ = K.qwen_vl_preprocess([Image.fromarray(img)], **kw)
    c, _ = K.qwen_vl_preprocess(torch.from_numpy(img)[None], **kw)  # [N, H, W, C] batch
    d, _ = K.qwen_vl_preprocess(torch.from_numpy(img).permute(2, 0, 1), **kw)  # CHW
    assert torch.equal(a, b) and torch.equal(a, c) and torch.equal(a, d)
    # PIL RGBA / palette images
    rgba = np.concatenate([img, rng.integers(0, 256, (40, 60, 1), dtype=np.uint8)], axis=2)
    f, _ = K.qwen_vl_preprocess([Image.fromarray(rgba, "RGBA")], **kw)
    assert torch.equal(a, f)
    pal = Image.fromarray(img).convert("P")
    g, _ = K.qwen_vl_preprocess([pal], **kw)
    h, _ = K.qwen_vl_preprocess([np.asarray(pal.convert("RGB"))], **kw)
    assert torch.equal(g, h)
    e, _ = K.qwen_vl_preprocess([img], out_dtype=torch.bfloat16, **kw)
    assert e.dtype == torch.bfloat16 and (e.float() - a).abs().max() < 3e-2
    with pytest.raises(ValueError, match="no images"):
        K.qwen_vl_preprocess([])
    with pytest.raises(TypeError, match="uint8"):
        K.qwen_vl_preprocess([img.astype(np.float32)])
    with pytest.raises(ValueError, match="aspect ratio"):
        K.qwen_vl_preprocess([np.zeros((2, 500, 3), np.uint8)])
    with pytest.raises(ValueError, match="channels"):
        K.qwen_vl_preprocess([np.zeros((20, 20, 2), np.uint8)])
