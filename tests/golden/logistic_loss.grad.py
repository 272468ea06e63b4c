# reverse mode, with respect to w
# as mode="reverse" asks
# for float64 arguments
import numpy as np

from nabla.runtime import expand_reduced, matmul_vjp_b, reduced_count, unbroadcast


def logistic_loss_grad(w, X, y):
    z = X @ w
    t1 = np.exp(-z)
    t2 = 1.0 + t1
    p = 1.0 / t2
    t3 = y * np.log(p)
    t4 = 1.0 - y
    t5 = 1.0 - p
    t6 = t4 * np.log(t5)
    t7 = t3 + t6
    # adjoint sweep, from 1.0: grad returns no value, so the value is not computed
    out_bar = 1.0
    # return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    t7_bar = expand_reduced(-out_bar, t7, None) / reduced_count(t7, None)
    p_bar = -(unbroadcast(t4 * unbroadcast(t7_bar, t6), z) / t5) + unbroadcast(y * unbroadcast(t7_bar, t3), z) / p
    # p = 1.0 / (1.0 + np.exp(-z))
    z_bar = p_bar * p / t2 * t1
    # z = X @ w
    w_bar = matmul_vjp_b(z_bar, X, w)
    return w_bar
