"""The TensorFlow array namespace of the kernels (see `tfp_gumbel._backend`).

The functions carry `keras.ops`' names; each is TensorFlow's op, called by
its `tf.math` name: eagerly, an operator such as `*` dispatches through
Python at several times the cost of the op itself (benchmarks/results/
design_figures.md, "Eager dispatch"), and a small sample is mostly such ops. What TF does faster eagerly than the plain
formula (raw ops, one compiled call for a loop of small ops) is decided
here, so the kernels state each formula once.
"""

import functools

import ml_dtypes
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

abs = tf.math.abs  # pylint: disable=redefined-builtin
add = tf.math.add
all = tf.reduce_all  # pylint: disable=redefined-builtin
any = tf.reduce_any  # pylint: disable=redefined-builtin
argmax = tf.math.argmax
broadcast_to = tf.broadcast_to
cast = tf.cast
concatenate = tf.concat
convert_to_tensor = tf.convert_to_tensor
custom_gradient = tf.custom_gradient
equal = tf.math.equal
exp = tf.math.exp
expand_dims = tf.expand_dims
eye = tf.eye
greater = tf.math.greater
greater_equal = tf.math.greater_equal
isfinite = tf.math.is_finite
isinf = tf.math.is_inf
isnan = tf.math.is_nan
less = tf.math.less
lgamma = tf.math.lgamma
log = tf.math.log
log1p = tf.math.log1p
log_sigmoid = tf.math.log_sigmoid
logical_and = tf.math.logical_and
logical_not = tf.math.logical_not
logical_or = tf.math.logical_or
logsumexp = tf.reduce_logsumexp
matmul = tf.linalg.matmul
max = tf.reduce_max  # pylint: disable=redefined-builtin
maximum = tf.math.maximum
mean = tf.reduce_mean
minimum = tf.math.minimum
multiply = tf.math.multiply
not_equal = tf.math.not_equal
ones_like = tf.ones_like
reciprocal = tf.math.reciprocal
reshape = tf.reshape
shape = tf.shape
sigmoid = tf.math.sigmoid
softplus = tf.math.softplus
stack = tf.stack
stop_gradient = tf.stop_gradient
sum = tf.reduce_sum  # pylint: disable=redefined-builtin
where = tf.where
zeros_like = tf.zeros_like


def constant(value, dtype):
  return tf.constant(value, dtype)


def finfo(dtype):
  """`eps`, `tiny` (the smallest positive normal number), ... of a float
  dtype; `ml_dtypes` (a TensorFlow dependency) knows bfloat16, numpy not."""
  return ml_dtypes.finfo(tf.as_dtype(dtype).as_numpy_dtype)


def static_value(x):
  return tf.get_static_value(x)


def eager_value(x):
  """For a warning about a result: its value where known (eagerly)."""
  return tf.get_static_value(x)


def last_dim(x):
  """The size of the last axis: a Python int where static (eagerly, slicing
  a shape Tensor costs more than a small kernel's arithmetic)."""
  size = x.shape[-1] if x.shape.rank else None
  return tf.shape(x)[-1] if size is None else size


def one_hot(indices, num_classes, axis=-1, dtype=None):
  return tf.one_hot(indices, num_classes, axis=axis, dtype=dtype)


def top_k(x, k, sorted=True):  # pylint: disable=redefined-builtin
  return tf.math.top_k(x, k=k, sorted=sorted)


def cumsum(x, axis=-1, exclusive=False):
  return tf.math.cumsum(x, axis=axis, exclusive=exclusive)


def arange(n, dtype):
  if isinstance(n, int):
    return tf.constant(np.arange(n), dtype)  # made without ops
  return tf.cast(tf.range(n), dtype)


# The most dimensions that TF's oneDNN CPU Softmax / LogSoftmax kernels take
# (TF_ENABLE_ONEDNN_OPTS=1, TF's default on some CPUs): "Input dims must be
# <= 5 and >=1".
ONEDNN_SOFTMAX_MAX_RANK = 5


def softmax(x, log=False):
  """`softmax(x)` (or `log_softmax(x)`) over the last axis, at any rank.

  Where TF runs its oneDNN CPU kernels, Softmax and LogSoftmax take at most
  5 dimensions, and a sample adds its own axes to a batch of any rank; so a
  Tensor of higher (or unknown) rank is normalized as the rows of a 2-D
  matrix and reshaped back. A reshape moves no data and each row is
  normalized alone, so the numbers are those of the op on `x`
  (tests/backend/test_tensorflow.py checks it bit for bit). Up to rank 5 the
  op takes `x` as it is: eagerly, the two reshapes would cost several times
  the softmax itself (benchmarks/results/softmax_reshape.md).
  """
  op = tf.math.log_softmax if log else tf.math.softmax
  rank = x.shape.rank
  if rank is not None and rank <= ONEDNN_SOFTMAX_MAX_RANK:
    return op(x)
  shape = tf.shape(x)
  return tf.reshape(op(tf.reshape(x, [-1, shape[-1]])), shape)


