"""Read MDGPLIB instances (Maximally Diverse Grouping Problem benchmarks) and best-known values.

MDGPLIB is the benchmark library of Gallego, Laguna, Martí and Duarte, "Tabu search with
strategic oscillation for the maximally diverse grouping problem", JORS 64 (2013) 724-734,
https://doi.org/10.1057/jors.2012.66. File format: line 1 ``n m ds|ss a_0 b_0 ... a_{m-1}
b_{m-1}``; then one line ``i j d_ij`` per pair ``0 <= i < j < n`` (upper triangle, 0-based).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read_instance", "read_best_known", "score"]


def read_instance(path) -> tuple[np.ndarray, np.ndarray]:
    """Read an MDGPLIB file into ``(A, bounds)``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    A : ndarray of shape (n, n)
        Symmetric distance matrix, zero diagonal.
    bounds : ndarray of shape (m, 2)
        ``(a_g, b_g)`` size bounds of group ``g``, in file order (group ``g`` of a grouping
        must respect pair ``g``).

    Examples
    --------
    >>> import io, tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("3 1 ss 3 3 \\n0 1 1.5\\n0 2 2\\n1 2 3\\n")
    >>> A, b = read_instance(f.name); os.unlink(f.name)
    >>> float(A[0, 1]), float(A[2, 1]), b.tolist()
    (1.5, 3.0, [[3, 3]])
    """
    path = Path(path)
    with open(path) as fh:
        head = fh.readline().split()
    n, m = int(head[0]), int(head[1])
    bounds = np.array(head[3:3 + 2 * m], dtype=np.int64).reshape(m, 2)
    edges = pd.read_csv(path, sep=r"\s+", skiprows=1, header=None, names=["i", "j", "d"],
                        dtype={"i": np.int64, "j": np.int64, "d": np.float64}, engine="c")
    if len(edges) != n * (n - 1) // 2:
        raise ValueError(f"{path}: expected {n * (n - 1) // 2} pair lines for n={n}, "
                         f"found {len(edges)}.")
    A = np.zeros((n, n))
    i, j, d = edges["i"].to_numpy(), edges["j"].to_numpy(), edges["d"].to_numpy()
    A[i, j] = d
    A[j, i] = d
    return A, bounds


def read_best_known(csv_path) -> dict[str, float]:
    """``{instance name: best-known objective}`` from an MDGPLIB ``BKS.csv``."""
    with open(csv_path, newline="") as fh:
        return {row["instance"]: float(row["best_known"]) for row in csv.DictReader(fh)
                if row.get("best_known")}


def score(A: np.ndarray, bounds: np.ndarray, labels: np.ndarray) -> float:
    """Objective of ``labels`` (sum of ``A`` over same-group pairs) after checking the bounds.

    Raises ValueError when a group size breaks its bounds.
    """
    labels = np.asarray(labels, dtype=np.int64)
    size = np.bincount(labels, minlength=len(bounds))
    if len(size) != len(bounds) or np.any(size < bounds[:, 0]) or np.any(size > bounds[:, 1]):
        raise ValueError(f"group sizes {size.tolist()} break bounds {bounds.tolist()}")
    same = labels[:, None] == labels[None, :]
    return float(np.triu(A * same, 1).sum())
