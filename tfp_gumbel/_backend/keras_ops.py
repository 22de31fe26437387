"""The `keras.ops` array namespace of the kernels (see `tfp_gumbel._backend`).

`keras.ops` itself, on whichever backend Keras runs (TensorFlow, JAX,
PyTorch), plus the names the kernels use that `keras.ops` lacks. Nothing here
imports TensorFlow unless Keras's backend is TensorFlow. The few pieces that
differ by backend (`lgamma`, `while_loop`'s reverse-differentiable form on
JAX, `host_call`, `cholesky`) each choose by `keras.backend.backend()` inside
one small function. `static_value` knows Python and numpy numbers only, never
a tensor's value: on a traced backend no tensor's value is known, and reading
an eager one is a TF-eager speed matter, not worth a host sync elsewhere.
"""


import builtins
import functools
import math

import keras
import ml_dtypes
import numpy as np
from keras.ops import *  # pylint: disable=wildcard-import,unused-wildcard-import
from keras.ops import cumsum as _cumsum
from keras.ops import log_softmax as _log_softmax
from keras.ops import softmax as _softmax


def cast(x, dtype):
  """`keras.ops.cast`, except that a tensor already of `dtype` is returned
  as it is: the same values, without the call, whose Python overhead is a
  visible share of a small layer's step on PyTorch (the layers and
  `tfg.ops` cast to their compute dtype and back at every call)."""
  if keras.ops.is_tensor(x) and keras.backend.standardize_dtype(
      x.dtype) == (dtype if isinstance(dtype, str)
                   else keras.backend.standardize_dtype(dtype)):
    return x
  return keras.ops.cast(x, dtype)


def constant(value, dtype):
  return keras.ops.convert_to_tensor(value, dtype=dtype)


@functools.lru_cache(maxsize=None)
def finfo(dtype):
  # Cached: asked at every draw (`uniform_open`'s tiny), a few dtypes.
  return ml_dtypes.finfo(keras.backend.standardize_dtype(dtype))


def static_value(x):
  """`x` where it is a Python or numpy number (a layer's `k`, which sets
  how many rounds a loop unrolls); None for a tensor."""
  if isinstance(x, (int, float, np.number)) and not isinstance(x, bool):
    return x
  return None


def eager_value(x):
  """`x`'s value as numpy where it is computed already (eagerly), None
  inside a traced function (a TensorFlow graph, a JAX trace): what a
  warning about a result may read, never what a formula may depend on."""
  backend = keras.backend.backend()
  if backend == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return x.numpy() if tf.executing_eagerly() else None
  if backend == "jax":
    import jax  # pylint: disable=g-import-not-at-top
    try:
      return np.asarray(x)
    except jax.errors.TracerArrayConversionError:
      return None
  if backend == "torch":
    return x.detach().cpu().numpy()
  return np.asarray(x)


def last_dim(x):
  return keras.ops.shape(x)[-1]


# Where TensorFlow runs its oneDNN CPU kernels, Softmax and LogSoftmax take
# at most 5 dimensions (see the TensorFlow namespace).
_TF_SOFTMAX_MAX_RANK = 5


def softmax(x, log=False):
  """Over the last axis, at any rank: on TensorFlow a tensor of more than
  5 dimensions is normalized as the rows of a 2-D matrix and reshaped back
  (each row alone, so the numbers are the op's on `x`)."""
  op = _log_softmax if log else _softmax
  shape = keras.ops.shape(x)
  if (keras.backend.backend() == "tensorflow"
      and len(shape) > _TF_SOFTMAX_MAX_RANK):
    return keras.ops.reshape(op(keras.ops.reshape(x, (-1, shape[-1])),
                                axis=-1), shape)
  return op(x, axis=-1)


def _dim(d):
  """A dimension as a Python int where it is known; TensorFlow's graph
  leaves an unknown one (the batch size in `fit`) as a scalar tensor."""
  return int(d) if isinstance(d, (int, np.integer)) else d


