"""vmap over Dask arrays: chunk by chunk, in this process (Dask's threads, with Numba on
and off) and on a LocalCluster of two worker processes, always equal to the plain vmap on
NumPy arrays (itself checked against finite differences in test_vmap); a Function sent
to another process by pickle; compiles counted per worker; a worker killed mid-way."""

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time

import dask.array as da  # dask[array,distributed] is in the test extra
import distributed
import numpy as np
import pytest
from cuda_cases import oscillator

import nabla

RNG = np.random.default_rng(3)


def loss(w, x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.sin(w[i] * x[i]) ** 2
    return s


def energy(x):
    return np.sum(np.sin(x) * x)


def tanh_sum(x):
    return np.sum(np.tanh(x) * x)


def tree_loss(p, x):
    return np.sum(np.tanh(p["w"] * x + p["b"]) ** 2)


def slow(k, n):
    # long enough per chunk for a worker to be killed while it runs
    x = 1.0
    for i in range(n):
        x = x + 1e-9 * np.sin(k * x)
    return x


def equal(a, b, tol=1e-12):
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            equal(x, y, tol)
    elif isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for k in a:
            equal(a[k], b[k], tol)
    else:
        assert not isinstance(a, da.Array)
        assert np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def computed(out):
    """A pytree of Dask arrays, computed together (and checked to be Dask arrays)."""
    leaves, tree = nabla.pytree.flatten(out)
    assert leaves and all(isinstance(x, da.Array) for x in leaves)
    return nabla.pytree.unflatten(tree, list(__import__("dask").compute(*leaves)))


# -- in this process: Dask's threaded scheduler ---------------------------------------------
def test_vmap_grad_over_uneven_chunks(jit_mode):
    W, X = RNG.standard_normal((10, 3)), RNG.standard_normal(3)
    v = nabla.vmap(nabla.grad(loss), in_axes=(0, None))
    out = v(da.from_array(W, chunks=(4, 3)), X)
    assert out.chunks == ((4, 4, 2), (3,))  # the batch's chunks are the input's
    equal(out.compute(), v(W, X))


def test_vmap_value_and_grad_jacfwd_and_plain(jit_mode):
    X = RNG.standard_normal((7, 4))
    dx = da.from_array(X, chunks=3)  # chunked along the example axis too: rechunked whole
    for fn in (nabla.vmap(nabla.value_and_grad(energy)), nabla.vmap(nabla.jacfwd(energy)),
               nabla.vmap(energy)):
        equal(computed(fn(dx)), fn(X))


def test_scalar_parameters_and_unbatched_arguments(jit_mode):
    ks = np.linspace(0.5, 3.0, 9)
    v = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))
    equal(v(da.from_array(ks, chunks=4), 1.0, 20).compute(), v(ks, 1.0, 20))


def test_pytree_argument_and_out_axes(jit_mode):
    p = {"w": RNG.standard_normal((6, 3)), "b": RNG.standard_normal((6, 3))}
    x = RNG.standard_normal(3)
    v = nabla.vmap(nabla.grad(tree_loss), in_axes=({"w": 0, "b": 0}, None))
    dp = {"w": da.from_array(p["w"], chunks=(4, 3)), "b": p["b"]}  # a NumPy leaf beside
    equal(computed(v(dp, x)), v(p, x))
    moved = nabla.vmap(nabla.grad(energy), out_axes=1)
    X = RNG.standard_normal((5, 2))
    out = moved(da.from_array(X, chunks=2))
    assert out.shape == (2, 5) and out.chunks == ((2,), (2, 2, 1))
    equal(out.compute(), moved(X))


def test_float32(jit_mode):
    X = RNG.standard_normal((9, 3)).astype(np.float32)
    v = nabla.vmap(nabla.grad(energy))
    out = v(da.from_array(X, chunks=4)).compute()
    assert out.dtype == np.float32
    equal(out, v(X), tol=1e-6)


def test_nabla_dask_vmap_chunks_numpy_arguments(jit_mode):
    W, X = RNG.standard_normal((11, 3)), RNG.standard_normal(3)
    v = nabla.dask.vmap(nabla.grad(loss), in_axes=(0, None), chunk_size=4)
    out = v(W, X)
    assert isinstance(out, da.Array) and out.chunks == ((4, 4, 3), (3,))
    equal(out.compute(), nabla.vmap(nabla.grad(loss), in_axes=(0, None))(W, X))
    # the data-parallel gradient: per-example gradients summed by Dask
    equal(out.sum(axis=0).compute(), np.sum(v.function(W, X), axis=0))
    assert "def " in v.source


