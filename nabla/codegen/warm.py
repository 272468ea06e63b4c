"""A new process's first cached gradient without ``scipy.linalg``: Numba imports it only
to learn that BLAS is there.

``numba.np.arraymath`` asks at import whether BLAS is available (``_HAVE_BLAS``, read by
one implementation, ``np.cov``'s inner product) by importing ``scipy.linalg``: ~0.15 s of
every process that loads cached code using a NumPy reduction, before anything runs.
scipy is one of nabla's dependencies, so the answer is yes; ``defer_blas_import`` lets
arraymath record it without the import, and the first use of BLAS (``np.dot`` and
friends, through ``numba.np.linalg.ensure_blas``, left as it is) imports scipy then.
Where Numba's modules differ from what this expects, or arraymath is already imported,
it does nothing.

>>> defer_blas_import()
>>> import numba.np.arraymath, numba.np.linalg
>>> numba.np.arraymath._HAVE_BLAS, numba.np.arraymath.ensure_blas is numba.np.linalg.ensure_blas
(True, True)
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["defer_blas_import"]


def defer_blas_import() -> None:
    """Import ``numba.np.arraymath`` with its BLAS check answered yes (see above)."""
    if "numba.np.arraymath" in sys.modules or importlib.util.find_spec("scipy") is None:
        return
    try:
        from numba.np import linalg
    except ImportError:  # pragma: no cover - another Numba
        return
    real = getattr(linalg, "ensure_blas", None)
    if real is None:  # pragma: no cover
        return

    def ensure_blas():  # arraymath's question at import: scipy is installed
        return None
    linalg.ensure_blas = ensure_blas
    try:
        import numba.np.arraymath as arraymath
    finally:
        linalg.ensure_blas = real
    if getattr(arraymath, "ensure_blas", None) is ensure_blas:
        arraymath.ensure_blas = real  # its later calls ask for real
