"""Array namespaces: what the kernels (`tfp_gumbel._kernels`) compute with.

A kernel is written once against a namespace `xp` passed in as its first
argument, and never imports an array library itself. A namespace is a module
whose functions carry `keras.ops`' names and meanings (`xp.where`,
`xp.logsumexp(x, axis, keepdims)`, `xp.softmax`, `xp.top_k`, ...), plus the
few things `keras.ops` lacks, named for what they do:

| name | what it is |
|---|---|
| `constant(value, dtype)` | a scalar of `dtype` (Python numbers do not carry one), or a numpy array's values in `dtype` |
| `finfo(dtype)` | `eps` and `tiny` of a float dtype, bfloat16 included |
| `static_value(x)` | `x`'s value as numpy when it is known without running anything (TF: an eager Tensor, a constant; `keras_ops`: a Python or numpy number only), else None: a kernel may skip work that the value shows to be a no-op, never compute something else |
| `eager_value(x)` | `x`'s value as numpy where it is computed already (eagerly), None inside a traced function: for a warning about a result (Sinkhorn's `max_iters`), never for a formula |
| `concat_shapes(*parts)` | one shape from lists and shape Tensors |
| `sample_shape(n, *arrays)` | `[n]` + the arrays' broadcast shape |
| `flatten_batch(arrays, event_ndims)` | the arrays broadcast and flattened to one batch axis, and that batch shape |
| `last_dim(x)` | the size of the last axis: a Python int where static |
| `softmax(x, log=False)` | over the last axis, at any rank |
| `cumsum(x, axis, exclusive=False)` | with `exclusive`, the sums of the entries before each (`keras.ops.cumsum` has no such option) |
| `while_loop(cond, body, loop_vars, maximum_iterations)` | a loop whose count is known only at run time; differentiable in reverse mode where `maximum_iterations` is a Python int (on JAX, a `fori_loop` of that many guarded steps) |
| `eager_compiled(f)` | `f` run as one compiled call when executing eagerly (a loop of small ops), `f` itself otherwise |
| `custom_gradient(f)` | `f` returns `(value, grad)`; `grad(upstream)` (`keras_ops` adapts it to Keras's portable `grad(*args, upstream=None)`) |
| `host_call(fn, x)` | a numpy function of `x` with an output of `x`'s shape and dtype, no gradient (`jax.pure_callback` on JAX, `tf.numpy_function` in a TF graph, a plain call eagerly) |
| `uniform_open(shape, seed, dtype)` | uniform noise on `[tiny, 1)` from a stateless seed |
| `prefers_matrix_free_solves()` | whether iterative solves beat dense factorizations in the code being built (XLA compiling it: `jax.jit`, TF's `jit_compile`) |
| `cholesky(x)` | the lower Cholesky factor, NaN (not an error) for a matrix that rounding made indefinite |
| `cholesky_solve(chol, rhs)` | `a^-1 rhs` from the lower Cholesky factor of `a` |
| `diagonal_matrix(x)` | the diagonal matrices with `x`'s last axis on their diagonals (batched `diag`) |
| `matmul_transposed(a, b)` | `a @ swapaxes(b, -1, -2)` in one op |
| `matvec(m, v, transpose=False)` | `m @ v` (or `m^T @ v`) over the last axes |
| `on_matrix_batch(fn, x, extra_axes)` | `fn(x)` for a batch of matrices, on one batch axis where the backend's kernels limit the rank |
| `branch_on_finite(x, true_fn, false_fn)` | `keras_ops` only, for the layers: `true_fn()` if every element of `x` is finite when the step runs, else `false_fn()`, where ops run one by one on the CPU (a Python `if`, `tf.cond` in a TF graph); None where a compiler fuses what it would skip |

`tensorflow.py` is the namespace of the TFP families and the estimators; the
TF-eager speed tricks (raw ops, skipped masks) live there, not in the math.
`keras_ops.py` is `keras.ops` itself, plus those of these names that the
kernels it runs need, for any Keras 3 backend; tests/kernels/test_namespaces.py
runs the kernels through both and checks that they agree.
"""
