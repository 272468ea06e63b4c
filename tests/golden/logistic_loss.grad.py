# reverse mode, with respect to w
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, matmul_vjp_b, reduced_count, seed, unbroadcast


def logistic_loss_grad(w, X, y):
    z = X @ w
    t1 = np.exp(-z)
    t2 = 1.0 + t1
    p = 1.0 / t2
    t3 = np.log(p)
    t4 = y * t3
    t5 = 1.0 - y
    t6 = 1.0 - p
    t7 = np.log(t6)
    t8 = t5 * t7
    t9 = t4 + t8
    out = -np.mean(t9)
    # adjoint sweep
    out_bar = seed(out)
    # return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    t9_bar = expand_reduced(-out_bar, t9, None) / reduced_count(t9, None)
    p_bar = -(unbroadcast(t5 * unbroadcast(t9_bar, t8), t7) / t6) + unbroadcast(y * unbroadcast(t9_bar, t4), t3) / p
    # p = 1.0 / (1.0 + np.exp(-z))
    z_bar = p_bar * p / t2 * t1
    # z = X @ w
    w_bar = matmul_vjp_b(z_bar, X, w)
    return w_bar
