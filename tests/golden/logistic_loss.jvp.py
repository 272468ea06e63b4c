# forward mode, with respect to w, X, y
# for float64 arguments
import numpy as np

from nabla.runtime import broadcast_like


def logistic_loss_jvp(w, X, y, w_dot, X_dot, y_dot):
    z = X @ w
    z_dot = X_dot @ w + X @ w_dot
    t1 = np.exp(-z)
    t2 = 1.0 + t1
    p = 1.0 / t2
    p_dot = p / t2 * (z_dot * t1)
    t3 = np.log(p)
    t4 = 1.0 - y
    t5 = 1.0 - p
    t6 = np.log(t5)
    t7 = y * t3 + t4 * t6
    return (-np.mean(t7), -np.mean(broadcast_like(y_dot * t3 + y * (p_dot / p), t7) + (-(y_dot * t6) - t4 * (p_dot / t5))))
