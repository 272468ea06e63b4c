"""The workloads in JAX, PyTorch (CPU) and HIPS autograd, each as its users write it.

JAX: ``jit(grad)``, with ``lax.scan``/``fori_loop`` where the workload is a loop
(``"jax"``), and the vectorized form where one exists (``"jax-vec"``); vmap(jacfwd)
for bundle adjustment, vmap(grad) for per-example gradients. PyTorch and autograd run
eagerly: vectorized NumPy-style code, a Python loop over time for the LSTM; the
per-example workloads use that the examples are independent (the gradient of the sum
gives every example's gradient, one backward pass per output row for the Jacobian).

Each maker takes the workload's arguments and returns ``(run, convert)``: ``run()`` is
timed (it waits for the result), ``convert(result)`` gives the NumPy arrays the runner
compares. A library that is not installed makes ``available(lib)`` return a reason.
"""

import importlib
import math

import numpy as np

_REASONS = {}


def available(lib: str):
    """None when ``lib`` ("jax", "torch", "autograd") imports, else why not."""
    if lib not in _REASONS:
        try:
            importlib.import_module(lib)
            if lib == "jax":
                import jax

                jax.config.update("jax_enable_x64", True)
            if lib == "torch":
                import torch  # noqa: F401
            _REASONS[lib] = None
        except Exception as e:  # noqa: BLE001 - any failure to import means "skip"
            _REASONS[lib] = f"not installed ({type(e).__name__}: {e})"
    return _REASONS[lib]


def _np(xs):
    return [np.asarray(x, dtype=np.float64) for x in xs]


def _lower_indices(d):
    """(rows, cols) of the strict lower triangle, column by column (ADBench's order)."""
    rows, cols = [], []
    for i in range(d):
        for j in range(i + 1, d):
            rows.append(j)
            cols.append(i)
    return np.array(rows), np.array(cols)


def _lgamma_term(d, wishart_m):
    a = 0.5 * (d + wishart_m + 1)
    return 0.25 * d * (d - 1) * math.log(math.pi) + sum(
        math.lgamma(a + 0.5 * (1 - j)) for j in range(1, d + 1))


# -- JAX -----------------------------------------------------------------------------------


def _jax_timed(f, *args):
    import jax

    jargs = [jax.numpy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]

    def run():
        return jax.block_until_ready(f(*jargs))
    return run


def jax_gmm(alphas, means, icf, x, wishart_gamma, wishart_m):
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    n, d = x.shape
    k = alphas.shape[0]
    rows, cols = _lower_indices(d)
    lg = _lgamma_term(d, wishart_m)

    def objective(alphas, means, icf):
        qdiag = jnp.exp(icf[:, :d])
        sum_qs = jnp.sum(icf[:, :d], axis=1)
        ls = jnp.zeros((k, d, d)).at[:, rows, cols].set(icf[:, d:])
        ls = ls + jax.vmap(jnp.diag)(qdiag)
        xc = x[:, None, :] - means[None, :, :]
        lx = jnp.einsum("kij,nkj->nki", ls, xc)
        main = alphas + sum_qs - 0.5 * jnp.sum(lx * lx, axis=2)
        slse = jnp.sum(logsumexp(main, axis=1))
        n1 = d + wishart_m + 1
        frob = jnp.sum(qdiag * qdiag, axis=1) + jnp.sum(icf[:, d:] ** 2, axis=1)
        prior = jnp.sum(0.5 * wishart_gamma ** 2 * frob - wishart_m * sum_qs) - k * (
            n1 * d * (math.log(wishart_gamma) - 0.5 * math.log(2.0)) - lg)
        const = -n * d * 0.5 * math.log(2 * math.pi)
        return const + slse - n * logsumexp(alphas) + prior

    g = jax.jit(jax.grad(objective, argnums=(0, 1, 2)))
    return _jax_timed(g, alphas, means, icf), _np


