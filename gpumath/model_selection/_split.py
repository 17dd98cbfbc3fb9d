"""Splitters: train_test_split, KFold and StratifiedKFold with scikit-learn's index streams.

The random choices (permutations, class allocations) are made on the host with a
``numpy.random.RandomState`` exactly as scikit-learn makes them, so an integer
``random_state`` gives scikit-learn's indices; the index arrays are then copied once to the
data's device and everything is gathered there.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._backend import array_namespace, asarray, device_of, to_numpy
from ..metrics._common import as_array

__all__ = ["KFold", "StratifiedKFold", "train_test_split"]


def host_rng(random_state: Any) -> Any:
    """scikit-learn's ``check_random_state``: None, an int, a RandomState or a Generator."""
    if random_state is None:
        return np.random.RandomState()
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.RandomState(int(random_state))
    if isinstance(random_state, np.random.RandomState | np.random.Generator):
        return random_state
    raise TypeError(
        "`random_state` must be None, an int, a numpy.random.RandomState or Generator; "
        f"got {type(random_state).__name__}"
    )


def _on_device_of(index: np.ndarray, like: Any) -> Any:
    """Host indices as int64 on ``like``'s device (one copy when that is a GPU)."""
    return asarray(np.asarray(index, dtype=np.int64), device=device_of(like))


def _num_samples(X: Any, name: str = "X") -> int:
    if X.ndim == 0:
        raise ValueError(f"`{name}` must have a samples axis; got a 0-d array")
    return int(X.shape[0])


class _BaseKFold:
    """Checks shared by the k-fold splitters (scikit-learn's messages)."""

    def __init__(self, n_splits: int, shuffle: bool, random_state: Any) -> None:
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
            raise ValueError(f"`n_splits` must be an integer; got {n_splits!r}")
        if n_splits < 2:
            raise ValueError(f"`n_splits` must be >= 2 (one train/test split); got {n_splits}")
        if not isinstance(shuffle, bool):
            raise TypeError(f"`shuffle` must be True or False; got {shuffle!r}")
        if not shuffle and random_state is not None:
            raise ValueError(
                "`random_state` has no effect when `shuffle` is False; leave it None or "
                "set shuffle=True"
            )
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of splits."""
        return self.n_splits

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, "
            f"random_state={self.random_state!r})"
        )

    def _check_n(self, n: int) -> None:
        if self.n_splits > n:
            raise ValueError(
                f"`n_splits`={self.n_splits} cannot be greater than the number of samples {n}"
            )

    def _folds(self, order: Any, sizes: list[int], xp: Any) -> Iterator[tuple[Any, Any]]:
        """Yield (train, test): ``order``'s k-th block and the rest, both sorted (as sklearn)."""
        stop = 0
        for size in sizes:
            start, stop = stop, stop + size
            test = xp.sort(order[start:stop])
            train = xp.sort(xp.concat([order[:start], order[stop:]]))
            yield train, test


class KFold(_BaseKFold):
    """K consecutive folds, each the test set once (scikit-learn's ``KFold``).

    Parameters
    ----------
    n_splits : int, default 5
    shuffle : bool
        Shuffle the samples before cutting the folds.
    random_state : None, int, numpy.random.RandomState or Generator
        With ``shuffle``; an int gives scikit-learn's folds exactly.

    Notes
    -----
    ``split`` yields sorted index arrays on X's device, as scikit-learn yields them. The
    first ``n % n_splits`` folds hold one sample more.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.model_selection import KFold
    >>> [test.tolist() for _, test in KFold(3).split(np.zeros((7, 1)))]
    [[0, 1, 2], [3, 4], [5, 6]]
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None):
        super().__init__(n_splits, shuffle, random_state)

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        """Yield ``(train_index, test_index)`` arrays on X's device."""
        X = as_array(X, "X")
        xp = array_namespace(X)
        n = _num_samples(X)
        self._check_n(n)
        order = np.arange(n)
        if self.shuffle:
            host_rng(self.random_state).shuffle(order)
        sizes = [
            n // self.n_splits + (1 if k < n % self.n_splits else 0) for k in range(self.n_splits)
        ]
        yield from self._folds(_on_device_of(order, X), sizes, xp)


