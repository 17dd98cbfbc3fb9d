"""Emulation-lane tests of kernels/montecarlo.cu: the fused Philox estimate_pi kernel.

The reference is an independent NumPy implementation of the same stream (Philox-4x32-10 in
uint64 arithmetic, checked against Random123's known-answer vectors) and the same exact
integer in-circle test; the per-block partial counts must match bit for bit.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/, package or not

from cuda_emu import emu_launch  # noqa: E402
from cuda_emu.coverage import covers  # noqa: E402
from cuda_emu.runner import CXX  # noqa: E402

needs_cxx = pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")

_MASK = np.uint64(0xFFFFFFFF)
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)


def philox4x32_10(ctr, key):
    """Philox-4x32-10 of counters ``ctr`` (4 uint32 arrays) under ``key`` (2 ints)."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in ctr)
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for _ in range(10):
        p0, p1 = _M0 * c0, _M1 * c2  # 32 x 32 bits: exact in uint64
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & _MASK, (p0 >> 32) ^ c3 ^ k1, p0 & _MASK
        k0, k1 = (k0 + _W0) & _MASK, (k1 + _W1) & _MASK
    return c0, c1, c2, c3


_FIELD = np.uint64(0x1FFFFF)  # 21 bits


def _odd(field):
    return 2 * (field & _FIELD) + np.uint64(1)


def _inside(fx, fy):
    """The exact test of the kernel: (2a+1)^2 + (2b+1)^2 <= 2^44 for 21-bit fields a, b."""
    vx, vy = _odd(fx), _odd(fy)
    return (vx * vx + vy * vy <= np.uint64(1 << 44)).astype(np.uint64)


def reference_block_counts(seed, n_points, grid, block):
    """Per-block counts the kernel must produce, from the NumPy stream and its grid stride.

    Philox block i gives the points 3i, 3i+1, 3i+2: six consecutive 21-bit fields of its 128
    output bits, cut here word by word (the kernel uses 64-bit shifts).
    """
    n_blocks = -(-n_points // 3)
    i = np.arange(n_blocks, dtype=np.uint64)
    w0, w1, w2, w3 = philox4x32_10((i & _MASK, i >> np.uint64(32), np.full_like(i, seed[2]),
                                    np.full_like(i, seed[3])), (seed[0], seed[1]))  # fmt: skip
    s = np.uint64
    points = [
        (w0, (w0 >> s(21)) | (w1 << s(11))),  # bits [0, 21) and [21, 42)
        (w1 >> s(10), (w1 >> s(31)) | (w2 << s(1))),  # [42, 63) and [63, 84)
        ((w2 >> s(20)) | (w3 << s(12)), w3 >> s(9)),  # [84, 105) and [105, 126)
    ]
    hits = sum(_inside(fx, fy) * (3 * i + s(j) < s(n_points)) for j, (fx, fy) in enumerate(points))
    owner = (np.arange(n_blocks) % (grid * block)) // block
    counts = np.zeros(grid, dtype=np.uint64)
    np.add.at(counts, owner, hits)
    return counts


def test_numpy_philox_matches_random123_known_answers():
    kat = [  # Random123 kat_vectors: counter, key -> output
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ]
    for ctr, key, expect in kat:
        got = philox4x32_10([np.array([c], np.uint64) for c in ctr], key)
        assert [int(g[0]) for g in got] == list(expect)


def test_numpy_stream_estimates_pi():
    # 2**20 points: the estimate is within 4 standard errors of pi (false alarm 6e-5).
    n = 2**20
    hits = int(reference_block_counts((7, 11, 13, 17), n, 1, 1).sum())
    p = hits / n
    assert abs(4 * p - np.pi) < 4 * 4 * np.sqrt(p * (1 - p) / n)


PI_SHAPES = [  # (n_points, grid, block): n % 3 of 0, 1 and 2, size one, wrap-around
    (1, 1, 32),
    (2, 1, 32),
    (3, 2, 32),
    (4, 1, 32),
    (63, 1, 64),
    (64, 3, 96),
    (1001, 2, 64),
    (4097, 3, 256),
    (5000, 16, 32),
    (0, 2, 32),
]


@needs_cxx
@covers("gm_estimate_pi_u64")
@pytest.mark.parametrize("n, grid, block", PI_SHAPES)
def test_estimate_pi_kernel_matches_numpy_philox(n, grid, block):
    rng = np.random.default_rng(n + 1000 * grid)
    seed = rng.integers(0, 2**32, size=4, dtype=np.uint64).astype(np.uint32)
    counts = np.full(grid, 0xDEADBEEF, dtype=np.uint64)  # poisoned
    emu_launch("montecarlo.cu", "gm_estimate_pi_u64", grid, block, [seed, np.int64(n), counts])
    expect = reference_block_counts(tuple(int(s) for s in seed), n, grid, block)
    np.testing.assert_array_equal(counts, expect)
    assert int(counts.sum()) <= n


@needs_cxx
@covers("gm_estimate_pi_u64")
def test_estimate_pi_kernel_count_does_not_depend_on_launch():
    seed = np.array([1, 2, 3, 4], dtype=np.uint32)
    totals = set()
    for grid, block in [(1, 32), (5, 64), (2, 1024)]:
        counts = np.zeros(grid, dtype=np.uint64)
        emu_launch(
            "montecarlo.cu", "gm_estimate_pi_u64", grid, block, [seed, np.int64(777), counts]
        )
        totals.add(int(counts.sum()))
    assert len(totals) == 1


@needs_cxx
@covers("gm_estimate_pi_u64")
@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_estimate_pi_kernel_flushes_its_32_bit_count(chunk):
    # With GM_PI_CHUNK tiny, every thread flushes its 32-bit count many times; the counts must
    # not change (on the GPU the flush comes only after 2^30 iterations of a thread).
    seed = np.array([5, 6, 7, 8], dtype=np.uint32)
    n, grid, block = 3 * 4000 + 2, 2, 64
    counts = np.zeros(grid, dtype=np.uint64)
    emu_launch(
        "montecarlo.cu",
        "gm_estimate_pi_u64",
        grid,
        block,
        [seed, np.int64(n), counts],
        defines={"GM_PI_CHUNK": f"{chunk}u"},
    )
    np.testing.assert_array_equal(counts, reference_block_counts((5, 6, 7, 8), n, grid, block))
