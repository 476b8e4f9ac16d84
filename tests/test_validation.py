"""The edge checks every public function relies on (ibkit._validation)."""

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
    assert check_int(5, "n", minimum=1, maximum=5) == 5
    with pytest.raises(InvalidParameterError, match=r"n must be an integer in \[1, 5\]; got 6"):
        check_int(6, "n", minimum=1, maximum=5)
    with pytest.raises(InvalidParameterError, match="n must be an integer >= 1; got True"):
        check_int(True, "n")


def test_check_callback_and_units():
    assert check_callback(None, "progress") is None
    assert check_callback(print, "progress") is print
    with pytest.raises(InvalidParameterError, match="progress must be None or a callable; got int"):
        check_callback(5, "progress")
    with pytest.raises(InvalidParameterError, match="units must be 'bits' or 'nats'"):
        check_units(["bits"])
