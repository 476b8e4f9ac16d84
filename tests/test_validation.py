"""The edge checks every public function relies on (ibkit._validation)."""

import warnings

import numpy as np
import pytest

import ibkit
from ibkit._validation import (
    InvalidParameterError,
    check_array,
    check_bool,
    check_callback,
    check_int,
    check_probabilities,
    check_units,
)


def test_invalid_parameter_error_is_value_and_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)
    assert ibkit.InvalidParameterError is InvalidParameterError
    assert issubclass(ibkit.DivergenceError, ArithmeticError)
    assert not issubclass(ibkit.DivergenceError, ValueError)


@pytest.mark.parametrize(
    "value",
    [
        np.array([1.0 + 0j, 2.0]),
        [1.0, 2.0 + 1e-30j],
        (1j, 0.5),
        np.complex64(1.0),
        1 + 0j,
    ],
    ids=["ndarray", "list", "tuple", "numpy-scalar", "python-scalar"],
)
def test_complex_input_is_refused_not_cast_to_its_real_part(value):
    with pytest.raises(InvalidParameterError, match=r"^x is complex; pass real numbers"):
        check_array(value, "x")


def _pandas():
    return pytest.importorskip("pandas")


COMPLEX_CONTAINERS = {
    "DataFrame": lambda: _pandas().DataFrame({"a": [1.0, 2.0], "b": [0.5 + 1j, 2.0]}),
    "DataFrame-all-complex": lambda: _pandas().DataFrame(np.ones((3, 2)) + 1j),
    "Series": lambda: _pandas().Series([1.0, 2.0 + 1j]),
    "Series-of-objects": lambda: _pandas().Series([1.0, 2.0 + 1j], dtype=object),
    "list-of-complex": lambda: [1 + 2j, 3 + 0j],
    "nested-list": lambda: [[1.0, 2.0], [3.0, 4.0 + 1j]],
    "object-array": lambda: np.array([1.0, 2.0 + 1j], dtype=object),
    "object-array-numpy-complex64": lambda: np.array([1.0, np.complex64(1j)], dtype=object),
}


@pytest.mark.parametrize("make", COMPLEX_CONTAINERS.values(), ids=COMPLEX_CONTAINERS)
def test_complex_numbers_in_any_container_are_refused(make):
    value = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before numpy could drop the imaginary part
        with pytest.raises(InvalidParameterError, match=r"^x is complex; pass real numbers"):
            check_array(value, "x")


REAL_CONTAINERS = {
    "DataFrame": lambda: _pandas().DataFrame({"a": [1.0, 2.0], "b": [3, 4]}),
    "Series": lambda: _pandas().Series([1.0, 2.0]),
    "nullable-Int64-Series": lambda: _pandas().Series([1, 2], dtype="Int64"),
    "object-array": lambda: np.array([1.0, 2], dtype=object),
    "list": lambda: [1, 2.0],
}


@pytest.mark.parametrize("make", REAL_CONTAINERS.values(), ids=REAL_CONTAINERS)
def test_real_numbers_in_any_container_pass(make):
    got = check_array(make(), "x")
    want = [[1.0, 3.0], [2.0, 4.0]] if got.ndim == 2 else [1.0, 2.0]
    np.testing.assert_allclose(got, want, rtol=0, atol=0)


def test_complex_torch_tensor_is_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(InvalidParameterError, match="probe is complex"):
        check_array(torch.ones(3, dtype=torch.complex64), "probe")
    np.testing.assert_array_equal(check_array(torch.ones(3), "probe"), np.ones(3))


def test_real_input_passes_unchanged():
    np.testing.assert_array_equal(check_array([1, 2], "x"), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(check_array(np.float32(3.5), "x"), np.array(3.5))


@pytest.mark.parametrize("value", ["no", "False", 0, 1, None, np.array([True])])
def test_booleans_are_booleans(value):
    with pytest.raises(InvalidParameterError, match=r"normalize must be True or False"):
        check_bool(value, "normalize")


def test_normalize_no_does_not_normalise():
    counts = np.array([[3.0, 1.0], [1.0, 3.0]])
    with pytest.raises(InvalidParameterError, match="normalize must be True or False; got 'no'"):
        check_probabilities(counts, "p_xy", normalize="no")
    assert check_bool(np.bool_(True), "normalize") is True
    np.testing.assert_allclose(check_probabilities(counts, "p_xy", normalize=True).sum(), 1.0)


def test_check_int_bounds():
    assert check_int(3, "n", minimum=3) == 3
    assert type(check_int(np.int64(7), "n")) is int
    with pytest.raises(InvalidParameterError, match=r"^n must be an integer >= 3; got 2$"):
        check_int(2, "n", minimum=3)
    with pytest.raises(InvalidParameterError, match="n must be an integer >= 1; got True"):
        check_int(True, "n")


def test_check_callback_and_units():
    assert check_callback(None, "progress") is None
    assert check_callback(print, "progress") is print
    with pytest.raises(InvalidParameterError, match="progress must be None or a callable; got int"):
        check_callback(5, "progress")
    with pytest.raises(InvalidParameterError, match="units must be 'bits' or 'nats'"):
        check_units(["bits"])
