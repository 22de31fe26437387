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
| `static_value(x)` | `x`'s value as numpy when it is known without running anything (an eager Tensor, a constant), else None: a kernel may skip work that the value shows to be a no-op, never compute something else |
| `last_dim(x)` | the size of the last axis: a Python int where static |
| `softmax(x, log=False)` | over the last axis, at any rank |
| `while_loop(cond, body, loop_vars, maximum_iterations)` | a loop whose count is known only at run time |
| `eager_compiled(f)` | `f` run as one compiled call when executing eagerly (a loop of small ops), `f` itself otherwise |
| `custom_gradient(f)` | `f` returns `(value, grad)`; `grad(upstream)` |
| `host_call(fn, x)` | a numpy function of `x` with an output of `x`'s shape and dtype |
| `uniform_open(shape, seed, dtype)` | uniform noise on `[tiny, 1)` from a stateless seed |

`tensorflow.py` is the namespace of the TFP families and the estimators; the
TF-eager speed tricks (raw ops, skipped masks) live there, not in the math.
"""
