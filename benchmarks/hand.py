"""Hand-written Numba derivatives of the workloads in ``benchmarks/workloads.py``: what a
Numba user writes by hand, derived on paper, and the practical limit nabla is held to.

Where two forms are reasonable both are here, and the runner reports nabla against the
faster: the scalar loop in reverse mode (a tape) and in forward mode (no tape, the best
for one input); the loop Rosenbrock scattering into g[i] and g[i + 1] (reverse mode as
written) and gathering (each g[i] written once); per-example gradients in reverse and
forward mode.
"""

import math

import numba
import numpy as np

# -- ADBench GMM: reverse mode by hand ------------------------------------------------------


@numba.njit(cache=True)
def gmm_grad(alphas, means, icf, x, wishart_gamma, wishart_m):
    n, d = x.shape
    k = alphas.shape[0]
    qdiag = np.exp(icf[:, :d])
    sum_qs = np.zeros(k)
    for ik in range(k):
        for j in range(d):
            sum_qs[ik] += icf[ik, j]
    g_alphas = np.zeros(k)
    g_means = np.zeros((k, d))
    g_icf = np.zeros(icf.shape)
    g_sum_qs = np.zeros(k)
    main = np.empty(k)
    xcs = np.empty((k, d))
    vs = np.empty((k, d))
    xc_bar = np.empty(d)
    for ix in range(n):
        for ik in range(k):
            for j in range(d):
                xcs[ik, j] = x[ix, j] - means[ik, j]
            sq = 0.0
            for j in range(d):
                v = qdiag[ik, j] * xcs[ik, j]
                for i in range(j):
                    v += icf[ik, d + i * (2 * d - i - 1) // 2 + j - i - 1] * xcs[ik, i]
                vs[ik, j] = v
                sq += v * v
            main[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sq
        mx = main.max()
        s = 0.0
        for ik in range(k):
            main[ik] = math.exp(main[ik] - mx)
            s += main[ik]
        for ik in range(k):
            p = main[ik] / s
            g_alphas[ik] += p
            g_sum_qs[ik] += p
            xc_bar[:] = 0.0
            for j in range(d):
                vb = -p * vs[ik, j]
                g_icf[ik, j] += vb * qdiag[ik, j] * xcs[ik, j]
                xc_bar[j] += vb * qdiag[ik, j]
                for i in range(j):
                    q = d + i * (2 * d - i - 1) // 2 + j - i - 1
                    g_icf[ik, q] += vb * xcs[ik, i]
                    xc_bar[i] += vb * icf[ik, q]
            for j in range(d):
                g_means[ik, j] -= xc_bar[j]
    amx = alphas.max()
    sa = 0.0
    for ik in range(k):
        sa += math.exp(alphas[ik] - amx)
    g2 = wishart_gamma * wishart_gamma
    for ik in range(k):
        g_alphas[ik] -= n * math.exp(alphas[ik] - amx) / sa
        for j in range(d):
            g_icf[ik, j] += g_sum_qs[ik] + g2 * qdiag[ik, j] * qdiag[ik, j] - wishart_m
        for q in range(d, icf.shape[1]):
            g_icf[ik, q] += g2 * icf[ik, q]
    return g_alphas, g_means, g_icf


# -- ADBench LSTM: reverse mode by hand (the forward sweep keeps every gate) -------------


@numba.njit(cache=True)
def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


@numba.njit(cache=True)
def lstm_grad(main_params, extra_params, state, sequence):
    layers = state.shape[0] // 2
    b = sequence.shape[1]
    steps = sequence.shape[0] - 1
    # the forward sweep, keeping each layer's input, old state and gates
    xin = np.empty((steps, layers, b))
    hold = np.empty((steps, layers, b))
    cold = np.empty((steps, layers, b))
    gf = np.empty((steps, layers, b))
    gi = np.empty((steps, layers, b))
    go = np.empty((steps, layers, b))
    gc = np.empty((steps, layers, b))
    tcell = np.empty((steps, layers, b))
    probs = np.empty((steps, b))
    s = state.copy()
    x = np.empty(b)
    for t in range(steps):
        for j in range(b):
            x[j] = sequence[t, j] * extra_params[0, j]
        for la in range(layers):
            w = main_params[2 * la]
            bias = main_params[2 * la + 1]
            for j in range(b):
                h = s[2 * la, j]
                c = s[2 * la + 1, j]
                xin[t, la, j] = x[j]
                hold[t, la, j] = h
                cold[t, la, j] = c
                f = _sigmoid(x[j] * w[j] + bias[j])
                ig = _sigmoid(h * w[b + j] + bias[b + j])
                o = _sigmoid(x[j] * w[2 * b + j] + bias[2 * b + j])
                ch = math.tanh(h * w[3 * b + j] + bias[3 * b + j])
                c = c * f + ig * ch
                tc = math.tanh(c)
                gf[t, la, j] = f
                gi[t, la, j] = ig
                go[t, la, j] = o
                gc[t, la, j] = ch
                tcell[t, la, j] = tc
                s[2 * la, j] = o * tc
                s[2 * la + 1, j] = c
                x[j] = o * tc
        mx = -np.inf
        for j in range(b):
            y = x[j] * extra_params[1, j] + extra_params[2, j]
            probs[t, j] = y
            mx = max(mx, y)
        tot = 0.0
        for j in range(b):
            probs[t, j] = math.exp(probs[t, j] - mx)
            tot += probs[t, j]
        for j in range(b):
            probs[t, j] /= tot
    # the adjoint sweep
    scale = -1.0 / (steps * b)
    g_main = np.zeros(main_params.shape)
    g_extra = np.zeros(extra_params.shape)
    h_bar = np.zeros((layers, b))
    c_bar = np.zeros((layers, b))
    x_bar = np.empty(b)
    for t in range(steps - 1, -1, -1):
        gold = 0.0
        for j in range(b):
            gold += sequence[t + 1, j]
        for j in range(b):
            y_bar = scale * (sequence[t + 1, j] - probs[t, j] * gold)
            xtop = go[t, layers - 1, j] * tcell[t, layers - 1, j]
            g_extra[1, j] += y_bar * xtop
            g_extra[2, j] += y_bar
            x_bar[j] = y_bar * extra_params[1, j]
        for la in range(layers - 1, -1, -1):
            w = main_params[2 * la]
            for j in range(b):
                hn_bar = x_bar[j] + h_bar[la, j]
                f = gf[t, la, j]
                ig = gi[t, la, j]
                o = go[t, la, j]
                ch = gc[t, la, j]
                tc = tcell[t, la, j]
                xj = xin[t, la, j]
                h = hold[t, la, j]
                o_bar = hn_bar * tc
                cn_bar = c_bar[la, j] + hn_bar * o * (1.0 - tc * tc)
                zf = cn_bar * cold[t, la, j] * f * (1.0 - f)
                zi = cn_bar * ch * ig * (1.0 - ig)
                zo = o_bar * o * (1.0 - o)
                zc = cn_bar * ig * (1.0 - ch * ch)
                g_main[2 * la, j] += zf * xj
                g_main[2 * la, b + j] += zi * h
                g_main[2 * la, 2 * b + j] += zo * xj
                g_main[2 * la, 3 * b + j] += zc * h
                g_main[2 * la + 1, j] += zf
                g_main[2 * la + 1, b + j] += zi
                g_main[2 * la + 1, 2 * b + j] += zo
                g_main[2 * la + 1, 3 * b + j] += zc
                c_bar[la, j] = cn_bar * f
                h_bar[la, j] = zi * w[b + j] + zc * w[3 * b + j]
                x_bar[j] = zf * w[j] + zo * w[2 * b + j]
        for j in range(b):
            g_extra[0, j] += x_bar[j] * sequence[t, j]
    return g_main, g_extra


# -- ADBench bundle adjustment: forward mode by hand, 15 directions at once --------------


@numba.njit(cache=True)
def ba_jacobian(cams, points, weights, feats):
    """J[i] (2, 15): d residual_i / d (camera_i, point_i, weight_i)."""
    m = weights.shape[0]
    jac = np.empty((m, 2, 15))
    rot = np.empty(3)
    drot = np.zeros((3, 15))
    xm = np.empty(3)
    dxm = np.zeros((3, 15))
    w = np.empty(3)
    dw = np.empty((3, 15))
    dtheta = np.empty(15)
    xc = np.empty(3)
    dxc = np.empty((3, 15))
    dtmp = np.empty(15)
    for a in range(3):
        drot[a, a] = 1.0
        dxm[a, 11 + a] = 1.0
        dxm[a, 3 + a] = -1.0
    for o in range(m):
        cam = cams[o]
        for a in range(3):
            rot[a] = cam[a]
            xm[a] = points[o, a] - cam[3 + a]
        sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2]
        if sqtheta != 0.0:
            theta = math.sqrt(sqtheta)
            cos_t = math.cos(theta)
            sin_t = math.sin(theta)
            for q in range(15):
                dtheta[q] = (rot[0] * drot[0, q] + rot[1] * drot[1, q]
                             + rot[2] * drot[2, q]) / theta
            for a in range(3):
                w[a] = rot[a] / theta
                for q in range(15):
                    dw[a, q] = (drot[a, q] - w[a] * dtheta[q]) / theta
            wx = w[0] * xm[0] + w[1] * xm[1] + w[2] * xm[2]
            tmp = wx * (1.0 - cos_t)
            for q in range(15):
                dwx = (dw[0, q] * xm[0] + w[0] * dxm[0, q] + dw[1, q] * xm[1]
                       + w[1] * dxm[1, q] + dw[2, q] * xm[2] + w[2] * dxm[2, q])
                dtmp[q] = dwx * (1.0 - cos_t) + wx * sin_t * dtheta[q]
            for a in range(3):
                a1 = (a + 1) % 3
                a2 = (a + 2) % 3
                cr = w[a1] * xm[a2] - w[a2] * xm[a1]
                xc[a] = xm[a] * cos_t + cr * sin_t + w[a] * tmp
                for q in range(15):
                    dcr = (dw[a1, q] * xm[a2] + w[a1] * dxm[a2, q]
                           - dw[a2, q] * xm[a1] - w[a2] * dxm[a1, q])
                    dxc[a, q] = (dxm[a, q] * cos_t - xm[a] * sin_t * dtheta[q]
                                 + dcr * sin_t + cr * cos_t * dtheta[q]
                                 + dw[a, q] * tmp + w[a] * dtmp[q])
        else:
            for a in range(3):
                a1 = (a + 1) % 3
                a2 = (a + 2) % 3
                xc[a] = xm[a] + rot[a1] * xm[a2] - rot[a2] * xm[a1]
                for q in range(15):
                    dxc[a, q] = (dxm[a, q] + drot[a1, q] * xm[a2] + rot[a1] * dxm[a2, q]
                                 - drot[a2, q] * xm[a1] - rot[a2] * dxm[a1, q])
        p0 = xc[0] / xc[2]
        p1 = xc[1] / xc[2]
        rsq = p0 * p0 + p1 * p1
        k1 = cam[9]
        k2 = cam[10]
        scale = 1.0 + k1 * rsq + k2 * rsq * rsq
        f = cam[6]
        wt = weights[o]
        r0 = p0 * scale * f + cam[7] - feats[o, 0]
        r1 = p1 * scale * f + cam[8] - feats[o, 1]
        for q in range(15):
            dp0 = (dxc[0, q] - p0 * dxc[2, q]) / xc[2]
            dp1 = (dxc[1, q] - p1 * dxc[2, q]) / xc[2]
            drsq = 2.0 * (p0 * dp0 + p1 * dp1)
            dscale = (k1 + 2.0 * k2 * rsq) * drsq
            jac[o, 0, q] = wt * ((dp0 * scale + p0 * dscale) * f)
            jac[o, 1, q] = wt * ((dp1 * scale + p1 * dscale) * f)
        # the parameters that enter after the projection
        jac[o, 0, 6] += wt * p0 * scale
        jac[o, 1, 6] += wt * p1 * scale
        jac[o, 0, 7] += wt
        jac[o, 1, 8] += wt
        jac[o, 0, 9] += wt * p0 * rsq * f
        jac[o, 1, 9] += wt * p1 * rsq * f
        jac[o, 0, 10] += wt * p0 * rsq * rsq * f
        jac[o, 1, 10] += wt * p1 * rsq * rsq * f
        jac[o, 0, 14] = r0
        jac[o, 1, 14] = r1
    return jac


# -- sum(sin(x)^2) ---------------------------------------------------------------------------


@numba.njit(cache=True)
def sum_sin2_grad(x):
    g = np.empty_like(x)
    for i in range(x.shape[0]):
        g[i] = math.sin(2.0 * x[i])  # 2 sin(x) cos(x), one sine
    return g


# -- the scalar loop: reverse mode with a tape, and forward mode ----------------------------


@numba.njit(cache=True)
def scalar_loop_grad_reverse(x, n):
    tape = np.empty(n)
    for i in range(n):
        tape[i] = x
        x = x - 0.01 * math.sin(x) * x
    x_bar = 1.0
    for i in range(n - 1, -1, -1):
        x = tape[i]
        x_bar = x_bar * (1.0 - 0.01 * math.sin(x) - 0.01 * x * math.cos(x))
    return x_bar


@numba.njit(cache=True)
def scalar_loop_grad_forward(x, n):
    x_dot = 1.0
    for i in range(n):
        s = math.sin(x)
        x_dot = x_dot * (1.0 - 0.01 * s - 0.01 * x * math.cos(x))
        x = x - 0.01 * s * x
    return x_dot


# -- the loop Rosenbrock: scatter (reverse mode as written) and gather -----------------------


@numba.njit(cache=True)
def rosenbrock_grad_scatter(x):
    n = x.shape[0]
    g = np.zeros(n)
    for i in range(n - 2, -1, -1):
        d = x[i + 1] - x[i] ** 2
        g[i] += -400.0 * d * x[i] - 2.0 * (1.0 - x[i])
        g[i + 1] += 200.0 * d
    return g


@numba.njit(cache=True)
def rosenbrock_grad_gather(x):
    n = x.shape[0]
    g = np.empty(n)
    g[0] = -400.0 * (x[1] - x[0] ** 2) * x[0] - 2.0 * (1.0 - x[0])
    for i in range(1, n - 1):
        g[i] = (200.0 * (x[i] - x[i - 1] ** 2) - 400.0 * (x[i + 1] - x[i] ** 2) * x[i]
                - 2.0 * (1.0 - x[i]))
    g[n - 1] = 200.0 * (x[n - 1] - x[n - 2] ** 2)
    return g


# -- the MLP ----------------------------------------------------------------------------------


@numba.njit(cache=True)
def mlp_grad(w1, b1, w2, b2, x, y):
    h = np.tanh(x @ w1 + b1)
    r = 2.0 * (h @ w2 + b2 - y)
    g_w2 = h.T @ r
    g_b2 = r.sum(axis=0)
    hz = (r @ w2.T) * (1.0 - h * h)
    g_w1 = x.T @ hz
    g_b1 = hz.sum(axis=0)
    return g_w1, g_b1, g_w2, g_b2


# -- per-example gradients of the oscillator: reverse and forward, prange --------------------


@numba.njit(cache=True)
def oscillator_reverse(k, x0, n):
    tape = np.empty(n)
    x, v = x0, 0.0
    for i in range(n):
        tape[i] = x
        a = -k * x - 0.1 * v
        v = v + 0.01 * a
        x = x + 0.01 * v
    x_bar, v_bar, k_bar = 1.0, 0.0, 0.0
    for i in range(n - 1, -1, -1):
        x = tape[i]
        v_bar = v_bar + 0.01 * x_bar
        a_bar = 0.01 * v_bar
        v_bar = v_bar - 0.1 * a_bar
        x_bar = x_bar - k * a_bar
        k_bar = k_bar - a_bar * x
    return k_bar


@numba.njit(cache=True)
def oscillator_forward(k, x0, n):
    x, v, x_dot, v_dot = x0, 0.0, 0.0, 0.0
    for i in range(n):
        a = -k * x - 0.1 * v
        a_dot = -x - k * x_dot - 0.1 * v_dot
        v = v + 0.01 * a
        v_dot = v_dot + 0.01 * a_dot
        x = x + 0.01 * v
        x_dot = x_dot + 0.01 * v_dot
    return x_dot


@numba.njit(parallel=True, cache=True)
def oscillator_grads_reverse(ks, x0, n):
    out = np.empty(ks.shape[0])
    for b in numba.prange(ks.shape[0]):
        out[b] = oscillator_reverse(ks[b], x0, n)
    return out


@numba.njit(parallel=True, cache=True)
def oscillator_grads_forward(ks, x0, n):
    out = np.empty(ks.shape[0])
    for b in numba.prange(ks.shape[0]):
        out[b] = oscillator_forward(ks[b], x0, n)
    return out
