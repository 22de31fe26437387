"""tfp_gumbel: the Gumbel-Softmax (Concrete) family for TensorFlow Probability.

Import it as `tfg`, next to `tfd`:

```python
import tfp_gumbel as tfg
d = tfg.GumbelSoftmax(temperature=0.5, probs=[0.1, 0.2, 0.5, 0.2])
x = d.sample(3, seed=(1, 2))                     # [3, 4] points on the simplex
d.log_prob(x)
```

`import tfp_gumbel` imports neither TensorFlow nor TFP: each public name
below is imported on first use (PEP 562), and the distributions, estimators
and layers check then that TensorFlow, TFP and tf-keras are installed
(`pip install "tfp_gumbel[tensorflow]"`), with an ImportError that says what
was found and what is needed where they are not. `tfg.ops`, the relaxations
as functions of the active Keras backend's tensors, needs Keras only.
"""

import importlib
import typing

# A library changes nothing about the process: no environment, no stderr, no
# look at sys.argv. The demo's quiet start is the programs' business
# (tfp_gumbel_cli: the console script and `python -m tfp_gumbel_cli`).
from tfp_gumbel._version import __version__  # pylint: disable=unused-import

# Each public name and the module that defines it; a module's own name stands
# for the module.
_PUBLIC = {
    "ExpRelaxedGumbelSoftmax": "tfp_gumbel.distributions",
    "GumbelSigmoid": "tfp_gumbel.distributions",
    "GumbelSinkhorn": "tfp_gumbel.distributions",
    "GumbelSoftmax": "tfp_gumbel.distributions",
    "RelaxedPlackettLuce": "tfp_gumbel.distributions",
    "RelaxedTopK": "tfp_gumbel.distributions",
    "categorical_kl": "tfp_gumbel.kl",
    "estimators": "tfp_gumbel.estimators",
    "layers": "tfp_gumbel.layers",
    "monte_carlo_entropy": "tfp_gumbel.monte_carlo",
    "monte_carlo_relaxed_kl": "tfp_gumbel.monte_carlo",
    "ops": "tfp_gumbel.ops",
}

# A literal list: docs/gen_pages.py reads it from the source.
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
    "ops",
]
assert sorted(__all__) == sorted(_PUBLIC)

if typing.TYPE_CHECKING:  # what static tools and IDEs see
  from tfp_gumbel import estimators, layers, ops
  from tfp_gumbel.distributions import (
      ExpRelaxedGumbelSoftmax, GumbelSigmoid, GumbelSinkhorn, GumbelSoftmax,
      RelaxedPlackettLuce, RelaxedTopK)
  from tfp_gumbel.kl import categorical_kl
  from tfp_gumbel.monte_carlo import monte_carlo_entropy, monte_carlo_relaxed_kl


def __getattr__(name):
  if name not in _PUBLIC:
    raise AttributeError(f"module 'tfp_gumbel' has no attribute {name!r}")
  module = importlib.import_module(_PUBLIC[name])
  value = module if module.__name__.endswith("." + name) else getattr(module, name)
  globals()[name] = value  # later look-ups skip this function
  return value


def __dir__():
  return sorted(set(globals()) | set(__all__))
