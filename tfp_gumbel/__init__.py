"""tfp_gumbel: the Gumbel-Softmax (Concrete) family for TensorFlow Probability.

Import it as `tfg`, next to `tfd`:

```python
import tfp_gumbel as tfg
d = tfg.GumbelSoftmax(temperature=0.5, probs=[0.1, 0.2, 0.5, 0.2])
x = d.sample(3, seed=(1, 2))                     # [3, 4] points on the simplex
d.log_prob(x)
```
"""

# A library changes nothing about the process: no environment, no stderr, no
# look at sys.argv. The demo's quiet start is the programs' business
# (tfp_gumbel_cli: the console script and `python -m tfp_gumbel_cli`).
from tfp_gumbel._version import __version__  # pylint: disable=unused-import
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
