"""The three references agree with each other, in float64 and float32, on chosen and random shapes.

Three independent styles (loops, per-position einsum, im2col + BLAS) are unlikely
to share a bug, so agreement to rounding error is strong evidence all are right.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from tests.unit.reference.conv_cases import GRID, Case, rel_error
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import IMPLEMENTATIONS, strided

PAIRS = list(itertools.combinations(IMPLEMENTATIONS, 2))


def run(name: str, case: Case, arrays):
    """Forward then backward; returns (out, dx, dw, db)."""
    module = IMPLEMENTATIONS[name]
    x, w, b, dout = arrays
    out, cache = module.conv_forward(x, w, b, case.conv_param)
    return (out, *module.conv_backward(dout, cache))


def assert_all_agree(case: Case, arrays, tolerance: float) -> None:
    results = {name: run(name, case, arrays) for name in IMPLEMENTATIONS}
    expected_shapes = [case.out_shape, case.x_shape, case.w_shape, (case.w_shape[0],)]
    for name, result in results.items():
        assert [r.shape for r in result] == expected_shapes, name
    for first, second in PAIRS:
        for label, a, b in zip(("out", "dx", "dw", "db"), results[first], results[second]):
            error = rel_error(a, b)
            assert error < tolerance, f"{label}: {first} vs {second} rel_error {error:.2e}"


@pytest.mark.parametrize("case", GRID)
def test_float64_agree_to_1e10(case):
    assert_all_agree(case, case.arrays(seed=1), tolerance=1e-10)


@pytest.mark.parametrize("case", GRID[:6])
@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_float32_in_float32_out_close_to_float64(name, case):
    exact = run(name, case, case.arrays(seed=2, dtype=np.float64))
    single = run(name, case, case.arrays(seed=2, dtype=np.float32))
    for label, a, b in zip(("out", "dx", "dw", "db"), single, exact):
        assert a.dtype == np.float32, f"{label} is {a.dtype}"
        # Relative to the array's scale, not elementwise: float32 rounding is
        # ~1e-7 of the terms summed, which is large next to an output near 0.
        scaled_error = np.max(np.abs(a - b)) / np.max(np.abs(b))
        assert scaled_error < 1e-5, f"{label}: {scaled_error:.1e}"


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_integer_inputs_are_computed_in_float64(name):
    case = Case((1, 2, 4, 4), (2, 2, 3, 3), 1, 1)
    x, w, b, dout = (a.round().astype(np.int64) for a in case.arrays(seed=3))
    result = run(name, case, (x, w, b, dout))
    assert [r.dtype for r in result] == [np.float64] * 4
    expected = run("naive", case, tuple(a.astype(np.float64) for a in (x, w, b, dout)))
    for a, b in zip(result, expected):
        np.testing.assert_array_equal(a, b)  # small integers: exact in any order


@pytest.mark.parametrize("images_per_block", [1, 2])
def test_strided_gives_the_same_result_in_several_blocks(monkeypatch, images_per_block):
    # strided works on blocks of images sized for the cache; test shapes are so
    # small that everything fits one block, so force several, the last one short.
    case = Case((5, 2, 6, 5), (3, 2, 3, 2), 1, 1)
    # (C*HH*WW + 1) rows (the ones row carries the bias) of H'*W' float64s per image.
    bytes_per_image = (2 * 3 * 2 + 1) * case.out_shape[2] * case.out_shape[3] * 8
    monkeypatch.setattr(strided, "_BLOCK_BYTES", images_per_block * bytes_per_image)
    arrays = case.arrays(seed=6)
    for a, b in zip(run("strided", case, arrays), run("naive", case, arrays)):
        assert rel_error(a, b) < 1e-10


def test_strided_kernel_offsets_that_only_ever_see_padding():
    # A 1x1 image, a 3x3 kernel, pad 1, stride 2: one output position, whose window is the
    # image plus padding, so the offsets of the first and last kernel row and column never
    # read the image: strided must fill their columns with zeros and add nothing back.
    case = Case((2, 2, 1, 1), (3, 2, 3, 3), 2, 1)
    assert case.out_shape == (2, 3, 1, 1)
    arrays = case.arrays(seed=7)
    for label, a, b in zip(("out", "dx", "dw", "db"), run("strided", case, arrays), run("naive", case, arrays)):
        assert rel_error(a, b) < 1e-12, label
    # Those weights multiply zeros, so their gradient is exactly zero.
    dw = run("strided", case, arrays)[2]
    assert np.all(dw[:, :, 0, :] == 0) and np.all(dw[:, :, :, 2] == 0) and np.all(dw[:, :, 1, 1] != 0)


def test_strided_backward_leaves_the_forward_cache_unchanged():
    # The cache keeps the forward's im2col matrix, which backward reads: calling backward
    # twice on one cache (as a notebook's gradient check does) must give the same gradients.
    case = Case((3, 2, 7, 7), (4, 2, 3, 3), 2, 1)
    x, w, b, dout = case.arrays(seed=8)
    _, cache = strided.conv_forward(x, w, b, case.conv_param)
    first = strided.conv_backward(dout, cache)
    second = strided.conv_backward(dout * 2, cache)
    for a, twice in zip(first, second):
        np.testing.assert_allclose(twice, 2 * a, rtol=1e-12, atol=1e-12)


@st.composite
def valid_cases(draw) -> Case:
    """Small random shapes that satisfy the assignment's divisibility rule.

    Drawn from the output size backwards, so every draw is valid and pad can be
    larger than half the kernel (windows entirely inside the padding).
    """
    stride = draw(st.integers(1, 3))
    HH, WW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    H_out, W_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padded_H, padded_W = (H_out - 1) * stride + HH, (W_out - 1) * stride + WW
    pad = draw(st.integers(0, min(3, (min(padded_H, padded_W) - 1) // 2)))
    N, C, F = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return Case((N, C, padded_H - 2 * pad, padded_W - 2 * pad), (F, C, HH, WW), stride, pad)


@settings(max_examples=50, deadline=None)
@given(case=valid_cases(), seed=st.integers(0, 2**32 - 1))
def test_random_valid_shapes_agree(case, seed):
    # The elementwise rel_error is safe with random values only because the shapes
    # are small: with few terms per sum, rounding stays near 1e-13 even where an
    # output cancels to almost 0 (worst seen over 3000 random cases: 6e-13).
    assert_all_agree(case, case.arrays(seed=seed), tolerance=1e-10)