def concat_shapes(*shapes):
  """One shape from parts that are lists, tuples or 1-D int Tensors."""
  return tf.concat(shapes, axis=0)


# The most dimensions that TF's CPU kernels of SelectV2 and BroadcastTo (8)
# and ArgMax (7) take: a family's sample adds a sample axis and its kernels an
# axis or two to the parameters' rank.
MAX_KERNEL_RANK = 7


def exceeds_kernel_rank(x, extra=0):
  """Whether `x`'s rank plus `extra` axes may exceed `MAX_KERNEL_RANK`
  (True where the rank is unknown)."""
  return x.shape.rank is None or x.shape.rank + extra > MAX_KERNEL_RANK


def sample_shape(n, *arrays):
  """`[n] + the broadcast shape of arrays`: a Python list when all are
  static (eagerly, the concat of shape Tensors it replaces costs a good part
  of a small sampling call)."""
  static = functools.reduce(tf.broadcast_static_shape,
                            [a.shape for a in arrays])
  n_static = tf.get_static_value(n)
  if static.is_fully_defined() and n_static is not None:
    return [int(n_static)] + static.as_list()
  dynamic = functools.reduce(tf.broadcast_dynamic_shape,
                             [tf.shape(a) for a in arrays])
  return tf.concat([[n], dynamic], axis=0)


def flatten_batch(tensors, event_ndims):
  """The tensors with their batch shapes broadcast and flattened to one axis.

  `tensors[i]` has `event_ndims[i]` event axes last; the axes before are its
  batch axes, which broadcast against the others'. Returns the flat tensors
  (`[b, *event_i]`) and the broadcast batch shape (a 1-D int32 Tensor), to
  put a result's batch axis back with a reshape. Broadcasting and flattening
  move no number, so what is computed on the flat tensors is what the same
  ops give on the originals; callers flatten where the rank of what they
  build would exceed `MAX_KERNEL_RANK`.
  """
  shapes = [tf.shape(t) for t in tensors]
  batch_shapes = [shape[:tf.size(shape) - ndims]
                  for shape, ndims in zip(shapes, event_ndims)]
  batch_shape = functools.reduce(tf.broadcast_dynamic_shape, batch_shapes)
  flat = []
  static_batch = functools.reduce(
      tf.broadcast_static_shape,
      [t.shape[:t.shape.rank - ndims] if t.shape.rank is not None
       else tf.TensorShape(None) for t, ndims in zip(tensors, event_ndims)])
  for t, shape, ndims in zip(tensors, shapes, event_ndims):
    event_shape = shape[tf.size(shape) - ndims:]
    if not (static_batch.is_fully_defined() and t.shape.rank is not None
            and t.shape[:t.shape.rank - ndims] == static_batch):
      t = tf.broadcast_to(t, tf.concat([batch_shape, event_shape], 0))
    flat.append(tf.reshape(t, tf.concat([[-1], event_shape], 0)))
  return flat, batch_shape

def while_loop(cond, body, loop_vars, maximum_iterations=None):
  return tf.while_loop(cond, body, loop_vars,
                       maximum_iterations=maximum_iterations)


def eager_compiled(f):
  """`f`, run as one traced graph when called eagerly.

  Eagerly, a loop of small ops costs their Python dispatch each (20 Sinkhorn
  rounds are ~250 ops); traced once per (shape, dtype, Python arguments), the
  same ops run as one call and the tape records one op. `reduce_retracing`
  generalizes the shape after the first retrace, so varying batch sizes do
  not pile up graphs.
  """
  graph = tf.function(f, reduce_retracing=True, autograph=False)

  def call(*args, **kwargs):
    return (graph if tf.executing_eagerly() else f)(*args, **kwargs)

  return call


def prefers_matrix_free_solves():
  """True while XLA compiles the code being traced (`jit_compile`): XLA's
  CPU factorizations are slow loops, its compiled loops cheap, so iterative
  solves win there; graph mode and eager run LAPACK-class kernels
  (`tfp_gumbel._kernels.sinkhorn._newton_direction`). TensorFlow exports the
  enclosing XLA context in `tf.__internal__`, the API it keeps for Keras."""
  get_context = getattr(tf.__internal__, "get_enclosing_xla_context", None)
  return get_context is not None and get_context() is not None


def host_call(fn, x):
  """`fn(numpy array) -> numpy array` of `x`'s shape and dtype, run by
  Python (eagerly and in `tf.function`; XLA cannot compile it)."""
  result = tf.numpy_function(fn, [x], x.dtype, stateful=False)
  result.set_shape(x.shape)
  return result


