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


def test_a_typo_in_the_first_row_of_a_table_without_header_is_an_error(tmp_path):
    path = write(tmp_path / "jt.csv", "0.1,0.2O,0.05\n0.2,0.1,0.05\n0.1,0.1,0.1\n")
    with pytest.raises(InvalidParameterError) as info:
        read_joint(path)
    assert str(info.value).startswith(f"{path}: line 1, column 2: '0.2O' is not a number")
    path.write_text("0.1,0.2,0.05\n0.2,0.1,0.05\n0.1,0.1,0.1\n")  # the typo corrected
    np.testing.assert_array_equal(
        read_joint(path), [[0.1, 0.2, 0.05], [0.2, 0.1, 0.05], [0.1, 0.1, 0.1]]
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a,0.1,0.2O\nb,0.3,0.4\n", "line 1, column 3: '0.2O'"),  # an index, no header
        ("0.1,0.2\n0.3x,0.4\n0.5,0.6\n", "line 2, column 1: '0.3x'"),  # not an index
        ("x,y0,y1\na,3,1\nb,1,3x\n", "line 3, column 3: '3x'"),
    ],
)
def test_a_typo_is_never_taken_for_a_header_or_an_index(tmp_path, text, where):
    path = write(tmp_path / "t.csv", text)
    with pytest.raises(InvalidParameterError, match=f"t.csv: {where} is not a number"):
        read_joint(path)


@pytest.mark.parametrize(
    "text",
    [
        "x,y0,y1\na,3,1\nb,1,3\nc,2,2\n",  # header and index of names
        "x,0,1\na,3,1\nb,1,3\nc,2,2\n",  # as pandas.crosstab(x, y).to_csv() writes it
        ",0,1\na,3,1\nb,1,3\nc,2,2\n",  # an empty top-left cell
        "y0,y1\n3,1\n1,3\n2,2\n",  # a header only
    ],
)
def test_headers_and_indexes_of_names_are_dropped(tmp_path, text):
    path = write(tmp_path / "t.csv", text)
    np.testing.assert_array_equal(read_joint(path, labels=False), [[3, 1], [1, 3], [2, 2]])


def test_a_typo_in_the_first_row_of_samples_without_header_is_an_error(tmp_path):
    path = write(tmp_path / "hl.csv", "1,0.1O3\n2,0.5\n3,0.7\n4,0.1\n")
    with pytest.raises(InvalidParameterError) as info:
        read_samples(path, ["0"], ["1"])
    assert str(info.value).startswith(f"{path}: column '1', line 1: '0.1O3' is not a number")
    path.write_text("1,0.13\n2,0.5\n3,0.7\n4,0.1\n")  # the typo corrected: columns by position
    x, y = read_samples(path, ["0"], ["1"])
    np.testing.assert_array_equal(x, [[1], [2], [3], [4]])
    np.testing.assert_array_equal(y, [0.13, 0.5, 0.7, 0.1])


def test_a_header_name_wins_over_a_position(tmp_path):
    path = write(tmp_path / "s.csv", "1,b,c\n10,20,0.5\n11,21,0.25\n")
    x, y = read_samples(path, ["1", "b"], ["2"])  # "1" is the column named 1, "2" is c
    np.testing.assert_array_equal(x, [[10, 20], [11, 21]])
    np.testing.assert_array_equal(y, [0.5, 0.25])


def test_columns_of_a_file_without_header_are_positions_and_the_message_says_so(tmp_path):
    path = write(tmp_path / "s.csv", "0,1,y\n1,2,3\n4,5,6\n")  # line 1 mostly numbers
    with pytest.raises(InvalidParameterError) as info:
        read_samples(path, None, ["y"])
    assert str(info.value) == (
        f"{path}: no column 'y'; columns are: 0, 1, 2 (by position: line 1 is not a header, "
        "as half or more of its cells are numbers)"
    )
