"""Derivatives of your own, and control over what reverse mode keeps.

Run: python examples/custom_rules.py
"""

import numpy as np

import nabla


# A numerically stable rule: the body's own derivative overflows for large inputs.
@nabla.custom_vjp
def logsumexp(x):
    return np.log(np.sum(np.exp(x)))


def logsumexp_fwd(x):
    m = np.max(x)
    e = np.exp(x - m)
    return m + np.log(np.sum(e)), e / np.sum(e)  # the value, and what bwd needs


def logsumexp_bwd(softmax, g):
    return (g * softmax,)  # one cotangent per argument


logsumexp.defvjp(logsumexp_fwd, logsumexp_bwd)


def score(x):
    return logsumexp(x * 2.0)


# A rule for forward mode: reverse mode transposes it.
@nabla.custom_jvp
def softplus(x):
    return np.log1p(np.exp(x))


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return softplus(x), x_dot / (1.0 + np.exp(-x))


def penalty(x):
    return np.sum(softplus(x) ** 2)


# Recompute a function in the adjoint instead of keeping its intermediate values.
@nabla.checkpoint
def layer(h, w):
    return np.tanh(h * w + 0.1)


def deep(h, w):
    for _ in range(8):
        h = layer(h, w)
    return np.sum(h)


# Keep a long loop's state every ~sqrt(n) steps instead of every step.
def rollout(x, n):
    for i in nabla.checkpointed_range(n):
        x = x + 0.01 * np.sin(x)
    return np.sum(x)


def rollout_full_tape(x, n):
    for i in range(n):
        x = x + 0.01 * np.sin(x)
    return np.sum(x)


def main():
    big = np.array([1000.0, 1001.0, 999.0])
    print("grad of a stable logsumexp at 1000:", nabla.grad(score)(big))  # finite
    x = np.linspace(-2.0, 2.0, 5)
    print("grad through softplus's jvp rule:", nabla.grad(penalty)(x))
    print("hessian diagonal:", np.diag(nabla.hessian(penalty)(x)))
    print("grad through checkpointed layers:", nabla.grad(deep, argnums=1)(x, 0.5 * x))
    print()
    print(nabla.saved(rollout_full_tape, x, 100_000))
    print()
    print(nabla.saved(rollout, x, 100_000))
    print()
    print("the same gradient:", np.allclose(nabla.grad(rollout)(x, 100_000),
                                            nabla.grad(rollout_full_tape)(x, 100_000)))
    print()
    print("the generated source calls your rule by its name:")
    source = nabla.grad(score).source
    print(source[source.index("def score_grad"):].split("\n\n\n")[0])


if __name__ == "__main__":
    main()