def _broadcast_dims(a, b):
  """numpy's broadcasting rule for one dimension, where either may be a
  scalar tensor (known only when the graph runs): a 1 gives way, and two
  that broadcast are equal or 1, so their maximum is the result."""
  if isinstance(a, int) and isinstance(b, int):
    return np.broadcast_shapes((a,), (b,))[0]
  if isinstance(a, int) and a == 1:
    return b
  if isinstance(b, int) and b == 1:
    return a
  if isinstance(a, int) or isinstance(b, int):
    return a if isinstance(a, int) else b
  return keras.ops.maximum(a, b)


def broadcast_shapes(*shapes):
  """`np.broadcast_shapes` for shapes whose dimensions may be unknown until
  the graph runs (see `_dim`)."""
  shapes = [tuple(_dim(d) for d in shape) for shape in shapes]
  rank = builtins.max(len(shape) for shape in shapes)
  result = [1] * rank
  for shape in shapes:
    for i, d in enumerate(shape, rank - len(shape)):
      result[i] = _broadcast_dims(result[i], d)
  return tuple(result)


def concat_shapes(*shapes):
  return tuple(_dim(d) for shape in shapes for d in shape)


def sample_shape(n, *arrays):
  return (int(n),) + broadcast_shapes(
      *[tuple(keras.ops.shape(a)) for a in arrays])


def flatten_batch(arrays, event_ndims):
  """The arrays broadcast to their common batch shape (the axes before their
  `event_ndims` last) and flattened to one batch axis, and that shape."""
  shapes = [tuple(_dim(d) for d in keras.ops.shape(a)) for a in arrays]
  batch_shape = broadcast_shapes(
      *[shape[:len(shape) - ndims] for shape, ndims in zip(shapes, event_ndims)])
  flat = []
  for a, shape, ndims in zip(arrays, shapes, event_ndims):
    event_shape = shape[len(shape) - ndims:]
    a = keras.ops.broadcast_to(a, batch_shape + event_shape)
    flat.append(keras.ops.reshape(a, (-1,) + event_shape))
  return flat, batch_shape


def lgamma(x):
  """`log |Gamma(x)|`: each backend's own function (`keras.ops` has none)."""
  backend = keras.backend.backend()
  if backend == "jax":
    from jax.scipy import special  # pylint: disable=g-import-not-at-top
    return special.gammaln(x)
  if backend == "torch":
    import torch  # pylint: disable=g-import-not-at-top
    return torch.lgamma(x)
  if backend == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return tf.math.lgamma(x)
  from scipy import special  # pylint: disable=g-import-not-at-top
  return special.gammaln(x)


# TF's stateless kernels take int32 seeds (under XLA too); Keras keeps a
# SeedGenerator's state as int64, wrapped into [0, 2^31 - 3] as Keras's own
# TensorFlow backend does.
def _tensorflow_xla_context(tf):
  """Whether XLA compiles the TensorFlow code being traced (`jit_compile`),
  or None where this TensorFlow does not export its enclosing XLA context
  (`tf.__internal__`, the API it keeps for Keras)."""
  get_context = getattr(tf.__internal__, "get_enclosing_xla_context", None)
  return None if get_context is None else get_context() is not None


_INT32_MAX = np.iinfo(np.int32).max


def uniform_open(shape, seed, dtype):
  """Uniform noise on [tiny, 1) (see the TensorFlow namespace); `seed` is a
  `keras.random.SeedGenerator`, an int or None, as `keras.random` takes it.

  Under `tf.distribute` every replica reads the same (mirrored) state of a
  SeedGenerator, so Keras would draw the same noise on every replica; here
  the replica's id is folded into the generator's seed, so that replicas
  draw independent noise and each replica's stream is still reproducible.
  The id is global (`replica_id_in_sync_group` numbers the replicas of all
  workers of a `MultiWorkerMirroredStrategy`).
  """
  minval = float(finfo(dtype).tiny)
  if (keras.backend.backend() == "tensorflow"
      and isinstance(seed, keras.random.SeedGenerator)):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    seed = tf.cast(tf.math.floormod(
        tf.convert_to_tensor(seed.next()), _INT32_MAX - 1), tf.int32)
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
      seed = tf.random.experimental.stateless_fold_in(
          seed, context.replica_id_in_sync_group)
    # The numbers `keras.random.uniform` draws (Philox, pinned), drawn into
    # their own buffer under XLA, as the TensorFlow namespace's
    # `_materialized` does: XLA fuses the generator into every consumer and
    # recomputes it there (a train step 8-25x slower on CPU,
    # benchmarks/results/layer_overhead.md).
    u = tf.random.stateless_uniform(shape, seed, minval=minval, maxval=1.,
                                    dtype=dtype, alg="philox")
    if _tensorflow_xla_context(tf):
      # An identity cond XLA cannot see through; its predicate is always
      # true but depends on the run-time seed.
      u = tf.cond(tf.not_equal(tf.bitwise.bitwise_or(seed[0], 1), 0),
                  lambda: u, lambda: tf.zeros_like(u))
    return u
  return keras.random.uniform(shape, minval=minval, maxval=1., dtype=dtype,
                              seed=seed)


