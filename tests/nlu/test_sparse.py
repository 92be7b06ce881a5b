"""The featurizers' own CSR builders give exactly the matrices SciPy's constructors give."""

from __future__ import annotations

import numpy as np
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from parlez.nlu.sparse import from_coordinates, from_dense


def _same(ours: scipy.sparse.csr_matrix, theirs: scipy.sparse.csr_matrix) -> None:
    theirs = theirs.copy()
    theirs.sum_duplicates()
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours.indptr, theirs.indptr)
    assert np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(ours.data, theirs.data)
    assert ours.has_canonical_format


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(0, 6), st.integers(0, 9)),
        elements=st.sampled_from([0.0, 0.0, 1.0, 2.5]),
    )
)
def test_a_dense_array_gives_scipys_matrix(array: np.ndarray) -> None:
    _same(from_dense(array), scipy.sparse.csr_matrix(array))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 30),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 29)), max_size=25),
)
def test_coordinates_give_scipys_matrix_with_repeated_places_summed(
    rows: int, columns: int, places: list[tuple[int, int]]
) -> None:
    places = [(r % rows, c % columns) for r, c in places]
    values = np.ones(len(places), dtype=np.float32)
    at_rows, at_columns = [r for r, _ in places], [c for _, c in places]
    ours = from_coordinates(at_rows, at_columns, values, (rows, columns))
    theirs = scipy.sparse.csr_matrix((values, (at_rows, at_columns)), shape=(rows, columns))
    _same(ours, theirs)


def test_a_message_without_tokens_gives_an_empty_matrix() -> None:
    empty = from_coordinates([], [], np.ones(0, dtype=np.float32), (0, 12))
    assert empty.shape == (0, 12) and empty.nnz == 0
    assert from_dense(np.zeros((0, 4), dtype=np.float32)).shape == (0, 4)