class StratifiedKFold(_BaseKFold):
    """K folds that keep each class's share of the samples (scikit-learn's algorithm).

    Parameters
    ----------
    n_splits, shuffle, random_state
        As in :class:`KFold`; an int ``random_state`` gives scikit-learn's folds exactly.

    Notes
    -----
    The fold of each sample is decided on the host from the labels (one copy of ``y``
    from the device), then the index arrays are copied to X's device once per ``split``.
    A class with fewer members than ``n_splits`` gives a UserWarning; when every class
    does, ValueError.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.model_selection import StratifiedKFold
    >>> y = np.array([0, 0, 0, 0, 1, 1])
    >>> [test.tolist() for _, test in StratifiedKFold(2).split(np.zeros((6, 1)), y)]
    [[0, 1, 4], [2, 3, 5]]
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None):
        super().__init__(n_splits, shuffle, random_state)

    def _test_folds(self, y: np.ndarray) -> np.ndarray:
        """The test fold of every sample, as scikit-learn's ``_make_test_folds``."""
        rng = host_rng(self.random_state)
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            raise ValueError("`y` must hold class labels; got continuous values")
        _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
        _, class_perm = np.unique(first, return_inverse=True)  # classes by first appearance
        encoded = class_perm[inverse.reshape(-1)]
        n_classes = first.shape[0]
        counts = np.bincount(encoded)
        if np.all(self.n_splits > counts):
            raise ValueError(
                f"`n_splits`={self.n_splits} cannot be greater than the number of members "
                "in each class"
            )
        if self.n_splits > counts.min():
            warnings.warn(
                f"The least populated class in y has only {counts.min()} members, which is "
                f"less than n_splits={self.n_splits}.",
                UserWarning,
                stacklevel=3,
            )
        ordered = np.sort(encoded)
        allocation = np.asarray(
            [
                np.bincount(ordered[i :: self.n_splits], minlength=n_classes)
                for i in range(self.n_splits)
            ]
        )
        folds = np.empty(y.shape[0], dtype=np.int64)
        for k in range(n_classes):
            for_class = np.arange(self.n_splits).repeat(allocation[:, k])
            if self.shuffle:
                rng.shuffle(for_class)
            folds[encoded == k] = for_class
        return folds

    def split(self, X: Any, y: Any, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        """Yield ``(train_index, test_index)`` arrays on X's device."""
        X, y = as_array(X, "X"), as_array(y, "y")
        xp = array_namespace(X, y)
        n = _num_samples(X)
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"`y` must have shape ({n},); got {tuple(y.shape)}")
        self._check_n(n)
        folds = self._test_folds(to_numpy(y))
        order = np.argsort(folds, kind="stable")  # fold by fold, ascending inside each
        sizes = np.bincount(folds, minlength=self.n_splits).tolist()
        yield from self._folds(_on_device_of(order, X), sizes, xp)


