"""jacfwd in vector forward mode: one pass of the jvp carries every basis direction of
the differentiated arguments on axis 0 of the tangents, so the primal runs once.

Each Jacobian is checked against central finite differences, with Numba off and in
strict mode, and the generated source is checked to say which form it took."""

import numpy as np
import pytest
from fd import assert_close, numerical_jacobian

import nabla

VECTOR = "vector forward mode: every basis direction"


# -- bundle adjustment's reprojection error --------------------------------------------------
# The program of benchmarks/workloads.py's reproj_error_x, kept here rather than imported (the
# tests do not depend on the benchmarks): a callee writing into an array it makes, a branch
# on a primal value, and slices of returned arrays (xcam[2:3]) for the vector form to carry.
def cross(a, b):
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


def radial_distort(rad_params, proj):
    rsq = np.sum(proj * proj)
    scale = 1.0 + rad_params[0] * rsq + rad_params[1] * rsq * rsq
    return proj * scale


def project_x(cam, x):
    xcam = rodrigues_rotate_point_x(cam[0:3], x - cam[3:6])
    distorted = radial_distort(cam[9:11], xcam[0:2] / xcam[2:3])
    return distorted * cam[6] + cam[7:9]


def reproj_error_x(cam, x, w, feat):
    return w * (project_x(cam, x) - feat)


def ba_inputs(n_obs, seed=1):
    rng = np.random.default_rng(seed)
    cams = np.empty((n_obs, 11))
    cams[:, 0:3] = rng.normal(scale=0.2, size=(n_obs, 3))
    cams[:, 3:6] = rng.normal(size=(n_obs, 3)) + np.array([0.0, 0.0, -10.0])
    cams[:, 6] = rng.uniform(300, 500, size=n_obs)
    cams[:, 7:9] = rng.normal(scale=5.0, size=(n_obs, 2))
    cams[:, 9:11] = rng.normal(scale=1e-3, size=(n_obs, 2))
    points = rng.normal(size=(n_obs, 3))
    return cams, points, rng.uniform(0.5, 1.5, size=n_obs), rng.normal(scale=50.0,
                                                                          size=(n_obs, 2))


# -- smaller functions: callees, branches and loops on primal values, writes, reductions ---------
def scaled(a, s):
    if s > 0.0:
        return a * s
    return a - s


def mixed(x, s):
    out = np.zeros(3)
    acc = 0.0
    for i in range(3):
        out[i] = x[i] * s + np.sin(x[2 - i])
        acc = acc + x[i] ** 2
    y = scaled(out, s)
    return np.sum(y * y) + acc * s + y[0]


def vector_valued(x, a):
    return x * np.sum(np.cos(x)) + a * x[1] + np.exp(a)


def two_outputs(x, a):
    return np.sin(x) * a, np.sum(x * x) * a


def with_aux(x):
    return np.tanh(x) * x[0], np.sum(x)


X3 = np.array([0.3, -0.7, 1.1])


def fd_jac(f, args, argnum):
    return numerical_jacobian(f, list(args), argnum)


def test_ba_jacobian_is_one_pass_and_matches_finite_differences(jit_mode):
    cams, points, weights, feats = ba_inputs(2)
    args = (cams[0], points[0], weights[0], feats[0])
    j = nabla.jacfwd(reproj_error_x, argnums=(0, 1, 2))
    jc, jx, jw = j(*args)
    assert VECTOR in j.source
    assert "reproj_error_x_jvp_vmap(" in j.source and "cross_jvp_vmap(" in j.source
    assert jc.shape == (2, 11) and jx.shape == (2, 3) and jw.shape == (2,)
    for a, got in enumerate((jc, jx, jw)):
        assert_close(got, fd_jac(reproj_error_x, args, a), rtol=1e-5, atol=1e-5)


