"""The benchmark workloads as their users write them: plain Python functions with NumPy
and ``math``, explicit loops where a Numba user would loop. nabla differentiates these
as they are; ``benchmarks/hand.py`` has the hand-written Numba derivatives,
``benchmarks/baselines.py`` the JAX, PyTorch and autograd versions.

The three ADBench workloads follow the published definitions (ADBench, Srajer, Baydin,
Fitzgibbon, Kukelova, Pajdla, "A benchmark of selected algorithmic differentiation
tools on some problems in computer vision and machine learning", 2018; its C++ and
Python reference objectives): the Gaussian mixture model objective, the LSTM loss and
the bundle-adjustment reprojection error.
"""

import math

import numpy as np

# -- ADBench GMM --------------------------------------------------------------------------
# Parameters: alphas (K,), means (K, d), icf (K, d (d + 1) / 2): the inverse covariance
# factor Q_k = L_k with diagonal exp(icf[k, :d]) and strict lower triangle icf[k, d:],
# column by column (ADBench's layout). The objective is the negative log-likelihood of
# the n points x under the mixture, log-sum-exp over components, plus the Wishart prior.


def logsumexp(v):
    mx = np.max(v)
    return np.log(np.sum(np.exp(v - mx))) + mx


def log_gamma_distrib(a, p):
    out = 0.25 * p * (p - 1) * math.log(math.pi)
    for j in range(1, p + 1):
        out = out + math.lgamma(a + 0.5 * (1 - j))
    return out


def log_wishart_prior(p, wishart_gamma, wishart_m, sum_qs, icf, lgamma_term):
    n = p + wishart_m + 1
    k = icf.shape[0]
    out = 0.0
    for ik in range(k):
        frobenius = np.sum(np.exp(icf[ik, :p]) ** 2) + np.sum(icf[ik, p:] ** 2)
        out = out + 0.5 * wishart_gamma * wishart_gamma * frobenius - wishart_m * sum_qs[ik]
    c = n * p * (math.log(wishart_gamma) - 0.5 * math.log(2.0)) - lgamma_term
    return out - k * c


def gmm_objective(alphas, means, icf, x, wishart_gamma, wishart_m):
    """ADBench's GMM objective."""
    d = x.shape[1]
    lgamma_term = log_gamma_distrib(0.5 * (d + wishart_m + 1), d)
    return gmm_objective_lg(alphas, means, icf, x, wishart_gamma, wishart_m, lgamma_term)


def gmm_objective_lg(alphas, means, icf, x, wishart_gamma, wishart_m, lgamma_term):
    """The same, with the Wishart prior's constant log Gamma_d(n / 2) passed in."""
    n = x.shape[0]
    d = x.shape[1]
    k = alphas.shape[0]
    sum_qs = np.sum(icf[:, :d], axis=1)
    main_term = np.empty((n, k))
    for ix in range(n):
        for ik in range(k):
            # |Q_k (x_i - mu_k)|^2, Q_k's rows one at a time
            sq = 0.0
            for j in range(d):
                v = math.exp(icf[ik, j]) * (x[ix, j] - means[ik, j])
                for i in range(j):
                    v = v + icf[ik, d + i * (2 * d - i - 1) // 2 + j - i - 1] * (
                        x[ix, i] - means[ik, i])
                sq = sq + v * v
            main_term[ix, ik] = alphas[ik] + sum_qs[ik] - 0.5 * sq
    slse = 0.0
    for ix in range(n):
        slse = slse + logsumexp(main_term[ix])
    const = -n * d * 0.5 * math.log(2 * math.pi)
    return (const + slse - n * logsumexp(alphas)
            + log_wishart_prior(d, wishart_gamma, wishart_m, sum_qs, icf, lgamma_term))