def test_parallel_target_inside_chunks_and_axis_size(jit_mode):
    ks = np.linspace(0.5, 3.0, 40)
    par = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None), target="parallel")
    equal(par(da.from_array(ks, chunks=7), 1.0, 20).compute(), par(ks, 1.0, 20))
    # no batched argument: one chunk of axis_size examples (the Dask one is unbatched)
    v = nabla.vmap(nabla.grad(energy), in_axes=None, axis_size=3)
    x = RNG.standard_normal(4)
    equal(v(da.from_array(x, chunks=2)).compute(), v(x))


def test_shapes_from_the_first_example_where_an_empty_batch_fails(monkeypatch):
    def refuse_empty(leaves, batched):
        raise ValueError("no examples")

    monkeypatch.setattr(nabla.chunks, "empty_batch", refuse_empty)
    X = RNG.standard_normal((5, 3))
    v = nabla.vmap(nabla.value_and_grad(energy), out_axes=(0, 1))
    out = v(da.from_array(X, chunks=2))
    assert out[0].chunks == ((2, 2, 1),) and out[1].chunks == ((3,), (2, 2, 1))
    equal(computed(out), v(X))


def test_errors_name_the_argument():
    v = nabla.vmap(nabla.grad(loss), in_axes=(0, 0))
    with pytest.raises(nabla.TransformInputError, match="mismatched batch sizes"):
        v(da.ones((4, 3)), da.ones((5, 3)))
    x = da.ones((6, 3), chunks=(3, 3))
    unknown = x[x[:, 0] > 0]  # a boolean mask: chunk sizes unknown until computed
    with pytest.raises(nabla.TransformInputError, match="argument 0 .* unknown chunk sizes"):
        nabla.vmap(nabla.grad(energy))(unknown)
    with pytest.raises(nabla.TransformInputError, match="chunk_size"):
        nabla.dask.vmap(energy, chunk_size=0)


def test_refusal_before_anything_runs():
    def branchy(x):
        return np.sum(x) if np.sum(x) > 0 else 0.0 * np.sum(x)

    def bad(x):
        try:
            return np.sum(x)
        except ValueError:
            return 0.0

    x = da.ones((4, 3), chunks=2)
    with pytest.raises(nabla.UnsupportedSyntaxError, match="test_dask.py:"):
        nabla.vmap(nabla.grad(bad))(x)
    equal(nabla.vmap(nabla.grad(branchy))(da.ones((4, 3), chunks=2)).compute(),
          nabla.vmap(nabla.grad(branchy))(np.ones((4, 3))))


# -- pickles ---------------------------------------------------------------------------------
def test_function_pickles_by_source_once_per_process():
    v = nabla.vmap(nabla.grad(energy))
    X = RNG.standard_normal((3, 2))
    ref = v(X)
    w = pickle.loads(pickle.dumps(v))
    assert w is not v and w._variants == {} and pickle.loads(pickle.dumps(v)) is w
    equal(w(X), ref)


def test_function_sent_by_value_to_a_machine_without_its_file(tmp_path):
    """A script's function, pickled by value (cloudpickle, as Dask sends it), differentiated
    in a process where the script's file does not exist."""
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent("""
        import numpy as np

        def helper(x):
            return np.sin(x) * x

        def total(x):
            return np.sum(helper(x))
    """))
    send = textwrap.dedent(f"""
        import pickle, sys, runpy, cloudpickle, nabla
        ns = runpy.run_path({str(script)!r}, run_name="__main__")
        sys.stdout.buffer.write(cloudpickle.dumps(nabla.vmap(nabla.grad(ns["total"]))))
    """)
    blob = subprocess.run([sys.executable, "-c", send], capture_output=True, check=True).stdout
    script.unlink()
    receive = textwrap.dedent("""
        import pickle, sys, numpy as np
        g = pickle.loads(sys.stdin.buffer.read())
        x = np.array([[0.5, 1.0], [2.0, -1.0]])
        print(repr(g(x).tolist()))
    """)
    out = subprocess.run([sys.executable, "-c", receive], input=blob, capture_output=True,
                         check=True, env=dict(os.environ, NABLA_CACHE="0")).stdout
    x = np.array([[0.5, 1.0], [2.0, -1.0]])
    equal(np.array(eval(out)), np.cos(x) * x + np.sin(x))


