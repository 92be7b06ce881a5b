"""Building the small sparse matrices of one message.

A parse makes a CSR matrix or two of a few rows in each featurizer. SciPy's general
constructors convert their input at each call: `csr_matrix(dense)` took 38 µs and from
coordinates 62 µs for a SNIPS message's rows, these 18 and 36. They build the same matrices
(canonical: indices sorted within a row, no duplicates) from arrays made here, through the
constructor that takes CSR's own three arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse

#: the index type SciPy picks for a matrix this small (it would convert int64 indices to it)
INDEX = np.int32


def csr(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]
) -> scipy.sparse.csr_matrix:
    """A CSR matrix of arrays already in its canonical form."""
    index = _index_type(shape, len(data))
    return scipy.sparse.csr_matrix(
        (data, indices.astype(index, copy=False), indptr.astype(index, copy=False)), shape=shape
    )


def from_dense(array: np.ndarray) -> scipy.sparse.csr_matrix:
    """`scipy.sparse.csr_matrix(array)` for a 2-d array."""
    rows, columns = np.nonzero(array)
    indptr = np.zeros(array.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=array.shape[0]), out=indptr[1:])
    return csr(array[rows, columns], columns, indptr, array.shape)


def from_coordinates(
    rows: Sequence[int] | np.ndarray,
    columns: Sequence[int] | np.ndarray,
    values: np.ndarray,
    shape: tuple[int, int],
) -> scipy.sparse.csr_matrix:
    """`scipy.sparse.csr_matrix((values, (rows, columns)), shape)`: entries at the same place
    are summed."""
    if not len(values):
        return csr(values, np.zeros(0, dtype=INDEX), np.zeros(shape[0] + 1, INDEX), shape)
    keys = np.asarray(rows, dtype=np.int64) * shape[1] + np.asarray(columns, dtype=np.int64)
    places, where = np.unique(keys, return_inverse=True)
    summed = np.bincount(where, weights=values, minlength=len(places)).astype(values.dtype)
    place_rows = places // shape[1]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(place_rows, minlength=shape[0]), out=indptr[1:])
    return csr(summed, places % shape[1], indptr, shape)


def _index_type(shape: tuple[int, int], entries: int) -> type[np.signedinteger]:
    limit = np.iinfo(INDEX).max
    return INDEX if max(shape[0], shape[1], entries) < limit else np.int64
