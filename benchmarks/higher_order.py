"""How big nested transforms get, and what they cost to make: for the scalar loop and a
20-parameter function with a loop, the lines of generated source, nabla's transform
time and Numba's compile time of grad, grad∘grad, grad∘grad∘grad and hessian.

Each row starts from an empty nabla cache (Numba's cache too): the transform time is
the time to produce the generated module (``.source``), the compile time that of the
first call minus that of the second.

Run: python benchmarks/higher_order.py
"""

import tempfile
import time

import numpy as np

import nabla


def scalar_loop(x, n):
    for i in range(n):
        x = x - 0.01 * np.sin(x) * x
    return x


def chain_20(x, a):
    """A 20-parameter function with a loop: a smoothed chain of springs."""
    s = 0.0
    for i in range(x.shape[0] - 1):
        d = x[i + 1] - x[i]
        s = s + a * (d * d - 0.1) ** 2 + np.log(1.0 + x[i] ** 2)
    return s


def lines_of_code(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.strip() and not line.strip().startswith("#")
               and not line.startswith(("import ", "from ")))


def measure(make, args):
    nabla.config.cache_dir = tempfile.mkdtemp(prefix="nabla-bench-")
    f = make()
    t0 = time.perf_counter()
    text = f.source
    t1 = time.perf_counter()
    f(*args)
    t2 = time.perf_counter()
    f(*args)
    t3 = time.perf_counter()
    return lines_of_code(text), t1 - t0, (t2 - t1) - (t3 - t2)


def main() -> None:
    x20 = np.linspace(-1.0, 1.0, 20)
    rows = [
        ("scalar loop", "grad", lambda: nabla.grad(scalar_loop), (0.5, 100)),
        ("scalar loop", "grad∘grad", lambda: nabla.grad(nabla.grad(scalar_loop)), (0.5, 100)),
        ("scalar loop", "grad∘grad∘grad",
         lambda: nabla.grad(nabla.grad(nabla.grad(scalar_loop))), (0.5, 100)),
        ("scalar loop", "hessian", lambda: nabla.hessian(scalar_loop), (0.5, 100)),
        ("20 parameters", "grad", lambda: nabla.grad(chain_20), (x20, 2.0)),
        ("20 parameters", "grad∘grad", None, None),
        ("20 parameters", "grad∘grad∘grad", None, None),
        ("20 parameters", "hessian", lambda: nabla.hessian(chain_20), (x20, 2.0)),
    ]
    print(f"{'function':<15}{'transform':<16}{'lines':>7}{'nabla (s)':>11}{'Numba (s)':>11}"
          f"{'nabla/Numba':>13}")
    for name, what, make, args in rows:
        if make is None:
            print(f"{name:<15}{what:<16}  n/a: grad of a 20-element gradient is not defined "
                  "(it is not a scalar); see hessian")
            continue
        lines, transform, compile_ = measure(make, args)
        print(f"{name:<15}{what:<16}{lines:>7}{transform:>11.3f}{compile_:>11.2f}"
              f"{transform / compile_:>13.2f}")


if __name__ == "__main__":
    main()