def jax_lstm(main_params, extra_params, state, sequence):
    import jax
    import jax.numpy as jnp

    layers = state.shape[0] // 2
    b = sequence.shape[1]

    def objective(main_params, extra_params):
        def step(s, io):
            inp, gold = io
            x = inp * extra_params[0]
            new = []
            for la in range(layers):
                w, bias = main_params[2 * la], main_params[2 * la + 1]
                h, c = s[2 * la], s[2 * la + 1]
                f = jax.nn.sigmoid(x * w[:b] + bias[:b])
                ig = jax.nn.sigmoid(h * w[b:2 * b] + bias[b:2 * b])
                o = jax.nn.sigmoid(x * w[2 * b:3 * b] + bias[2 * b:3 * b])
                ch = jnp.tanh(h * w[3 * b:] + bias[3 * b:])
                c = c * f + ig * ch
                h = o * jnp.tanh(c)
                new += [h, c]
                x = h
            y = x * extra_params[1] + extra_params[2]
            ynorm = y - jnp.log(jnp.sum(jnp.exp(y)))
            return jnp.stack(new), jnp.sum(gold * ynorm)

        _, totals = jax.lax.scan(step, jnp.asarray(state), (sequence[:-1], sequence[1:]))
        return -jnp.sum(totals) / ((sequence.shape[0] - 1) * b)

    g = jax.jit(jax.grad(objective, argnums=(0, 1)))
    return _jax_timed(g, main_params, extra_params), _np


def _jax_reproj(cam, x, w, feat):
    import jax.numpy as jnp

    rot = cam[0:3]
    xm = x - cam[3:6]
    sqtheta = jnp.sum(rot * rot)
    safe = jnp.where(sqtheta != 0.0, sqtheta, 1.0)
    theta = jnp.sqrt(safe)
    wv = rot / theta
    rotated = (xm * jnp.cos(theta) + jnp.cross(wv, xm) * jnp.sin(theta)
               + wv * jnp.dot(wv, xm) * (1.0 - jnp.cos(theta)))
    xcam = jnp.where(sqtheta != 0.0, rotated, xm + jnp.cross(rot, xm))
    proj = xcam[0:2] / xcam[2]
    rsq = jnp.sum(proj * proj)
    distorted = proj * (1.0 + cam[9] * rsq + cam[10] * rsq * rsq)
    return w * (distorted * cam[6] + cam[7:9] - feat)


def jax_ba(cams, points, weights, feats):
    import jax

    jac = jax.jit(jax.vmap(jax.jacfwd(_jax_reproj, argnums=(0, 1, 2))))

    def convert(r):
        jc, jx, jw = (np.asarray(a) for a in r)
        return [np.concatenate([jc, jx, jw[:, :, None]], axis=2)]
    return _jax_timed(jac, cams, points, weights, feats), convert


def jax_sum_sin2(x):
    import jax
    import jax.numpy as jnp

    g = jax.jit(jax.grad(lambda x: jnp.sum(jnp.sin(x) ** 2)))
    return _jax_timed(g, x), lambda r: _np([r])


def jax_scalar_loop(x, n):
    import jax
    import jax.numpy as jnp

    def f(x, n):
        return jax.lax.fori_loop(0, n, lambda i, x: x - 0.01 * jnp.sin(x) * x, x)

    # reverse mode through fori_loop needs a static trip count (it becomes a scan)
    g = jax.jit(jax.grad(f), static_argnums=1)
    xj = jnp.asarray(x)

    def run():
        return jax.block_until_ready(g(xj, n))
    return run, lambda r: _np([r])


def jax_rosenbrock(x):
    import jax

    def f(x):
        def body(i, s):
            return s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
        return jax.lax.fori_loop(0, x.shape[0] - 1, body, 0.0)

    return _jax_timed(jax.jit(jax.grad(f)), x), lambda r: _np([r])


def jax_rosenbrock_vec(x):
    import jax
    import jax.numpy as jnp

    def f(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    return _jax_timed(jax.jit(jax.grad(f)), x), lambda r: _np([r])


def jax_mlp(w1, b1, w2, b2, x, y):
    import jax
    import jax.numpy as jnp

    def loss(w1, b1, w2, b2):
        h = jnp.tanh(x @ w1 + b1)
        return jnp.sum((h @ w2 + b2 - y) ** 2)

    return _jax_timed(jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3))), w1, b1, w2, b2), _np


