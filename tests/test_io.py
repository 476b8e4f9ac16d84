"""Tests of the user-file readers of :mod:`ibkit._io` (joint tables and sample columns).

The files are written here by hand, so the expected arrays, codes and the line of each
bad cell are known independently of the readers.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pandas")

from ibkit._io import read_joint, read_samples  # noqa: E402
from ibkit._validation import InvalidParameterError  # noqa: E402


def write(path, text: str):
    path.write_text(text)
    return path


def test_a_column_of_numbers_with_a_typo_is_an_error_naming_the_cell(tmp_path):
    rows = "".join(f"{i},{i / 10}\n" for i in range(30))
    path = write(tmp_path / "s.csv", "a,b\n" + rows.replace("1.7", "1.7.0"))
    with pytest.raises(InvalidParameterError) as info:
        read_samples(path, ["a"], ["b"])
    # 1.7 is b of the sample a = 17: the 18th sample, line 19 after the header
    assert str(info.value) == (
        f"{path}: column 'b', line 19: '1.7.0' is not a number, though 29 of the 30 values "
        "are; correct it, or read the column as class labels (y_labels=True, --y-labels)"
    )


def test_a_mostly_text_column_is_coded_as_labels(tmp_path):
    path = write(tmp_path / "s.csv", "a,y\n1,cat\n2,dog\n3,cat\n4,7\n5,dog\n")
    x, y = read_samples(path, ["a"], ["y"])
    np.testing.assert_array_equal(x, [[1], [2], [3], [4], [5]])
    np.testing.assert_array_equal(y, [1, 2, 1, 0, 2])  # sorted: "7", "cat", "dog"


def test_y_labels_codes_any_column(tmp_path):
    path = write(tmp_path / "s.csv", "a,y\n1,2.5\n2,x\n3,2.5\n4,-1\n")
    _, y = read_samples(path, ["a"], ["y"], y_labels=True)
    np.testing.assert_array_equal(y, [1, 2, 1, 0])  # sorted: "-1", "2.5", "x"
    npz = tmp_path / "s.npz"
    np.savez(npz, a=np.arange(4.0), y=np.array([0.5, 0.25, 0.5, 3.0]))
    _, y = read_samples(npz, ["a"], ["y"], y_labels=True)
    np.testing.assert_array_equal(y, [1, 0, 1, 2])
    with pytest.raises(InvalidParameterError, match="y_labels must be True or False; got 'no'"):
        read_samples(npz, ["a"], ["y"], y_labels="no")


def test_bad_cells_are_named_by_file_column_and_line(tmp_path):
    path = write(tmp_path / "s.csv", "a,b,y\n1,2,u\n3,oops,v\n5,6,\n")
    with pytest.raises(InvalidParameterError, match=r"s.csv: column 'b', line 3: 'oops' is not"):
        read_samples(path, ["a", "b"], ["y"])
    with pytest.raises(InvalidParameterError, match=r"s.csv: column 'y', line 4 is empty"):
        read_samples(path, ["a"], ["y"])
    headerless = write(tmp_path / "h.csv", "1,2\n3,x\n")
    with pytest.raises(InvalidParameterError, match=r"h.csv: column '1', line 2: 'x' is not"):
        read_samples(headerless, ["0"], ["1", "0"])


def test_npz_cells_are_named_by_array_and_index(tmp_path):
    path = tmp_path / "s.npz"
    np.savez(path, x=np.array([["1", "2"], ["3", "four"]]), y=np.array([0, 1]))
    with pytest.raises(InvalidParameterError, match=r"s.npz: array 'x'\[1, 1\]: 'four' is not"):
        read_samples(path, ["x"], ["y"])


@pytest.mark.parametrize("which", ["x", "y"])
def test_complex_arrays_are_refused(tmp_path, which):
    path = tmp_path / "c.npz"
    arrays = {"x": np.arange(4.0), "y": np.array([0.0, 1.0, 0.0, 1.0])}
    arrays[which] = arrays[which] + 2j
    np.savez(path, **arrays)
    with pytest.raises(InvalidParameterError, match=rf"c.npz: array '{which}' is complex"):
        read_samples(path, ["x"], ["y"])
    np.savez(path, p_xy=np.ones((2, 2)) * (1 + 1j))
    with pytest.raises(InvalidParameterError, match=r"c.npz: array 'p_xy' is complex"):
        read_joint(path)


def test_a_directory_is_named_as_such(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=r"data.csv: is a directory"):
        read_joint(folder)


@pytest.mark.parametrize(
    ("rows", "pairs"),
    [
        ([(0, 1), (1, 0), (0, 1), (1, 0)], True),  # 4 rows, 2 distinct
        ([(3, 0), (3, 0), (1, 2), (1, 2), (5, 5)], False),  # 5 rows, 3 distinct
        ([(0.5, 1), (0.5, 1), (0.5, 1), (0.5, 1)], False),  # not whole numbers
    ],
)
def test_pairs_are_two_whole_number_columns_with_half_the_rows_repeated(tmp_path, rows, pairs):
    path = tmp_path / "t.csv"
    path.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in rows))
    if pairs:
        with pytest.raises(InvalidParameterError, match="looks like .* pairs"):
            read_joint(path)
    else:
        np.testing.assert_array_equal(read_joint(path), rows)
    np.testing.assert_array_equal(read_joint(path, labels=False), rows)
    with pytest.raises(InvalidParameterError, match="labels must be True or False"):
        read_joint(path, labels="yes")
