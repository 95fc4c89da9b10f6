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


def test_pil_pixels_read_in_place_or_copied(tmp_path):
    """PIL images are read from Pillow's own memory where it exports it (RGB as RGBX, L), and
    copied otherwise (memory-mapped / borrowed images, files still to decode); every route gives
    the numpy result."""
    from PIL import Image
    from verm.kernels import qwen_vl as qv

    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    kw = dict(device=DEV, max_pixels=56 * 56 * 2)
    want, _ = K.qwen_vl_preprocess([img], **kw)

    rgb = Image.fromarray(img)
    found = qv._pil_view(rgb)
    if hasattr(rgb, "__arrow_c_array__"):  # Pillow >= 11.2 exports its storage
        view, keep = found
        assert view.shape == (40, 60, 4) and np.array_equal(view[..., :3], img)
        gray = rgb.convert("L")
        gview, _ = qv._pil_view(gray)
        assert gview.shape == (40, 60, 1) and np.array_equal(gview[..., 0], np.asarray(gray))
    # memory-mapped image (readonly): never exported, copied instead
    rgba = np.ascontiguousarray(np.concatenate([img, np.full((40, 60, 1), 9, np.uint8)], axis=2))
    mapped = Image.frombuffer("RGBA", (60, 40), rgba.tobytes(), "raw", "RGBA", 0, 1)
    assert mapped.readonly and qv._pil_view(mapped) is None
    # a file opened lazily decodes at staging time
    path = tmp_path / "x.png"
    rgb.save(path)
    for pil in (rgb, mapped, Image.open(path)):
        got, _ = K.qwen_vl_preprocess([pil, img], **kw)
        assert torch.equal(got[: len(got) // 2], want)
    # device tensors between host images (on CUDA: uploaded around them)
    got, _ = K.qwen_vl_preprocess([img, torch.from_numpy(img).to(DEV), rgb, torch.from_numpy(img).to(DEV)], **kw)
    assert torch.equal(got, want.repeat(4, 1))
    gray = rgb.convert("L")
    got, _ = K.qwen_vl_preprocess([gray], **kw)
    ref, _ = K.qwen_vl_preprocess([np.asarray(gray)], **kw)
    assert torch.equal(got, ref)
    # converted RGB copies (3 bytes a pixel) fill the 4-byte slots PIL RGB images are staged in
    slot = torch.full((40 * 60 * 4,), 7, dtype=torch.uint8)
    qv._write_image(slot, (40, 60, 4), torch.from_numpy(img))
    assert torch.equal(slot.view(40, 60, 4)[..., :3], torch.from_numpy(img))
    assert bool((slot.view(40, 60, 4)[..., 3] == 7).all())
    # ... and 4-byte sources give 3-byte slots their RGB
    slot = torch.zeros(40 * 60 * 3, dtype=torch.uint8)
    qv._write_image(slot, (40, 60, 3), torch.from_numpy(np.ascontiguousarray(np.dstack([img, img[..., :1]]))))
    assert torch.equal(slot.view(40, 60, 3), torch.from_numpy(img))
    # a truncated file: Pillow's error, not a crash
    data = path.read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(OSError):
        K.qwen_vl_preprocess([Image.open(tmp_path / "t.png")], **kw)


@pytest.mark.parametrize("native", [False, True], ids=["torch", "native"])
def test_staging_copies_every_route_into_its_slot(native, monkeypatch):
    """The host staging step (run on CPU here): contiguous images (batched into one torch copy, or
    native jobs), strided ones, PIL images read in place (4-byte pixels, repacked to RGB slots by
    the native stager) or converted, all land in their own slots; runs split at byte marks."""
    from PIL import Image
    from verm.kernels import qwen_vl as qv

    monkeypatch.setenv("VERM_NATIVE_STAGING", "1" if native else "0")
    stager = qv._native_stager()
    assert (stager is not None) == native  # the compiled core is part of every install
    rng = np.random.default_rng(11)
    base = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    mapped_rgba = np.ascontiguousarray(np.concatenate([base, base[..., :1]], axis=2))
    raw = [
        base,
        np.ascontiguousarray(base[::-1]),                    # contiguous
        base[:, ::2],                                         # strided
        np.ascontiguousarray(base[:, :, 0]),                  # gray, HW
        Image.fromarray(base),                                # PIL: view where Pillow exports
        Image.fromarray(base).convert("P"),                   # PIL: converted in a worker
        Image.frombuffer("RGBA", (50, 30), mapped_rgba.tobytes(), "raw", "RGBA", 0, 1),  # mapped
        base[::-1],                                           # negative strides
    ]
    imgs = [qv._to_hwc(im) for im in raw]
    shapes = qv._slot_shapes(imgs, compact=native)
    assert [sh[2] for sh in shapes] == [3, 3, 3, 1, 3 if native else 4, 3 if native else 4, 3 if native else 4, 3]
    offsets = qv._byte_offsets(shapes)
    want = [base, base[::-1], base[:, ::2], base[:, :, :1], base, np.asarray(raw[5].convert("RGB")), mapped_rgba,
            base[::-1]]

    def stage(host, ks):
        staged = qv._prepare(shapes, offsets, [(k, qv._host_array(imgs[k])) for k in ks], native)
        ticket = stager.submit(host.numpy(), staged.native) if staged.native else None
        qv._run_copies(host, staged.plan)
        if ticket is not None:
            ticket.wait()
        return staged

    host = torch.full((int(offsets[-1]),), 0, dtype=torch.uint8)
    staged = stage(host, range(len(imgs)))
    for k, w in enumerate(want):
        slot = host[offsets[k]:offsets[k + 1]].view(shapes[k])
        c = min(w.shape[2], shapes[k][2])
        assert np.array_equal(slot[..., :c].numpy(), w[..., :c]), k
    if native:  # contiguous sources are native jobs (the mapped RGBA image repacked), the rest torch
        assert sorted(o for _, o, _ in staged.native) == [int(offsets[k]) for k in (0, 1, 3, 4, 5, 6)]
        assert {o: p for _, o, p in staged.native}[int(offsets[6])] == 1
        assert [c.start for c in staged.plan] == [int(offsets[2]), int(offsets[7])]
    else:  # contiguous neighbours 0 and 1 are one concatenation, the strided image 2 a write
        plan = staged.plan
        assert plan[0].shape is None and len(plan[0].parts) == 2 and (plan[0].start, plan[0].end) == (0, offsets[2])
        assert plan[1].shape == shapes[2] and len(plan[1].parts) == 1
    # a subset (device images between them are skipped): the other slots are left alone
    host.zero_()
    stage(host, [1, 4, 6])
    assert not bool(host[offsets[0]:offsets[1]].any()) and not bool(host[offsets[5]:offsets[6]].any())
    assert np.array_equal(host[offsets[6]:offsets[7]].view(shapes[6]).numpy()[..., :3], base)
    assert imgs[4].shape == (30, 50, 4) and imgs[3].shape == (30, 50, 1)
    # a quarter run first, full runs, a half and a quarter run last (cut at image boundaries)
    offsets = np.arange(0, 41, 1)
    assert qv._runs(offsets, 40, 8) == [(0, 2), (2, 10), (10, 18), (18, 26), (26, 34), (34, 38), (38, 40)]
    assert qv._runs(np.array([0, 5, 10, 30, 31]), 4, 10) == [(0, 1), (1, 3), (3, 4)]
    assert qv._runs(np.array([0, 5, 10, 30, 31]), 4, 1 << 40) == [(0, 4)]


def test_native_and_torch_staging_give_the_same_pixels(monkeypatch):
    """Host images staged by the native stager (4-byte pixels repacked into RGB slots) and by
    torch copies (4-byte slots) preprocess to identical outputs."""
    from PIL import Image

    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (36, 44, 3), dtype=np.uint8)
    rgba = np.ascontiguousarray(np.dstack([rgb[::-1], rgb[..., :1]]))
    imgs = [Image.fromarray(rgb), rgba, rgb[:, ::2], Image.fromarray(rgb).convert("L"), rgb[::-1],
            torch.from_numpy(rgb)]
    got = {}
    for flag in ("0", "1"):
        monkeypatch.setenv("VERM_NATIVE_STAGING", flag)
        got[flag] = K.qwen_vl_preprocess(imgs, device=DEV, max_pixels=56 * 56 * 2)
    assert torch.equal(got["0"][0], got["1"][0]) and torch.equal(got["0"][1], got["1"][1])
    ref, _ = K.qwen_vl_preprocess_reference(imgs, device=DEV, max_pixels=56 * 56 * 2)
    assert (got["1"][0] - ref).abs().max() < 2e-2


def test_forked_child_gets_its_own_staging_threads():
    """A child forked after staging has none of the parent's threads: it starts its own stager
    and decode pool instead of queueing work nobody runs (e.g. DataLoader workers)."""
    import time

    from verm.kernels import qwen_vl as qv

    assert qv._native_stager() is not None
    assert qv._decode_pool().submit(int, "3").result() == 3
    pid = os.fork()
    if pid == 0:  # child: report through the exit code only
        code = 1
        try:
            src = np.arange(3 << 20, dtype=np.uint8)
            dst = np.zeros_like(src)
            qv._native_stager().submit(dst, [(src, 0, 0)]).wait()
            ok = np.array_equal(src, dst) and qv._decode_pool().submit(int, "7").result(timeout=30) == 7
            code = 0 if ok else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung on inherited staging threads")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0


def test_images_past_the_int32_index_limit_take_the_torch_path(monkeypatch):
    """The two-pass kernels index inside an image with int32; a batch with a bigger image (over
    2 GB; here the limit is lowered) is computed by the torch reference instead."""
    from verm.kernels import qwen_vl as qv

    rng = np.random.default_rng(3)
    imgs = [rng.integers(0, 256, (40, 60, 3), dtype=np.uint8), rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)]
    calls = []
    reference = qv.qwen_vl_preprocess_reference
    monkeypatch.setattr(qv, "qwen_vl_preprocess_reference", lambda *a, **k: calls.append(1) or reference(*a, **k))
    kw = dict(device=DEV, max_pixels=56 * 56 * 2)
    fused, _ = K.qwen_vl_preprocess(imgs, **kw)
    assert calls == [] or not qv.use_triton(DEV)
    monkeypatch.setattr(qv, "_INDEX_LIMIT", 40 * 60 * 3)
    got, thw = K.qwen_vl_preprocess(imgs, **kw)
    assert calls  # routed to the reference
    want, want_thw = reference(imgs, **kw)
    assert torch.equal(got, want) and torch.equal(thw, want_thw)
    assert (fused - want).abs().max() < 2e-2