def jax_oscillator(ks, x0, n):
    import jax
    import jax.numpy as jnp

    def osc(k, x0):
        def step(carry, _):
            x, v = carry
            a = -k * x - 0.1 * v
            v = v + 0.01 * a
            return (x + 0.01 * v, v), None
        return jax.lax.scan(step, (x0, 0.0), None, length=n)[0][0]

    f = jax.jit(jax.vmap(jax.grad(osc), in_axes=(0, None)))
    kj = jnp.asarray(ks)

    def run():
        return jax.block_until_ready(f(kj, x0))
    return run, lambda r: _np([r])


# -- PyTorch ---------------------------------------------------------------------------------


def _torch_leaves(*arrays):
    import torch

    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def _torch_grad(loss_fn, leaves):
    import torch

    def run():
        return torch.autograd.grad(loss_fn(*leaves), leaves)
    return run, lambda r: [t.detach().numpy() for t in r]


def torch_gmm(alphas, means, icf, x, wishart_gamma, wishart_m):
    import torch

    n, d = x.shape
    k = alphas.shape[0]
    rows, cols = (torch.as_tensor(i) for i in _lower_indices(d))
    lg = _lgamma_term(d, wishart_m)
    xt = torch.tensor(x)

    def objective(alphas, means, icf):
        qdiag = torch.exp(icf[:, :d])
        sum_qs = torch.sum(icf[:, :d], dim=1)
        ls = torch.zeros((k, d, d), dtype=torch.float64)
        ls[:, rows, cols] = icf[:, d:]
        ls = ls + torch.diag_embed(qdiag)
        xc = xt[:, None, :] - means[None, :, :]
        lx = torch.einsum("kij,nkj->nki", ls, xc)
        main = alphas + sum_qs - 0.5 * torch.sum(lx * lx, dim=2)
        slse = torch.sum(torch.logsumexp(main, dim=1))
        n1 = d + wishart_m + 1
        frob = torch.sum(qdiag * qdiag, dim=1) + torch.sum(icf[:, d:] ** 2, dim=1)
        prior = torch.sum(0.5 * wishart_gamma ** 2 * frob - wishart_m * sum_qs) - k * (
            n1 * d * (math.log(wishart_gamma) - 0.5 * math.log(2.0)) - lg)
        const = -n * d * 0.5 * math.log(2 * math.pi)
        return const + slse - n * torch.logsumexp(alphas, dim=0) + prior

    return _torch_grad(objective, _torch_leaves(alphas, means, icf))


def torch_lstm(main_params, extra_params, state, sequence):
    import torch

    layers = state.shape[0] // 2
    b = sequence.shape[1]
    seq = torch.tensor(sequence)
    st = torch.tensor(state)

    def objective(main_params, extra_params):
        s = list(st)
        total = 0.0
        inp = seq[0]
        for t in range(seq.shape[0] - 1):
            x = inp * extra_params[0]
            for la in range(layers):
                w, bias = main_params[2 * la], main_params[2 * la + 1]
                h, c = s[2 * la], s[2 * la + 1]
                f = torch.sigmoid(x * w[:b] + bias[:b])
                ig = torch.sigmoid(h * w[b:2 * b] + bias[b:2 * b])
                o = torch.sigmoid(x * w[2 * b:3 * b] + bias[2 * b:3 * b])
                ch = torch.tanh(h * w[3 * b:] + bias[3 * b:])
                c = c * f + ig * ch
                h = o * torch.tanh(c)
                s[2 * la], s[2 * la + 1] = h, c
                x = h
            y = x * extra_params[1] + extra_params[2]
            gold = seq[t + 1]
            total = total + torch.sum(gold * (y - torch.log(torch.sum(torch.exp(y)))))
            inp = gold
        return -total / ((seq.shape[0] - 1) * b)

    return _torch_grad(objective, _torch_leaves(main_params, extra_params))


def _torch_reproj(cams, points, w, feats):
    """Every observation's residual at once, (m, 2)."""
    import torch

    rot = cams[:, 0:3]
    xm = points - cams[:, 3:6]
    sqtheta = torch.sum(rot * rot, dim=1, keepdim=True)
    theta = torch.sqrt(torch.where(sqtheta != 0.0, sqtheta, torch.ones_like(sqtheta)))
    wv = rot / theta
    rotated = (xm * torch.cos(theta) + torch.linalg.cross(wv, xm) * torch.sin(theta)
               + wv * torch.sum(wv * xm, dim=1, keepdim=True) * (1.0 - torch.cos(theta)))
    xcam = torch.where(sqtheta != 0.0, rotated, xm + torch.linalg.cross(rot, xm))
    proj = xcam[:, 0:2] / xcam[:, 2:3]
    rsq = torch.sum(proj * proj, dim=1, keepdim=True)
    distorted = proj * (1.0 + cams[:, 9:10] * rsq + cams[:, 10:11] * rsq * rsq)
    return w[:, None] * (distorted * cams[:, 6:7] + cams[:, 7:9] - feats)


