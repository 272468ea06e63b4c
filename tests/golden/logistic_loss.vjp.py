# reverse mode, with respect to w, X, y
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, matmul_vjp_a, matmul_vjp_b, reduced_count, unbroadcast


def logistic_loss_vjp(w, X, y):
    z = X @ w
    t2 = np.exp(-z)
    t3 = 1.0 + t2
    p = 1.0 / t3
    t4 = np.log(p)
    t5 = y * t4
    t6 = 1.0 - y
    t7 = 1.0 - p
    t8 = np.log(t7)
    t9 = t6 * t8
    t10 = t5 + t9
    out = -np.mean(t10)
    return (out, (t10, t5, t9, y, t4, t8, p, t7, z, t6, t2, t3, X, w))


def logistic_loss_vjp_bwd(out_bar, t10, t5, t9, y, t4, t8, p, t7, z, t6, t2, t3, X, w):
    # return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    t1_bar = expand_reduced(-out_bar, t10, None) / reduced_count(t10, None)
    t5_bar = unbroadcast(t1_bar, t5)
    t9_bar = unbroadcast(t1_bar, t9)
    y_bar = -unbroadcast(t9_bar * t8, y) + unbroadcast(t5_bar * t4, y)
    p_bar = -(unbroadcast(t6 * t9_bar, z) / t7) + unbroadcast(y * t5_bar, z) / p
    # p = 1.0 / (1.0 + np.exp(-z))
    z_bar = p_bar * p / t3 * t2
    # z = X @ w
    X_bar = matmul_vjp_a(z_bar, X, w)
    w_bar = matmul_vjp_b(z_bar, X, w)
    return (w_bar, X_bar, y_bar)
