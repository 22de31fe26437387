"""Distributions of the Gumbel-Softmax (Concrete) family."""

from tfp_gumbel import _requirements

_requirements.require_tensorflow("tfp_gumbel.distributions")

from tfp_gumbel.distributions.exp_relaxed_gumbel_softmax import ExpRelaxedGumbelSoftmax
from tfp_gumbel.distributions.gumbel_sinkhorn import GumbelSinkhorn
from tfp_gumbel.distributions.gumbel_softmax import GumbelSoftmax
from tfp_gumbel.distributions.gumbel_sigmoid import GumbelSigmoid
from tfp_gumbel.distributions.relaxed_plackett_luce import RelaxedPlackettLuce
from tfp_gumbel.distributions.relaxed_top_k import RelaxedTopK

__all__ = ["ExpRelaxedGumbelSoftmax", "GumbelSigmoid", "GumbelSinkhorn",
           "GumbelSoftmax", "RelaxedPlackettLuce", "RelaxedTopK"]
