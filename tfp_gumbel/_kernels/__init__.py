"""The math of the package: each formula once, against an array namespace.

Every kernel takes the array namespace `xp` as its first argument
(`tfp_gumbel._backend`: TensorFlow's for the TFP families and the estimators,
`keras.ops` for any Keras 3 backend) and imports no array library itself, so
the same statement of a formula serves every backend. Kernels take arrays of
one floating dtype and compute in it (callers choose the compute dtype,
float32 for float16 / bfloat16, and round once). An entry of -inf is an
impossible class or a forbidden assignment: exactly 0 (or -inf in log space)
in every result, with exactly zero gradient (`masking`).

| module | what it computes | used by |
|---|---|---|
| `masking` | the impossible-class idioms: `possible`, `impossible_bias`, `safe_log`, `log_odds`, `masked_log_softmax`, `divide_by_temperature` | every kernel, family and estimator |
| `noise` | Gumbel and Logistic noise from the namespace's uniforms | every sampler |
| `categorical` | `tempered`, `tempered_softmax`, `gumbel_softmax_sample`, `one_hot_argmax`, `conditional_gumbel`, the ExpConcrete density `log_simplex_log_prob` | ExpRelaxedGumbelSoftmax, GumbelSoftmax, the categorical estimators, REBAR / RELAX |
| `binary` | the binary relaxation: `relaxed_log_odds`, its density `log_prob`, `distribution_function`, `log_sigmoid_pair` | GumbelSigmoid, LogitGumbelSigmoid, `gumbel_sigmoid_st`, binary REBAR |
| `subsets` | Xie & Ermon's relaxed top-k (`relaxed_top_k`), `top_k_mask`, `check_k` | RelaxedTopK, `top_k_st`, layers.RelaxedTopK |
| `sinkhorn` | Sinkhorn in log space as a solver: `SinkhornOptions`, `SinkhornResult`, `solve`, `log_sinkhorn` (to a tolerance with its implicit gradient, or fixed rounds) | GumbelSinkhorn, `gumbel_sinkhorn_st`, `solve_sinkhorn`, layers.GumbelSinkhorn |
| `matching` | the maximum-weight matching (scipy, on the host) | `matching`, `gumbel_sinkhorn_st`, layers.GumbelSinkhorn |
| `straight_through` | hard samples' surrogate gradients: `replace_gradient`, Gumbel-Rao's conditional mean, ReinMax's correction | `tfg.estimators`, `tfg.ops` |
| `sorting` | NeuralSort (`neural_sort`), one formula with or without absent items, and its limit `sort_matrix` | RelaxedPlackettLuce, `plackett_luce_st`, layers.RelaxedPlackettLuce |

ARCHITECTURE.md places this package among the others.
"""