def eager_compiled(f):
  """`f` itself: Keras compiles the step that calls it."""
  return f


def cumsum(x, axis=-1, exclusive=False):
  """`keras.ops.cumsum`, or with `exclusive` the sums of the entries before
  each one (0 first): the inclusive sums shifted by one along `axis`, so each
  is the same sum in the same order as TensorFlow's exclusive cumsum."""
  if not exclusive:
    return _cumsum(x, axis=axis)
  x = keras.ops.moveaxis(x, axis, -1)
  shifted = keras.ops.concatenate(
      [keras.ops.zeros_like(x[..., :1]), _cumsum(x[..., :-1], axis=-1)], -1)
  return keras.ops.moveaxis(shifted, -1, axis)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
  """`keras.ops.while_loop`, differentiable in reverse mode on every backend
  when `maximum_iterations` is a Python int.

  On JAX `keras.ops.while_loop` is `jax.lax.while_loop`, which reverse-mode
  differentiation rejects; with a static cap the loop is run as a
  `fori_loop` of that many steps (a scan, which JAX differentiates), each
  step the body where `cond` holds and the identity after, as TensorFlow's
  `tf.while_loop(maximum_iterations=...)` computes it.
  """
  if keras.backend.backend() == "jax" and isinstance(
      maximum_iterations, (int, np.integer)):
    import jax  # pylint: disable=g-import-not-at-top

    def step(_, loop_vars):
      return jax.lax.cond(cond(*loop_vars), lambda v: tuple(body(*v)),
                          lambda v: v, loop_vars)

    loop_vars = tuple(keras.ops.convert_to_tensor(v) for v in loop_vars)
    return jax.lax.fori_loop(0, int(maximum_iterations), step, loop_vars)
  return keras.ops.while_loop(cond, body, tuple(loop_vars),
                              maximum_iterations=maximum_iterations)


def custom_gradient(f):
  """`keras.ops.custom_gradient` for the kernels' form: `f` returns
  `(value, grad)` with `grad(upstream)`. PyTorch's Keras backend calls the
  gradient as `grad(*args, upstream=...)`, JAX's and TensorFlow's as
  `grad(upstream)`: the wrapper takes both."""

  def wrapped(*args):
    value, grad = f(*args)

    def portable_grad(*grad_args, upstream=None):
      if upstream is None:
        (upstream,) = grad_args
      return grad(upstream)

    return value, portable_grad

  return keras.ops.custom_gradient(wrapped)


def prefers_matrix_free_solves():
  """Whether iterative solves beat dense factorizations in the code being
  built: always on JAX (XLA compiles every loop and runs `cholesky` as a
  LAPACK call; the factorization's O(N^3) then costs more than a few
  compiled rounds of O(N^2)), under `jit_compile` on TensorFlow, never on
  PyTorch (its loops run in Python). On TensorFlow, as its namespace's
  function (TensorFlow's exported XLA context)."""
  backend = keras.backend.backend()
  if backend == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return bool(_tensorflow_xla_context(tf))
  return backend == "jax"


