# forward mode, with respect to c, x
# for float64 arguments
import numpy as np

from nabla.runtime import basis_block, basis_count, jac_block


def horner_jacfwd(c, x):
    # vector forward mode: every basis direction of c, x in one pass of the jvp (the directions on axis 0 of the tangents), the primal computed once
    c_n = basis_count(c)
    x_n = basis_count(x)
    n = c_n + x_n
    c_dirs = basis_block(c, 0, n)
    x_dirs = basis_block(x, c_n, n)
    both = horner_jvp_vmap(c, x, c_dirs, x_dirs)
    c_jac = jac_block(both[1], 0, both[0], c)
    x_jac = jac_block(both[1], c_n, both[0], x)
    return (c_jac, x_jac)


def horner_jvp_vmap(c, x, c_dot, x_dot):
    # the vector form: each batched value carries the batch on its axis 0
    p = c[0]
    p_dot = c_dot[:, 0]
    t1 = c.shape[0]
    for i in range(1, t1, 1):
        p_1 = p * x + c[i]
        p_1_dot = p_dot * x + p * x_dot + c_dot[:, i]
        p_2 = p_1
        p_dot_1 = p_1_dot
        p = p_2
        p_dot = p_dot_1
    return (p, p_dot)