def uniform_open(shape, seed, dtype):
  """Uniform noise on [tiny, 1), so that neither log(u) nor log(1 - u) is inf.

  `tiny` is the smallest positive *normal* number of `dtype`: with a
  subnormal lower bound the generator could round to exactly 0 (TFP's
  samplers make the same choice). The upper end is open, so 1 - u >= eps / 2.
  `seed` follows TFP (`tfp.random.sanitize_seed`): a pair or a shape-[2]
  Tensor is stateless, an int or None becomes a stateless seed as TFP's own
  distributions make it.
  """
  dtype = tf.as_dtype(dtype)
  seed = tfp.random.sanitize_seed(seed)
  tiny = finfo(dtype).tiny
  if tf.executing_eagerly():
    # Same numbers, a fraction of the eager overhead ("Eager uniforms" in
    # benchmarks/results/design_figures.md): `stateless_uniform(alg="philox")`
    # scrambles the seed with about ten small eager ops in Python, while this
    # op does the identical scrambling (core/kernels/stateless_random_ops.cc)
    # in C++. Its draws on [0, 1) are then mapped to [tiny, 1) exactly as
    # below: `u * (1 - tiny) + tiny`, where 1 - tiny rounds to exactly 1.
    # (tiny as a tensor: adding the numpy scalar converts it on the slow path.)
    return tf.math.add(
        tf.raw_ops.StatelessRandomUniform(shape=shape, seed=seed, dtype=dtype),
        tf.constant(tiny, dtype))
  u = tf.random.stateless_uniform(
      shape,
      seed=seed,
      minval=tiny,
      maxval=1.,
      dtype=dtype,
      # Pinned (the default "auto_select" is Philox on CPU kernels but may be
      # another generator under XLA), so eager, tf.function and
      # jit_compile=True draw the same numbers for the same seed, and the same
      # numbers as TFP's own samplers in eager mode. (Under XLA it is also
      # much faster than the "auto_select" lowering on CPU:
      # benchmarks/results/numerics.md.)
      alg="philox")
  return _materialized(u, seed)


# Below this many (static) elements the fused recomputation costs less than
# the cond's own overhead (benchmarks/results/numerics.md).
_MIN_MATERIALIZED_SIZE = 2**14


def _materialized(u, seed):
  """`u`, computed into its own buffer before any consumer reads it.

  XLA lowers Philox to elementwise integer code that yields 4 numbers per
  counter and fuses it into the elementwise ops that consume `u`, so that
  every output element recomputes the whole 4-number block (and more than
  once when `u` is read twice, as in log(u) - log1p(-u)): several times
  slower than drawing the numbers into their own buffer first. An identity
  `tf.cond` is a fusion boundary XLA cannot see through; its predicate is
  always true but depends on the run-time seed. A constant seed gets no
  cond: TensorFlow then computes the numbers before compiling, with the same
  kernel as eager mode (so jit_compile=True draws eager's numbers), which a
  cond would prevent. Outside XLA the cond is one cheap op.
  """
  if tf.get_static_value(seed) is not None:
    return u
  size = u.shape.num_elements()
  if size is not None and size < _MIN_MATERIALIZED_SIZE:
    return u  # Too small for the recomputation to cost what the cond does.
  keep = tf.not_equal(tf.bitwise.bitwise_or(seed[0], 1), 0)
  return tf.cond(keep, lambda: u, lambda: tf.zeros_like(u))


# Linear algebra (Sinkhorn).

cholesky = tf.linalg.cholesky
solve = tf.linalg.solve
zeros = tf.zeros


def cholesky_solve(chol, rhs):
  """`a^-1 rhs` from the lower Cholesky factor `chol` of `a` (batched)."""
  return tf.linalg.cholesky_solve(chol, rhs)


def diagonal_matrix(x):
  """The diagonal matrices `[..., N, N]` with `x` `[..., N]` on their
  diagonals (`keras.ops.diag` takes a 1-D `x` only)."""
  return tf.linalg.diag(x)


def matmul_transposed(a, b):
  """`a @ swapaxes(b, -1, -2)`: one op, no transposed copy of `b`."""
  return tf.linalg.matmul(a, b, transpose_b=True)


def matvec(m, v, transpose=False):
  """`m @ v` (`m^T @ v` with `transpose`) for `m` `[..., M, N]` and `v`
  `[..., N]` (or `[..., M]`)."""
  return tf.linalg.matvec(m, v, transpose_a=transpose)


def on_matrix_batch(fn, x, extra_axes=0):
  """`fn(x)` for `fn` mapping a batch of matrices `x` `[..., M, N]` to
  results whose leading axes are that batch (or scalars), each matrix alone.

  Where `x`'s rank plus the `extra_axes` that `fn` adds to it could exceed
  `MAX_KERNEL_RANK` (or is unknown), `fn` sees one batch axis, `[-1, M, N]`,
  and each result of rank >= 1 is reshaped back: the same matrices in the
  same order, so no number changes. Below that, `x` is passed as it is:
  flattening every batch makes a small sample's gradient slower
  (benchmarks/results/design_figures.md).
  """
  rank = x.shape.rank
  if rank is not None and rank + extra_axes <= MAX_KERNEL_RANK:
    return fn(x)
  shape = tf.shape(x)
  batch_shape = shape[:-2]
  result = fn(tf.reshape(x, tf.concat([[-1], shape[-2:]], axis=0)))

  def unflatten(t):
    if t is None or t.shape.rank == 0:
      return t
    return tf.reshape(t, tf.concat([batch_shape, tf.shape(t)[1:]], axis=0))

  return tf.nest.map_structure(unflatten, result)