@functools.lru_cache(maxsize=None)
def _tensorflow_has_gpu():
  """Whether TensorFlow sees a GPU: asked once (its devices are fixed when
  its runtime starts), not at every layer call."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return bool(tf.config.list_logical_devices("GPU"))


def branch_on_finite(x, true_fn, false_fn):
  """`true_fn()` if every element of `x` is finite when the step runs, else
  `false_fn()`, where ops run one by one on the CPU (PyTorch eagerly,
  TensorFlow without XLA): the test is one sum (finite exactly when every
  term is, barring an overflow, which takes `false_fn`), read by Python
  eagerly and by `tf.cond` in a graph; every op `true_fn` skips is an op's
  overhead saved. None (neither is called) elsewhere: under `jax.jit`, XLA
  (`jit_compile`) and `torch.compile` the ops it would skip are fused
  (nearly free), and on a GPU reading the test on the host would stall the
  device queue."""
  backend = keras.backend.backend()
  if backend == "torch":
    import torch  # pylint: disable=g-import-not-at-top
    if torch.compiler.is_compiling() or x.device.type != "cpu":
      return None
    # A Python float: torch.isfinite of a 0-d tensor costs several kernels.
    return true_fn() if math.isfinite(torch.sum(x).item()) else false_fn()
  if backend == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    if _tensorflow_has_gpu():
      return None
    if tf.executing_eagerly():
      return (true_fn() if math.isfinite(tf.reduce_sum(x).numpy())
              else false_fn())
    if _tensorflow_xla_context(tf) is not False:  # XLA, or it cannot tell
      return None
    return tf.cond(tf.math.is_finite(tf.reduce_sum(x)), true_fn, false_fn)
  return None


def host_call(fn, x):
  """`fn(numpy array) -> numpy array` of `x`'s shape and dtype, run in Python
  on the host, without gradient: `jax.pure_callback` on JAX (inside `jit`
  too), `tf.numpy_function` in a TensorFlow graph, a plain call eagerly
  (TensorFlow, PyTorch, numpy).

  On JAX `fn` gets a numpy array, not the `jax.Array` that `pure_callback`
  hands its callback: numpy code run on a `jax.Array` (`reshape`, indexing)
  dispatches JAX computations from inside the running one. Under SPMD (a
  `keras.distribution.DataParallel` step over several devices) the callback
  runs once, on device 0, on the whole batch (XLA gathers it there and
  broadcasts the result, exactly: an all-reduce of it and zeros); meanwhile
  the other devices wait in that all-reduce on threads of XLA:CPU's pool
  (one thread per core), and the nested computations found no thread left:
  a deadlock (XLA aborted after its 40 s rendezvous timeout; seen with 2
  host devices on 2 cores). `np.asarray` of the callback's CPU array is a
  read-only view of it, with no JAX computation: the matching is scipy's,
  exact, on any number of devices."""
  x = keras.ops.stop_gradient(x)
  backend = keras.backend.backend()
  if backend == "jax":
    import jax  # pylint: disable=g-import-not-at-top
    return jax.pure_callback(
        lambda a: fn(np.asarray(a)), jax.ShapeDtypeStruct(x.shape, x.dtype),
        x, vmap_method="sequential")
  if backend == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    if tf.executing_eagerly():
      return tf.convert_to_tensor(fn(x.numpy()))
    result = tf.numpy_function(fn, [x], x.dtype, stateful=False)
    result.set_shape(x.shape)
    return result
  if backend == "torch":
    import torch  # pylint: disable=g-import-not-at-top
    return torch.as_tensor(fn(x.detach().cpu().numpy()), device=x.device)
  return fn(np.asarray(x))


def cholesky(x):
  """The lower Cholesky factor, NaN (never an error) where rounding made a
  matrix indefinite: the Sinkhorn solver then takes a row normalization
  instead. `keras.ops.cholesky` raises there on TensorFlow and PyTorch (and
  eagerly on JAX)."""
  backend = keras.backend.backend()
  if backend == "jax":
    import jax  # pylint: disable=g-import-not-at-top
    return jax.numpy.linalg.cholesky(x)
  if backend == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return tf.linalg.cholesky(x)
  if backend == "torch":
    import torch  # pylint: disable=g-import-not-at-top
    chol, info = torch.linalg.cholesky_ex(x)
    return torch.where((info > 0)[..., None, None],
                       torch.full_like(chol, float("nan")), chol)
  try:
    return np.linalg.cholesky(x)
  except np.linalg.LinAlgError:
    # numpy raises for the whole batch: each matrix alone, NaN where it fails.
    x = np.asarray(x)
    flat = x.reshape((-1,) + x.shape[-2:])
    out = np.full_like(flat, np.nan)
    for b, matrix in enumerate(flat):
      try:
        out[b] = np.linalg.cholesky(matrix)
      except np.linalg.LinAlgError:
        pass
    return out.reshape(x.shape)


def solve(a, b):
  """`a^-1 b` (`keras.ops.solve`). On the TensorFlow backend it is TF's own
  op: Keras 3.5's TF `solve` compares symbolic ranks in a Python `if`, which
  raises inside `tf.function` (fixed in later Keras)."""
  if keras.backend.backend() == "tensorflow":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return tf.linalg.solve(a, b)
  return keras.ops.solve(a, b)


def cholesky_solve(chol, rhs):
  """`a^-1 rhs` from the lower Cholesky factor `chol` of `a` (batched): two
  triangular solves, as TensorFlow's `cholesky_solve` computes it."""
  y = keras.ops.solve_triangular(chol, rhs, lower=True)
  return keras.ops.solve_triangular(keras.ops.swapaxes(chol, -1, -2), y,
                                    lower=False)


