"""Keras 3 layer GumbelSigmoid: the law of its relaxed and hard samples.

What it shares with GumbelSoftmax is tested on both in test_gumbel.py; its
`class_mask` in test_masks.py.
"""

import numpy as np
import pytest
from scipy import special
from scipy import stats

import tfp_gumbel as tfg
from tests.layers import gumbel_util


@pytest.mark.parametrize("temperature,hard", [(0.3, False), (2., False),
                                              (0.5, True)])
def test_sigmoid_law(temperature, hard):
  # Relaxed: P(Y <= y) = sigmoid(t logit(y) - logits) (KS test); hard: the
  # 0/1 draws are Bernoulli(sigmoid(logits)) (binomial test).
  logit = 0.7
  logits = np.full([3000], logit, np.float32)
  layer = tfg.layers.GumbelSigmoid(temperature, hard=hard, seed=5)
  y = gumbel_util.draw(layer, logits).numpy().astype(np.float64)
  if hard:
    gumbel_util.assert_vertex(y, "sigmoid")
    p = stats.binomtest(int(y.sum()), y.size, special.expit(logit)).pvalue
  else:
    cdf = lambda v: special.expit(temperature * special.logit(v) - logit)
    p = stats.kstest(y, cdf).pvalue
  assert p > gumbel_util.P_MIN