def torch_ba(cams, points, weights, feats):
    import torch

    leaves = _torch_leaves(cams, points, weights)
    ft = torch.tensor(feats)

    def run():
        res = _torch_reproj(*leaves, ft)
        return [torch.autograd.grad(res[:, r].sum(), leaves, retain_graph=r == 0)
                for r in range(2)]

    def convert(rows):
        return [np.stack([np.concatenate([g[0].numpy(), g[1].numpy(), g[2].numpy()[:, None]],
                                         axis=1) for g in rows], axis=1)]
    return run, convert


def torch_sum_sin2(x):
    import torch

    return _torch_grad(lambda x: torch.sum(torch.sin(x) ** 2), _torch_leaves(x))


def torch_rosenbrock_vec(x):
    import torch

    return _torch_grad(lambda x: torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2
                                           + (1 - x[:-1]) ** 2), _torch_leaves(x))


def torch_mlp(w1, b1, w2, b2, x, y):
    import torch

    xt, yt = torch.tensor(x), torch.tensor(y)

    def loss(w1, b1, w2, b2):
        return torch.sum((torch.tanh(xt @ w1 + b1) @ w2 + b2 - yt) ** 2)
    return _torch_grad(loss, _torch_leaves(w1, b1, w2, b2))


def torch_oscillator(ks, x0, n):
    import torch

    def total(k):
        x = torch.full_like(k, x0)
        v = torch.zeros_like(k)
        for i in range(n):
            a = -k * x - 0.1 * v
            v = v + 0.01 * a
            x = x + 0.01 * v
        return torch.sum(x)  # examples are independent: d sum / d k_b = d x_b / d k_b
    return _torch_grad(total, _torch_leaves(ks))


# -- HIPS autograd ---------------------------------------------------------------------------


def _ag_grad(f, args, argnums):
    from autograd import grad

    g = grad(f, argnums)

    def run():
        return g(*args)
    return run, lambda r: _np(r if isinstance(r, tuple) else [r])


def autograd_gmm(alphas, means, icf, x, wishart_gamma, wishart_m):
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    n, d = x.shape
    k = alphas.shape[0]
    rows, cols = _lower_indices(d)
    lg = _lgamma_term(d, wishart_m)
    # icf[:, d:] placed into the strict lower triangle by a constant 0/1 tensor
    place = np.zeros((icf.shape[1] - d, d, d))
    place[np.arange(rows.size), rows, cols] = 1.0

    def objective(alphas, means, icf):
        qdiag = anp.exp(icf[:, :d])
        sum_qs = anp.sum(icf[:, :d], axis=1)
        ls = anp.einsum("kq,qij->kij", icf[:, d:], place) + qdiag[:, :, None] * np.eye(d)
        xc = x[:, None, :] - means[None, :, :]
        lx = anp.einsum("kij,nkj->nki", ls, xc)
        main = alphas + sum_qs - 0.5 * anp.sum(lx * lx, axis=2)
        slse = anp.sum(logsumexp(main, axis=1))
        n1 = d + wishart_m + 1
        frob = anp.sum(qdiag * qdiag, axis=1) + anp.sum(icf[:, d:] ** 2, axis=1)
        prior = anp.sum(0.5 * wishart_gamma ** 2 * frob - wishart_m * sum_qs) - k * (
            n1 * d * (math.log(wishart_gamma) - 0.5 * math.log(2.0)) - lg)
        const = -n * d * 0.5 * math.log(2 * math.pi)
        return const + slse - n * logsumexp(alphas) + prior

    return _ag_grad(objective, (alphas, means, icf), (0, 1, 2))


