"""verm._core.HostStager: the native staging copier behind host-image uploads (copies and
RGBX -> RGB repacking on worker threads, bounds checked at the boundary)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from verm import _core


@pytest.mark.parametrize("threads", [1, 3])
def test_copies_and_repacks_land_exactly_in_their_slots(threads):
    """Sizes around the vector widths and the streaming threshold, unaligned offsets, both packs."""
    stager = _core.HostStager(threads)
    assert stager.threads == threads
    rng = np.random.default_rng(0)
    pixel_counts = [1, 15, 16, 17, 63, 1000, 16385, 40_001, 300_007]  # 16385 px RGB > 64 KB
    items, want, off = [], [], 5
    for i, n in enumerate(pixel_counts):
        for pack in (0, 1):
            src = rng.integers(0, 256, (n, 4) if pack else (n, 3), dtype=np.uint8)
            out = src[:, :3].reshape(-1) if pack else src.reshape(-1)
            items.append((src, off, pack))
            want.append((off, out))
            off += out.size + (i % 7)  # gaps keep the next slot unaligned
    dst = np.full(off + 11, 77, np.uint8)
    ticket = stager.submit(dst, items)
    ticket.wait()
    assert ticket.done
    covered = np.zeros(dst.size, bool)
    for o, out in want:
        assert np.array_equal(dst[o:o + out.size], out), o
        covered[o:o + out.size] = True
    assert (dst[~covered] == 77).all()  # nothing written outside the slots


def test_batches_overlap_and_wait_independently():
    stager = _core.HostStager(2)
    rng = np.random.default_rng(1)
    srcs = [rng.integers(0, 256, 3 << 20, dtype=np.uint8) for _ in range(4)]
    dsts = [np.zeros(3 << 20, np.uint8) for _ in range(4)]
    tickets = [stager.submit(d, [(s, 0, 0)]) for s, d in zip(srcs, dsts)]
    for t, s, d in zip(reversed(tickets), reversed(srcs), reversed(dsts)):
        t.wait()
        assert np.array_equal(s, d)
    empty = stager.submit(dsts[0], [])
    empty.wait()
    assert empty.done


def test_bad_jobs_are_rejected_before_anything_is_copied():
    stager = _core.HostStager(1)
    dst = np.zeros(100, np.uint8)
    src = np.arange(64, dtype=np.uint8)
    with pytest.raises(ValueError, match="outside the destination"):
        stager.submit(dst, [(src, 40, 0)])
    with pytest.raises(ValueError, match="outside the destination"):
        stager.submit(dst, [(src, -1, 0)])
    with pytest.raises(ValueError, match="outside the destination"):  # 48 RGB bytes past 60
        stager.submit(dst, [(src, 60, 1)])
    with pytest.raises(ValueError, match="C-contiguous"):
        stager.submit(dst, [(src[::2], 0, 0)])
    with pytest.raises(ValueError, match="multiple of 4"):
        stager.submit(dst, [(src[:7], 0, 1)])
    with pytest.raises(ValueError, match="pack"):
        stager.submit(dst, [(src, 0, 2)])
    with pytest.raises(ValueError, match="tuples"):
        stager.submit(dst, [(src, 0)])
    with pytest.raises(ValueError, match="C-contiguous"):
        stager.submit(np.zeros((10, 20), np.uint8)[:, ::2], [(src[:4], 0, 0)])
    with pytest.raises(ValueError, match="read-only"):  # the destination must be writable
        ro = np.zeros(100, np.uint8)
        ro.flags.writeable = False
        stager.submit(ro, [(src, 0, 0)])
    assert not dst.any()


def test_dropped_ticket_waits_and_keeps_buffers_alive():
    """Dropping a ticket unwaited (or dropping the arrays) cannot free memory under the copy."""
    stager = _core.HostStager(2)
    src = np.random.default_rng(2).integers(0, 256, 8 << 20, dtype=np.uint8)
    dst = np.zeros(8 << 20, np.uint8)
    want = src.copy()
    ticket = stager.submit(dst, [(src, 0, 0)])
    del src, ticket
    gc.collect()
    assert np.array_equal(dst, want)
    del stager  # workers join with nothing queued
