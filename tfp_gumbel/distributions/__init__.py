"""Distributions of the Gumbel-Softmax (Concrete) family."""

from tfp_gumbel.distributions.exp_relaxed_gumbel_softmax import ExpRelaxedGumbelSoftmax
from tfp_gumbel.distributions.gumbel_sinkhorn import GumbelSinkhorn
from tfp_gumbel.distributions.gumbel_softmax import GumbelSoftmax
from tfp_gumbel.distributions.gumbel_sigmoid import GumbelSigmoid

__all__ = ["ExpRelaxedGumbelSoftmax", "GumbelSigmoid", "GumbelSinkhorn", "GumbelSoftmax"]