def gmm_inputs(d, k, n, seed=0):
    rng = np.random.default_rng(seed)
    alphas = rng.normal(size=k)
    means = rng.uniform(size=(k, d))
    icf = rng.normal(scale=0.5, size=(k, d * (d + 1) // 2))
    x = rng.normal(size=(n, d))
    return alphas, means, icf, x, 1.0, 0


# -- ADBench LSTM -------------------------------------------------------------------------
# main_params (2 l, 4 b): layer i's weights in row 2 i, biases in row 2 i + 1;
# extra_params (3, b): input weights, output weights, output biases; state (2 l, b): layer
# i's hidden state in row 2 i, its cell in row 2 i + 1; sequence (c, b).


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_model(weight, bias, hidden, cell, inp):
    b = hidden.shape[0]
    forget = sigmoid(inp * weight[:b] + bias[:b])
    ingate = sigmoid(hidden * weight[b:2 * b] + bias[b:2 * b])
    outgate = sigmoid(inp * weight[2 * b:3 * b] + bias[2 * b:3 * b])
    change = np.tanh(hidden * weight[3 * b:] + bias[3 * b:])
    cell = cell * forget + ingate * change
    hidden = outgate * np.tanh(cell)
    return hidden, cell


def lstm_predict(w, w2, s, x):
    s2 = s.copy()
    x = x * w2[0]
    for i in range(0, s.shape[0], 2):
        h, c = lstm_model(w[i], w[i + 1], s[i], s[i + 1], x)
        s2[i] = h
        s2[i + 1] = c
        x = h
    return x * w2[1] + w2[2], s2


def lstm_objective(main_params, extra_params, state, sequence):
    total = 0.0
    count = 0
    inp = sequence[0]
    for t in range(sequence.shape[0] - 1):
        ypred, state = lstm_predict(main_params, extra_params, state, inp)
        ynorm = ypred - np.log(np.sum(np.exp(ypred)))
        ygold = sequence[t + 1]
        total = total + np.sum(ygold * ynorm)
        count = count + ygold.shape[0]
        inp = ygold
    return -total / count


def lstm_inputs(layers, steps, b, seed=0):
    rng = np.random.default_rng(seed)
    main_params = rng.uniform(-1, 1, size=(2 * layers, 4 * b))
    extra_params = rng.uniform(-1, 1, size=(3, b))
    state = rng.uniform(-1, 1, size=(2 * layers, b))
    sequence = rng.uniform(-1, 1, size=(steps, b))
    return main_params, extra_params, state, sequence


# -- ADBench bundle adjustment --------------------------------------------------------------
# A camera has 11 parameters: Rodrigues rotation (0:3), centre (3:6), focal length (6),
# principal point (7:9), radial distortion (9:11). An observation's residual is
# w (project(cam, X) - feat) (2 values); its Jacobian block has 15 columns: the camera's
# 11, the point's 3, the weight. (ADBench's weight-error rows, 1 - w^2, have the
# derivative -2 w and are left out.)


def rodrigues_rotate_point(rot, x):
    sqtheta = np.sum(rot * rot)
    if sqtheta != 0.0:
        theta = np.sqrt(sqtheta)
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        w = rot / theta
        w_cross_x = np.cross(w, x)
        tmp = np.dot(w, x) * (1.0 - costheta)
        return x * costheta + w_cross_x * sintheta + w * tmp
    return x + np.cross(rot, x)


def radial_distort(rad_params, proj):
    rsq = np.sum(proj * proj)
    scale = 1.0 + rad_params[0] * rsq + rad_params[1] * rsq * rsq
    return proj * scale


def project(cam, x):
    xcam = rodrigues_rotate_point(cam[0:3], x - cam[3:6])
    distorted = radial_distort(cam[9:11], xcam[0:2] / xcam[2])
    return distorted * cam[6] + cam[7:9]


def reproj_error(cam, x, w, feat):
    """ADBench's reprojection error, with np.cross as its Python reference writes it."""
    return w * (project(cam, x) - feat)


# The same with the cross product written out (np.cross has no rule in nabla yet), as
# nabla takes it today.


def cross(a, b):
    # into an array of its own: vmap(jacfwd(f)) refuses np.array([...]) (array_of)
    out = np.empty(3)
    out[0] = a[1] * b[2] - a[2] * b[1]
    out[1] = a[2] * b[0] - a[0] * b[2]
    out[2] = a[0] * b[1] - a[1] * b[0]
    return out


def rodrigues_rotate_point_x(rot, x):
    sqtheta = np.sum(rot * rot)
    if sqtheta != 0.0:
        theta = np.sqrt(sqtheta)
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        w = rot / theta
        w_cross_x = cross(w, x)
        tmp = np.dot(w, x) * (1.0 - costheta)
        return x * costheta + w_cross_x * sintheta + w * tmp
    return x + cross(rot, x)


def project_x(cam, x):
    xcam = rodrigues_rotate_point_x(cam[0:3], x - cam[3:6])
    distorted = radial_distort(cam[9:11], xcam[0:2] / xcam[2])
    return distorted * cam[6] + cam[7:9]


def reproj_error_x(cam, x, w, feat):
    return w * (project_x(cam, x) - feat)


def ba_inputs(n_cams, n_points, n_obs, seed=0):
    rng = np.random.default_rng(seed)
    cams = np.empty((n_cams, 11))
    cams[:, 0:3] = rng.normal(scale=0.2, size=(n_cams, 3))
    cams[:, 3:6] = rng.normal(size=(n_cams, 3)) + np.array([0.0, 0.0, -10.0])
    cams[:, 6] = rng.uniform(300, 500, size=n_cams)
    cams[:, 7:9] = rng.normal(scale=5.0, size=(n_cams, 2))
    cams[:, 9:11] = rng.normal(scale=1e-3, size=(n_cams, 2))
    points = rng.normal(size=(n_points, 3))
    weights = rng.uniform(0.5, 1.5, size=n_obs)
    obs_cam = rng.integers(0, n_cams, size=n_obs)
    obs_pt = rng.integers(0, n_points, size=n_obs)
    feats = rng.normal(scale=50.0, size=(n_obs, 2))
    # each observation's camera and point, gathered (what a per-observation map takes)
    return cams[obs_cam], points[obs_pt], weights, feats


# -- small workloads ------------------------------------------------------------------------


def sum_sin2(x):
    return np.sum(np.sin(x) ** 2)


def scalar_loop(x, n):
    for i in range(n):
        x = x - 0.01 * np.sin(x) * x
    return x


def rosenbrock(x):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return s


def mlp_loss(w1, b1, w2, b2, x, y):
    h = np.tanh(x @ w1 + b1)
    p = h @ w2 + b2
    return np.sum((p - y) ** 2)


def mlp_inputs(batch, n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    w1 = rng.normal(scale=1 / np.sqrt(n_in), size=(n_in, n_hidden))
    b1 = rng.normal(scale=0.1, size=n_hidden)
    w2 = rng.normal(scale=1 / np.sqrt(n_hidden), size=(n_hidden, n_out))
    b2 = rng.normal(scale=0.1, size=n_out)
    x = rng.normal(size=(batch, n_in))
    y = rng.normal(size=(batch, n_out))
    return w1, b1, w2, b2, x, y


def oscillator(k, x0, n):
    """A damped oscillator's final position after n explicit Euler steps (stiffness k)."""
    x = x0
    v = 0.0
    for i in range(n):
        a = -k * x - 0.1 * v
        v = v + 0.01 * a
        x = x + 0.01 * v
    return x
