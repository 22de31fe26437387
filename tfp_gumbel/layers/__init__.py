"""Keras 3 layers for the Gumbel-Softmax family, and a temperature callback.

`tfg.layers.GumbelSoftmax` and `tfg.layers.GumbelSigmoid` turn logits into
relaxed (or hard) samples inside a Keras 3 model, `tfg.layers.GumbelSinkhorn`
turns `[N, N]` logits into relaxed (or hard) permutation matrices;
`TemperatureAnnealing` anneals their temperature during `fit`. The tf-keras layer in the style of
`tfp.layers` lives in `tfp_gumbel.layers.tfp_layers` and is imported only on
demand (it needs tf-keras, `TF_USE_LEGACY_KERAS=1`).
"""

from tfp_gumbel import _requirements

_requirements.require_keras("tfp_gumbel.layers")

from tfp_gumbel.layers.annealing import TemperatureAnnealing
from tfp_gumbel.layers.gumbel_sigmoid import GumbelSigmoid
from tfp_gumbel.layers.gumbel_sinkhorn import GumbelSinkhorn
from tfp_gumbel.layers.gumbel_softmax import GumbelSoftmax
from tfp_gumbel.layers.relaxed_plackett_luce import RelaxedPlackettLuce
from tfp_gumbel.layers.relaxed_top_k import RelaxedTopK

__all__ = ["GumbelSigmoid", "GumbelSinkhorn", "GumbelSoftmax",
           "RelaxedPlackettLuce", "RelaxedTopK",
           "TemperatureAnnealing"]