def test_vmap_of_ba_jacobian_matches_per_example_jacobians(jit_mode):
    cams, points, weights, feats = ba_inputs(4)
    jc, jx, jw = nabla.vmap(nabla.jacfwd(reproj_error_x, argnums=(0, 1, 2)))(
        cams, points, weights, feats)
    assert jc.shape == (4, 2, 11) and jx.shape == (4, 2, 3) and jw.shape == (4, 2)
    for b in range(4):
        args = (cams[b], points[b], weights[b], feats[b])
        assert_close(jc[b], fd_jac(reproj_error_x, args, 0), rtol=1e-5, atol=1e-5)
        assert_close(jx[b], fd_jac(reproj_error_x, args, 1), rtol=1e-5, atol=1e-5)
        assert_close(jw[b], fd_jac(reproj_error_x, args, 2), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("s", [0.8, -0.4], ids=["branch taken", "branch not taken"])
def test_callee_branch_loop_writes_and_reductions(s, jit_mode):
    j = nabla.jacfwd(mixed, argnums=(0, 1))
    gx, gs = j(X3, s)
    assert VECTOR in j.source
    assert np.shape(gs) == () and gx.shape == (3,)
    assert_close(gx, fd_jac(mixed, (X3, s), 0))
    assert_close(gs, fd_jac(mixed, (X3, s), 1))


def test_vector_valued_with_scalar_and_array_arguments(jit_mode):
    j = nabla.jacfwd(vector_valued, argnums=(0, 1))
    jx, ja = j(X3, 0.4)
    assert VECTOR in j.source
    assert jx.shape == (3, 3) and ja.shape == (3,)
    assert_close(jx, fd_jac(vector_valued, (X3, 0.4), 0))
    assert_close(ja, fd_jac(vector_valued, (X3, 0.4), 1))
    # one argument: the Jacobian itself, not a tuple
    assert_close(nabla.jacfwd(vector_valued)(X3, 0.4), jx)
    assert_close(nabla.jacfwd(vector_valued, argnums=1)(X3, 0.4), ja)


def test_tuple_outputs_and_aux(jit_mode):
    j = nabla.jacfwd(two_outputs, argnums=(0, 1))
    (a0, a1), (b0, b1) = j(X3, 0.6)
    assert VECTOR in j.source
    assert a0.shape == (3, 3) and a1.shape == (3,) and b0.shape == (3,) and np.shape(b1) == ()
    assert_close(a0, fd_jac(lambda x, a: two_outputs(x, a)[0], (X3, 0.6), 0))
    assert_close(a1, fd_jac(lambda x, a: two_outputs(x, a)[0], (X3, 0.6), 1))
    assert_close(b0, fd_jac(lambda x, a: two_outputs(x, a)[1], (X3, 0.6), 0))
    assert_close(b1, fd_jac(lambda x, a: two_outputs(x, a)[1], (X3, 0.6), 1))
    ja, aux = nabla.jacfwd(with_aux, has_aux=True)(X3)
    assert_close(aux, np.sum(X3))
    assert_close(ja, fd_jac(lambda x: with_aux(x)[0], (X3,), 0))


def test_second_order_compositions(jit_mode):
    h = nabla.jacfwd(nabla.jacrev(mixed), argnums=0)(X3, 0.8)
    expected = fd_jac(nabla.jacrev(mixed), (X3, 0.8), 0)
    assert_close(h, expected, rtol=1e-4, atol=1e-5)
    assert_close(nabla.hessian(mixed)(X3, 0.8), expected, rtol=1e-4, atol=1e-5)
    j = nabla.jacrev(nabla.jacfwd(vector_valued))(X3, 0.4)
    assert j.shape == (3, 3, 3)
    assert_close(j, fd_jac(nabla.jacfwd(vector_valued), (X3, 0.4), 0), rtol=1e-4, atol=1e-5)


def test_the_loop_over_directions_is_kept_where_the_vector_form_does_not_apply(jit_mode):
    def batched_index(x):
        out = np.zeros(3)
        for k in range(3):
            out[k] = x[k] * x[k]
        return out @ np.outer(x, x)  # a product of two batched matrices

    j = nabla.jacfwd(batched_index)
    got = j(X3)
    assert VECTOR not in j.source and "not the vector forward mode" in j.source
    assert_close(got, fd_jac(batched_index, (X3,), 0), rtol=1e-5, atol=1e-5)


def test_float32_stays_float32(jit_mode):
    x32 = X3.astype(np.float32)
    jx, ja = nabla.jacfwd(vector_valued, argnums=(0, 1))(x32, np.float32(0.4))
    assert jx.dtype == np.float32 and np.asarray(ja).dtype == np.float32
    assert_close(jx, fd_jac(vector_valued, (X3, 0.4), 0), rtol=1e-3, atol=1e-4)


def rotate_np_cross(rot, x):
    # ADBench's rotation as its reference writes it, with np.cross
    theta = np.sqrt(np.sum(rot * rot))
    w = rot / theta
    return x * np.cos(theta) + np.cross(w, x) * np.sin(theta) + w * np.dot(w, x) * (
        1.0 - np.cos(theta))


def test_np_cross_in_the_vector_form(jit_mode):
    rot, x = np.array([0.3, -0.2, 0.4]), np.array([1.0, 2.0, -0.5])
    f = nabla.jacfwd(rotate_np_cross, argnums=(0, 1))
    got = f(rot, x)
    for i in range(2):
        assert_close(got[i], fd_jac(rotate_np_cross, (rot, x), i))
    assert "vector forward mode" in f.source
    # and a vmap over stacks of rotations keeps the vector form too
    rots = np.array([[0.3, -0.2, 0.4], [0.1, 0.5, -0.3]])
    v = nabla.vmap(rotate_np_cross, in_axes=(0, None))
    assert_close(v(rots, x), np.stack([rotate_np_cross(r, x) for r in rots]))