# -- a LocalCluster of two worker processes ----------------------------------------------------
def cluster_with(env: dict):
    """A LocalCluster of two worker processes started with ``env`` added to theirs."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        dashboard_address=":0", silence_logs=40)
    finally:
        for k, v in saved.items():
            if v is None:
                del os.environ[k]
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def client():
    # no disk cache on the workers, so that each transforms and compiles for itself, as a
    # worker on another machine would (and the counts say so)
    cluster = cluster_with({"NABLA_CACHE": "0"})
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_cluster_equals_the_plain_vmap(client):
    W, X = RNG.standard_normal((40, 3)), RNG.standard_normal(3)
    v = nabla.vmap(nabla.grad(loss), in_axes=(0, None))
    equal(v(da.from_array(W, chunks=(7, 3)), X).compute(), v(W, X))
    j = nabla.vmap(nabla.jacfwd(energy))
    equal(j(da.from_array(W, chunks=10)).compute(), j(W))
    p = {"w": W, "b": W[::-1].copy()}
    t = nabla.vmap(nabla.grad(tree_loss), in_axes=({"w": 0, "b": 0}, None))
    equal(computed(t({"w": da.from_array(W, chunks=(9, 3)), "b": p["b"]}, X)), t(p, X))
    plain = nabla.vmap(energy)
    equal(plain(da.from_array(W, chunks=(9, 3))).compute(), plain(W))
    W32 = W.astype(np.float32)
    g32 = nabla.vmap(nabla.grad(energy))(da.from_array(W32, chunks=(16, 3))).compute()
    assert g32.dtype == np.float32
    equal(g32, nabla.vmap(nabla.grad(energy))(W32), tol=1e-6)


def test_each_worker_compiles_once(client):
    v = nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))
    ks = np.linspace(0.5, 3.0, 64)
    before = client.run(nabla.stats)
    first = v(da.from_array(ks, chunks=8), 1.0, 30).compute()
    after_first = client.run(nabla.stats)
    # sixteen more tasks, same types: nothing is transformed or compiled again
    second = v(da.from_array(ks + 1.0, chunks=4), 1.0, 30).compute()
    after_second = client.run(nabla.stats)
    assert after_second == after_first
    # what one call makes in a fresh process without a disk cache: each worker that ran
    # tasks (almost surely both) made that, once, however many tasks it ran
    once = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import numpy as np, nabla
        from test_dask import oscillator
        nabla.vmap(nabla.grad(oscillator), in_axes=(0, None, None))(np.ones(3), 1.0, 30)
        print(nabla.stats())
    """)], capture_output=True, text=True, check=True, cwd=os.path.dirname(__file__),
        env=dict(os.environ, NABLA_CACHE="0")).stdout
    once = eval(once)
    assert once["transforms"] >= 2 and once["compiles"] >= 1  # the vmap, the grad in it
    made = [{k: counts[k] - before[w][k] for k in counts} for w, counts in after_first.items()]
    assert once in made and all(m in (once, {"transforms": 0, "compiles": 0}) for m in made), \
        (once, before, after_first)
    equal(first, v(ks, 1.0, 30))
    equal(second, v(ks + 1.0, 1.0, 30))


def test_a_killed_worker_loses_no_result(client):
    v = nabla.vmap(slow, in_axes=(0, None))
    ks = np.linspace(0.1, 1.0, 8)
    want = v(ks, 10_000_000)  # about 0.2 s an example
    future = client.compute(v(da.from_array(ks, chunks=2), 10_000_000))
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]

    def kill_when_busy():
        deadline = time.time() + 20
        while time.time() < deadline and not client.processing().get(victim):
            time.sleep(0.01)
        os.kill(pids[victim], signal.SIGKILL)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    got = future.result(timeout=120)
    killer.join()
    assert pids[victim] not in client.run(os.getpid).values()  # it did die
    equal(got, want)


def test_workers_share_a_cache_directory(tmp_path):
    """Two workers filling one fresh cache directory at once (the client uses its own):
    the results are right, and what they wrote is trusted and read by a new process."""
    shared = str(tmp_path / "shared-cache")
    cluster = cluster_with({"NABLA_CACHE_DIR": shared, "NABLA_CACHE": "1"})
    with distributed.Client(cluster) as c:
        v = nabla.vmap(nabla.jacfwd(tanh_sum))
        X = RNG.standard_normal((32, 3))
        both = c.run(nabla.stats)
        equal(v(da.from_array(X, chunks=4)).compute(), v(X))
        made = [c.run(nabla.stats)[w]["transforms"] - both[w]["transforms"] for w in both]
        assert sum(made) >= 1  # the workers transformed it (the client's cache is not theirs)
    cluster.close()
    again = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import numpy as np, nabla
        from test_dask import tanh_sum
        nabla.vmap(nabla.jacfwd(tanh_sum))(np.ones((2, 3)))
        print(nabla.stats())
    """)], capture_output=True, text=True, cwd=os.path.dirname(__file__),
        env=dict(os.environ, NABLA_CACHE_DIR=shared, NABLA_CACHE="1"))
    assert again.returncode == 0 and "Warning" not in again.stderr, again.stderr
    assert eval(again.stdout) == {"transforms": 0, "compiles": 0}  # all read from the cache
