"""Fitting the recommender's arrays from (customer, item, weight) rows (see `recommend`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from scipy import sparse

Progress = Callable[[str, float], None]
TOGETHER_BLOCK = 1024  # items whose co-occurrence row is computed at once


def fit(
    rows: Iterable[tuple[int, str, float]],
    *,
    seed: int,
    progress: Progress | None,
    factors: int,
    iterations: int,
    regularization: float,
    alpha: float,
    threads: int,
    together_kept: int,
) -> dict[str, Any]:
    """The arrays of a fitted `Recommender` (its constructor's keyword arguments)."""
    report: Progress = progress or (lambda stage, fraction: None)
    items, customers, matrix = read(rows, report)
    bought = matrix.copy()
    bought.data[:] = 1
    counts = np.asarray(bought.sum(axis=0)).ravel().astype(np.int64)
    t_indptr, t_items, t_counts = together(bought, together_kept, report)
    user_factors, item_factors = als(matrix, seed=seed, factors=factors, iterations=iterations,
                                     regularization=regularization, alpha=alpha,
                                     threads=threads, report=report)  # fmt: skip
    return {
        "items": items,
        "customers": customers,
        "indptr": matrix.indptr.astype(np.int64),
        "indices": matrix.indices.astype(np.int32),
        "counts": counts,
        "user_factors": user_factors,
        "item_factors": item_factors,
        "together_indptr": t_indptr,
        "together_items": t_items,
        "together_counts": t_counts,
    }


def read(
    rows: Iterable[tuple[int, str, float]], report: Progress
) -> tuple[list[str], np.ndarray, sparse.csr_matrix]:
    """Items by column, customer ids by row (sorted) and the customers x items weights, summed."""
    index: dict[str, int] = {}
    who: list[int] = []
    what: list[int] = []
    how: list[float] = []
    for line, (customer, item, weight) in enumerate(rows, start=1):
        if not isinstance(customer, int | np.integer) or isinstance(customer, bool):
            raise ValueError(f"row {line}: the customer must be an id, not {customer!r}")
        if not isinstance(item, str) or not item:
            raise ValueError(f"row {line}: the item must be a non-empty string, not {item!r}")
        if not _positive(weight):
            raise ValueError(f"row {line}: the weight must be a positive number, not {weight!r}")
        who.append(customer)
        what.append(index.setdefault(item, len(index)))
        how.append(weight)
        if line % 200_000 == 0:
            report("read", 0.5)
    ids, rows_of = np.unique(np.array(who, np.int64), return_inverse=True)
    matrix = sparse.csr_matrix(
        (np.array(how, np.float32), (rows_of.ravel(), np.array(what, np.int64))),
        shape=(len(ids), len(index)),
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
    report("read", 1.0)
    return list(index), ids, matrix


def _positive(weight: object) -> bool:
    if not isinstance(weight, int | float | np.integer | np.floating) or isinstance(weight, bool):
        return False
    return math.isfinite(weight) and float(weight) > 0


def together(
    bought: sparse.csr_matrix, kept: int, report: Progress
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each item, the `kept` items most of its buyers also bought, and how many did (CSR)."""
    n_items = bought.shape[1]
    by_item = bought.T.tocsr().astype(np.int32)
    bought = bought.astype(np.int32)
    indptr = [0]
    picked: list[np.ndarray] = []
    counted: list[np.ndarray] = []
    for start in range(0, n_items, TOGETHER_BLOCK):
        block = (by_item[start : start + TOGETHER_BLOCK] @ bought).tocsr()
        block.sort_indices()
        for r in range(block.shape[0]):
            cols = block.indices[block.indptr[r] : block.indptr[r + 1]]
            vals = block.data[block.indptr[r] : block.indptr[r + 1]]
            other = cols != start + r
            cols, vals = cols[other], vals[other]
            order = np.lexsort((cols, -vals))[:kept]
            picked.append(cols[order].astype(np.int32))
            counted.append(vals[order].astype(np.int32))
            indptr.append(indptr[-1] + len(order))
        report("together", min(start + TOGETHER_BLOCK, n_items) / max(n_items, 1))
    if not picked:
        report("together", 1.0)
        return np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32)
    return np.array(indptr, np.int64), np.concatenate(picked), np.concatenate(counted)


def als(
    matrix: sparse.csr_matrix, *, seed: int, factors: int, iterations: int,
    regularization: float, alpha: float, threads: int, report: Progress,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """User and item factors of implicit-feedback ALS on the summed weights (empty: none)."""
    if matrix.nnz == 0 or factors <= 0 or iterations <= 0:
        report("als", 1.0)
        width = max(factors, 0) if matrix.nnz else 0
        return (np.zeros((matrix.shape[0], width), np.float32),
                np.zeros((matrix.shape[1], width), np.float32))  # fmt: skip
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    confidence = matrix.astype(np.float32)  # Hu, Koren and Volinsky: confidence grows with weight

    def step(iteration: int, _elapsed: float, _loss: float | None) -> None:
        report("als", (iteration + 1) / iterations)

    with threadpool_limits(1, "blas"):  # the BLAS pool off while ALS runs its own threads
        model = AlternatingLeastSquares(
            factors=factors, regularization=regularization, alpha=alpha, iterations=iterations,
            num_threads=threads, random_state=seed, calculate_training_loss=False,
        )  # fmt: skip
        model.fit(confidence, show_progress=False, callback=step)
    return (np.ascontiguousarray(model.user_factors, np.float32),
            np.ascontiguousarray(model.item_factors, np.float32))  # fmt: skip
