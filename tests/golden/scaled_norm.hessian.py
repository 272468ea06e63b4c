# forward mode, with respect to x, s
# for float64 arguments
import numpy as np

from nabla.runtime import basis, basis_count, broadcast_like, expand_reduced, jac_column, jac_like, jac_row, unbroadcast, zero_like


def scaled_norm_jacrev_jacfwd(x, s):
    # column j of a Jacobian: the jvp along basis direction j (not the vector forward mode: jac_row() of a batched value at `x_jac_1_dot = jac_row(x_jac_dot, i, t11_dot[0])` of scaled_norm_jacrev_jvp)
    x_first = scaled_norm_jacrev_jvp(x, s, basis(x, 0), zero_like(s))
    x_jac0 = jac_column(jac_like(x_first[1][0], x), 0, x_first[1][0])
    x_jac1 = jac_column(jac_like(x_first[1][1], x), 0, x_first[1][1])
    for j in range(1, basis_count(x)):
        x_col = scaled_norm_jacrev_jvp(x, s, basis(x, j), zero_like(s))[1]
        x_jac0 = jac_column(x_jac0, j, x_col[0])
        x_jac1 = jac_column(x_jac1, j, x_col[1])
    s_first = scaled_norm_jacrev_jvp(x, s, zero_like(x), basis(s, 0))
    s_jac0 = jac_column(jac_like(s_first[1][0], s), 0, s_first[1][0])
    s_jac1 = jac_column(jac_like(s_first[1][1], s), 0, s_first[1][1])
    for j in range(1, basis_count(s)):
        s_col = scaled_norm_jacrev_jvp(x, s, zero_like(x), basis(s, j))[1]
        s_jac0 = jac_column(s_jac0, j, s_col[0])
        s_jac1 = jac_column(s_jac1, j, s_col[1])
    return ((x_jac0, s_jac0), (x_jac1, s_jac1))


def scaled_norm_jacrev_jvp(x, s, x_dot, s_dot):
    r = np.sqrt(np.sum(x * x))
    r_dot = np.sum(x_dot * x + x * x_dot) * (0.5 / r)
    t3 = s * r
    t4 = 0.5 * s
    t4_dot = 0.5 * s_dot
    out = t3 + t4 * s
    out_1 = out
    x_jac = jac_like(out_1, x)
    x_jac_dot = zero_like(x_jac)
    s_jac = jac_like(out_1, s)
    s_jac_dot = zero_like(s_jac)
    t9 = basis_count(out_1)
    for i in range(0, t9, 1):
        t11_jvp = scaled_norm_vjp_bwd_jvp_s_t4_r_x(basis(out_1, i), t3, s, t4, r, x, s_dot, t4_dot, r_dot, x_dot)
        t11 = t11_jvp[0]
        t11_dot = t11_jvp[1]
        x_jac_1 = jac_row(x_jac, i, t11[0])
        x_jac_1_dot = jac_row(x_jac_dot, i, t11_dot[0])
        s_jac_1 = jac_row(s_jac, i, t11[1])
        s_jac_1_dot = jac_row(s_jac_dot, i, t11_dot[1])
        s_jac = s_jac_1
        s_jac_dot = s_jac_1_dot
        x_jac = x_jac_1
        x_jac_dot = x_jac_1_dot
    return ((x_jac, s_jac), (x_jac_dot, s_jac_dot))


def scaled_norm_vjp_bwd_jvp_s_t4_r_x(out_bar, t3, s, t4, r, x, s_dot, t4_dot, r_dot, x_dot):
    t1_bar = unbroadcast(out_bar, t3)
    t2_bar = unbroadcast(out_bar, s)
    t1 = t4 * t2_bar + 0.5 * (t2_bar * s)
    s_bar = t1 + unbroadcast(t1_bar * r, s)
    s_bar_dot = broadcast_like(broadcast_like(t4_dot * t2_bar, t1) + 0.5 * (t2_bar * s_dot), s_bar) + unbroadcast(t1_bar * r_dot, s)
    r_bar = unbroadcast(s * t1_bar, r)
    r_bar_dot = unbroadcast(s_dot * t1_bar, r)
    t2 = 0.5 / r
    t3_bar = expand_reduced(r_bar * t2, x, None)
    t3_bar_dot = expand_reduced(r_bar_dot * t2 - r_bar * (t2 / r * r_dot), x, None)
    x_bar = t3_bar * x + x * t3_bar
    x_bar_dot = t3_bar_dot * x + t3_bar * x_dot + (x_dot * t3_bar + x * t3_bar_dot)
    return ((x_bar, s_bar), (x_bar_dot, s_bar_dot))