def autograd_lstm(main_params, extra_params, state, sequence):
    import autograd.numpy as anp

    layers = state.shape[0] // 2
    b = sequence.shape[1]

    def sigmoid(z):
        return 1.0 / (1.0 + anp.exp(-z))

    def objective(main_params, extra_params):
        s = list(state)
        total = 0.0
        inp = sequence[0]
        for t in range(sequence.shape[0] - 1):
            x = inp * extra_params[0]
            for la in range(layers):
                w, bias = main_params[2 * la], main_params[2 * la + 1]
                h, c = s[2 * la], s[2 * la + 1]
                f = sigmoid(x * w[:b] + bias[:b])
                ig = sigmoid(h * w[b:2 * b] + bias[b:2 * b])
                o = sigmoid(x * w[2 * b:3 * b] + bias[2 * b:3 * b])
                ch = anp.tanh(h * w[3 * b:] + bias[3 * b:])
                c = c * f + ig * ch
                h = o * anp.tanh(c)
                s[2 * la], s[2 * la + 1] = h, c
                x = h
            y = x * extra_params[1] + extra_params[2]
            gold = sequence[t + 1]
            total = total + anp.sum(gold * (y - anp.log(anp.sum(anp.exp(y)))))
            inp = gold
        return -total / ((sequence.shape[0] - 1) * b)

    return _ag_grad(objective, (main_params, extra_params), (0, 1))


def autograd_ba(cams, points, weights, feats):
    import autograd.numpy as anp
    from autograd import grad

    def residual_row(cams, points, w, r):
        rot = cams[:, 0:3]
        xm = points - cams[:, 3:6]
        sqtheta = anp.sum(rot * rot, axis=1, keepdims=True)
        theta = anp.sqrt(anp.where(sqtheta != 0.0, sqtheta, 1.0))
        wv = rot / theta
        rotated = (xm * anp.cos(theta) + anp.cross(wv, xm) * anp.sin(theta)
                   + wv * anp.sum(wv * xm, axis=1, keepdims=True) * (1.0 - anp.cos(theta)))
        xcam = anp.where(sqtheta != 0.0, rotated, xm + anp.cross(rot, xm))
        proj = xcam[:, 0:2] / xcam[:, 2:3]
        rsq = anp.sum(proj * proj, axis=1, keepdims=True)
        distorted = proj * (1.0 + cams[:, 9:10] * rsq + cams[:, 10:11] * rsq * rsq)
        res = w[:, None] * (distorted * cams[:, 6:7] + cams[:, 7:9] - feats)
        return anp.sum(res[:, r])

    g = grad(residual_row, (0, 1, 2))

    def run():
        return [g(cams, points, weights, r) for r in range(2)]

    def convert(rows):
        return [np.stack([np.concatenate([r[0], r[1], r[2][:, None]], axis=1) for r in rows],
                         axis=1)]
    return run, convert


def autograd_sum_sin2(x):
    import autograd.numpy as anp

    return _ag_grad(lambda x: anp.sum(anp.sin(x) ** 2), (x,), 0)


def autograd_rosenbrock_vec(x):
    import autograd.numpy as anp

    return _ag_grad(lambda x: anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
                    (x,), 0)


def autograd_mlp(w1, b1, w2, b2, x, y):
    import autograd.numpy as anp

    def loss(w1, b1, w2, b2):
        return anp.sum((anp.tanh(anp.dot(x, w1) + b1) @ w2 + b2 - y) ** 2)
    return _ag_grad(loss, (w1, b1, w2, b2), (0, 1, 2, 3))


def autograd_oscillator(ks, x0, n):
    import autograd.numpy as anp

    def total(k):
        x = x0 + 0.0 * k
        v = 0.0 * k
        for i in range(n):
            a = -k * x - 0.1 * v
            v = v + 0.01 * a
            x = x + 0.01 * v
        return anp.sum(x)
    return _ag_grad(total, (ks,), 0)


def torch_scalar_loop(x, n):
    import torch

    def f(x):
        for i in range(n):
            x = x - 0.01 * torch.sin(x) * x
        return x
    return _torch_grad(f, _torch_leaves(np.float64(x)))


def autograd_scalar_loop(x, n):
    import autograd.numpy as anp

    def f(x):
        for i in range(n):
            x = x - 0.01 * anp.sin(x) * x
        return x
    return _ag_grad(f, (float(x),), 0)
