"""tfp_layers.GumbelSoftmax: a tf-keras model trained by maximum likelihood
(`loss=lambda y, d: -d.log_prob(y)`), in its own process with
TF_USE_LEGACY_KERAS=1 (tf-keras is chosen when TensorFlow is imported)."""

import numpy as np

from tests.layers import subprocess_util


def test_maximum_likelihood_in_tf_keras():
  result = subprocess_util.run_script("tests.layers.legacy_keras_script",
                                      TF_USE_LEGACY_KERAS="1")
  assert result["legacy_keras"]
  assert result["is_gumbel_softmax"], result["distribution"]
  assert result["batch_shape"] == [3] and result["event_shape"] == [4]
  np.testing.assert_allclose(result["tensor_sums"], 1., rtol=1e-5)
  assert np.isfinite(result["last_loss"])
  assert result["last_loss"] < result["first_loss"]
  # The MLE of 2000 draws: its standard error is <= sqrt(.25 / 2000) = 0.011
  # per class (multinomial bound; the relaxed samples carry at least the
  # argmax's information), so 0.04 is > 3.5 standard errors.
  np.testing.assert_allclose(result["fitted_probs"], [0.1, 0.2, 0.5, 0.2],
                             atol=0.04)