def eye(n, dtype=None):
  """`keras.ops.eye`, also for `n` known only when a TensorFlow graph runs:
  Keras 3.5's TensorFlow `eye` converts `n` with `int()` (later Keras takes
  a tensor)."""
  if keras.backend.backend() == "tensorflow" and not isinstance(
      n, (int, np.integer)):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return tf.eye(n, dtype=keras.backend.standardize_dtype(dtype))
  return keras.ops.eye(n, dtype=dtype)


def diagonal_matrix(x):
  """The diagonal matrices `[..., N, N]` with `x` `[..., N]` on their
  diagonals (`keras.ops.diag` takes a 1-D `x` only); exact: a selection."""
  n = keras.ops.shape(x)[-1]
  return keras.ops.where(eye(n, dtype="bool"),
                         keras.ops.expand_dims(x, -1),
                         keras.ops.zeros((), x.dtype))


def matmul_transposed(a, b):
  """`a @ swapaxes(b, -1, -2)`."""
  return keras.ops.matmul(a, keras.ops.swapaxes(b, -1, -2))


def matvec(m, v, transpose=False):
  """`m @ v` (`m^T @ v` with `transpose`) for `m` `[..., M, N]` and `v`
  `[..., N]` (or `[..., M]`)."""
  if transpose:
    m = keras.ops.swapaxes(m, -1, -2)
  return keras.ops.squeeze(
      keras.ops.matmul(m, keras.ops.expand_dims(v, -1)), -1)


# As in the TensorFlow namespace: the most dimensions that TF's CPU kernels
# of SelectV2 and BroadcastTo (8) and ArgMax (7) take (Keras's TensorFlow
# backend runs them).
MAX_KERNEL_RANK = 7


def on_matrix_batch(fn, x, extra_axes=0):
  """`fn(x)` for a batch of matrices `x` `[..., M, N]`, on one batch axis
  where `x`'s rank plus the `extra_axes` that `fn` adds could exceed
  `MAX_KERNEL_RANK` (see the TensorFlow namespace); the same matrices in the
  same order, so no number changes."""
  shape = tuple(keras.ops.shape(x))
  if len(shape) + extra_axes <= MAX_KERNEL_RANK:
    return fn(x)
  result = fn(keras.ops.reshape(x, (-1,) + shape[-2:]))

  def unflatten(t):
    if t is None or len(keras.ops.shape(t)) == 0:
      return t
    return keras.ops.reshape(t, shape[:-2] + tuple(keras.ops.shape(t))[1:])

  return keras.tree.map_structure(unflatten, result)