def _split_sizes(n: int, test_size: Any, train_size: Any) -> tuple[int, int]:
    """scikit-learn's ``_validate_shuffle_split``: (n_train, n_test) from the sizes."""
    if test_size is None and train_size is None:
        test_size = 0.25
    counts = {}
    for name, size in (("test_size", test_size), ("train_size", train_size)):
        if size is None:
            continue
        if isinstance(size, numbers.Integral) and not isinstance(size, bool):
            if not 0 < size < n:
                raise ValueError(f"`{name}` must be in (0, {n}) as a count; got {size}")
            counts[name] = int(size)
        elif isinstance(size, numbers.Real) and not isinstance(size, bool):
            if not 0 < size < 1:
                raise ValueError(f"`{name}` must be in (0, 1) as a fraction; got {size}")
        else:
            raise TypeError(f"`{name}` must be an int, a float or None; got {size!r}")
    fractions = [s for s in (test_size, train_size) if isinstance(s, float)]
    if len(fractions) == 2 and sum(fractions) > 1:
        raise ValueError(f"`test_size` + `train_size` must be <= 1; got {test_size} + {train_size}")
    n_test = counts.get("test_size", math.ceil(test_size * n) if test_size is not None else None)
    n_train = counts.get(
        "train_size", math.floor(train_size * n) if train_size is not None else None
    )
    if n_train is None:
        n_train = n - n_test
    elif n_test is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError(
            f"train and test sizes {n_train} + {n_test} exceed the number of samples {n}"
        )
    if n_train == 0:
        raise ValueError(
            f"with n_samples={n}, test_size={test_size} and train_size={train_size} the "
            "training set would be empty"
        )
    return n_train, n_test


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: Any) -> np.ndarray:
    """scikit-learn's ``_approximate_mode``: per-class draws, remainders broken at random."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need)
            floored[rng.choice(inds, size=add_now, replace=False)] += 1
            need -= add_now
            if need == 0:
                break
    return floored.astype(int)


def _stratified_indices(y: np.ndarray, n_train: int, n_test: int, rng: Any) -> tuple:
    """scikit-learn's ``StratifiedShuffleSplit`` first split."""
    classes, y_indices = np.unique(y, return_inverse=True)
    y_indices = y_indices.reshape(-1)
    class_counts = np.bincount(y_indices)
    if class_counts.min() < 2:
        raise ValueError(
            "`stratify`: the least populated class has only 1 member; every class needs 2"
        )
    for name, size in (("train", n_train), ("test", n_test)):
        if size < classes.shape[0]:
            raise ValueError(
                f"the {name} set size {size} must be >= the number of classes "
                f"{classes.shape[0]} to stratify"
            )
    class_indices = np.split(np.argsort(y_indices, kind="mergesort"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train, test = [], []
    for i in range(classes.shape[0]):
        members = class_indices[i].take(rng.permutation(class_counts[i]), mode="clip")
        train.extend(members[: n_i[i]])
        test.extend(members[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def train_test_split(
    *arrays: Any,
    test_size: float | int | None = None,
    train_size: float | int | None = None,
    random_state: Any = None,
    shuffle: bool = True,
    stratify: Any = None,
) -> list[Any]:
    """Split arrays into random train and test subsets (scikit-learn's ``train_test_split``).

    Parameters
    ----------
    *arrays : arrays with the same first dimension
        NumPy or CuPy (one library, one device); lists become NumPy arrays.
    test_size, train_size : float, int or None
        Fractions in (0, 1) or counts; by default a quarter of the samples is for testing.
        Test counts round up and train counts round down, as in scikit-learn.
    random_state : None, int, numpy.random.RandomState or Generator
        An int gives scikit-learn's split exactly.
    shuffle : bool
        Without it the first samples train and the next ones test.
    stratify : array, optional
        Labels whose class shares both subsets keep (needs ``shuffle``).

    Returns
    -------
    list
        ``[a_train, a_test, b_train, b_test, ...]`` on the arrays' device.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.model_selection import train_test_split
    >>> X_tr, X_te, y_tr, y_te = train_test_split(
    ...     np.arange(10.0).reshape(5, 2), np.arange(5), test_size=0.4, random_state=0)
    >>> y_tr.tolist(), y_te.tolist()
    ([1, 3, 4], [2, 0])
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrays = tuple(as_array(a, f"arrays[{i}]") for i, a in enumerate(arrays))
    array_namespace(*arrays)
    n = _num_samples(arrays[0], "arrays[0]")
    for i, a in enumerate(arrays[1:], start=1):
        if _num_samples(a, f"arrays[{i}]") != n:
            raise ValueError(
                f"all arrays must have the same number of samples; arrays[0] has {n}, "
                f"arrays[{i}] has {a.shape[0]}"
            )
    n_train, n_test = _split_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError("`stratify` needs shuffle=True")
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    else:
        rng = host_rng(random_state)
        if stratify is None:
            permutation = rng.permutation(n)
            test, train = permutation[:n_test], permutation[n_test : n_test + n_train]
        else:
            labels = to_numpy(as_array(stratify, "stratify"))
            if labels.shape != (n,):
                raise ValueError(f"`stratify` must have shape ({n},); got {labels.shape}")
            train, test = _stratified_indices(labels, n_train, n_test, rng)
    xp = array_namespace(arrays[0])
    train, test = _on_device_of(train, arrays[0]), _on_device_of(test, arrays[0])
    return [part for a in arrays for part in (xp.take(a, train, axis=0), xp.take(a, test, axis=0))]
