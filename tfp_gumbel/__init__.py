"""tfp_gumbel: the Gumbel-Softmax (Concrete) family for TensorFlow Probability.

Import it as `tfg`, next to `tfd`:

```python
import tfp_gumbel as tfg
d = tfg.GumbelSoftmax(temperature=0.5, probs=[0.1, 0.2, 0.5, 0.2])
x = d.sample(3, seed=(1, 2))                     # [3, 4] points on the simplex
d.log_prob(x)
```
"""

import sys as _sys

# `python -m tfp_gumbel` runs the demo, a program, and Python imports this
# package (and TensorFlow with it) before __main__.py runs: the program's quiet
# start has to begin here. sys.argv[0] is "-m" only while Python locates the
# module it was asked to run, so a plain `import tfp_gumbel` changes nothing.
if _sys.argv[:1] == ["-m"] and "tfp_gumbel" in getattr(_sys, "orig_argv", []):
  import tfp_gumbel_cli
  tfp_gumbel_cli.quiet_tensorflow()

from tfp_gumbel._version import __version__
from tfp_gumbel.distributions import ExpRelaxedGumbelSoftmax
from tfp_gumbel.distributions import GumbelSoftmax
from tfp_gumbel.distributions import GumbelSigmoid
from tfp_gumbel.distributions import GumbelSinkhorn
from tfp_gumbel.distributions import RelaxedPlackettLuce
from tfp_gumbel.distributions import RelaxedTopK
from tfp_gumbel import estimators
from tfp_gumbel import layers
from tfp_gumbel.monte_carlo import categorical_kl, monte_carlo_entropy, monte_carlo_relaxed_kl

__all__ = [
    "ExpRelaxedGumbelSoftmax",
    "GumbelSigmoid",
    "GumbelSinkhorn",
    "GumbelSoftmax",
    "RelaxedPlackettLuce",
    "RelaxedTopK",
    "categorical_kl",
    "estimators",
    "layers",
    "monte_carlo_entropy",
    "monte_carlo_relaxed_kl",
]
