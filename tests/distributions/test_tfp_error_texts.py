"""Under validate_args our errors contain TFP's own texts, with its types.

Each case runs on TFP's class as well, so that the expected text is checked
to be TFP's (installed version), not a copy that drifted: a user's
`pytest.raises(..., match=<TFP's text>)` keeps passing after the port.
"""

import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_gumbel as tfg

tfd = tfp.distributions

PAIRS = {
    "GumbelSoftmax": (tfg.GumbelSoftmax, tfd.RelaxedOneHotCategorical),
    "ExpRelaxedGumbelSoftmax": (tfg.ExpRelaxedGumbelSoftmax,
                                tfd.ExpRelaxedOneHotCategorical),
    "GumbelSigmoid": (tfg.GumbelSigmoid, tfd.RelaxedBernoulli),
}
CATEGORICAL = ["GumbelSoftmax", "ExpRelaxedGumbelSoftmax"]
INVALID = tf.errors.InvalidArgumentError
RANGE = ("Samples must be less than or equal to `0` for "
         "`ExpRelaxedOneHotCategorical` or `1` for `RelaxedOneHotCategorical`.")
SUM = ("Final dimension of samples must sum to `0` for .`"
       "ExpRelaxedOneHotCategorical` or `1` for `RelaxedOneHotCategorical`.")


def _construct(kwargs):
  return lambda cls: cls(validate_args=True, **kwargs)


def _log_prob_at(x, on_log_scale=False):
  def run(cls):
    d = cls(0.5, logits=[0., 1., 2.], validate_args=True)
    return d.log_prob(np.log(x) if on_log_scale else x)
  return run


def _variable_temperature_assigned(value):
  def run(cls):
    t = tf.Variable(1.)
    logits = 0. if cls in PAIRS["GumbelSigmoid"] else [0., 1.]
    d = cls(t, logits=logits, validate_args=True)
    t.assign(value)
    return d.sample(seed=(1, 2))
  return run


# (name, families, action, error type, TFP's text)
CASES = [
    ("both logits and probs", CATEGORICAL,
     _construct(dict(temperature=1., logits=[0., 1.], probs=[.5, .5])),
     ValueError, "Must pass `probs` or `logits`, but not both."),
    ("neither logits nor probs", CATEGORICAL, _construct(dict(temperature=1.)),
     ValueError, "Must pass `probs` or `logits`, but not both."),
    ("integer logits", CATEGORICAL,
     _construct(dict(temperature=1., logits=tf.constant([1, 2]))),
     TypeError, "Argument `logits` must having floating type."),
    ("integer probs", CATEGORICAL,
     _construct(dict(temperature=1., probs=tf.constant([0, 1]))),
     TypeError, "Argument `probs` must having floating type."),
    ("scalar logits", CATEGORICAL, _construct(dict(temperature=1., logits=0.)),
     ValueError, "Argument `logits` must have rank at least 1."),
    ("no class", CATEGORICAL,
     _construct(dict(temperature=1., logits=tf.zeros([0]))),
     ValueError, "Argument `logits` must have final dimension >= 1."),
    ("temperature 0", CATEGORICAL,
     _construct(dict(temperature=0., logits=[0., 1.])),
     INVALID, "Condition x > 0 did not hold element-wise"),
    ("negative temperature", ["GumbelSigmoid"],
     _construct(dict(temperature=-1., logits=0.)),
     INVALID, "Argument `temperature` must be positive."),
    ("temperature Variable at use", ["GumbelSigmoid"],
     _variable_temperature_assigned(-1.),
     INVALID, "Argument `temperature` must be positive."),
    ("temperature Variable at use", CATEGORICAL,
     _variable_temperature_assigned(-1.),
     INVALID, "Condition x > 0 did not hold element-wise"),
    ("negative probs", CATEGORICAL,
     _construct(dict(temperature=1., probs=[-.5, 1.5])),
     INVALID, "Condition x >= 0 did not hold element-wise"),
    ("probs above 1", CATEGORICAL,
     _construct(dict(temperature=1., probs=[1.5, 0.])),
     INVALID, "Condition x <= y did not hold"),
    ("probs off the simplex", CATEGORICAL,
     _construct(dict(temperature=1., probs=[.2, .2])),
     INVALID, "Argument `probs` must sum to 1."),
    ("negative probs", ["GumbelSigmoid"],
     _construct(dict(temperature=1., probs=[-.5, .5])),
     INVALID, "Argument `probs` has components less than 0."),
    ("probs above 1", ["GumbelSigmoid"],
     _construct(dict(temperature=1., probs=[1.5, .5])),
     INVALID, "Argument `probs` has components greater than 1."),
    ("negative coordinate", ["GumbelSoftmax"],
     _log_prob_at(np.array([-.5, .5, 1.], np.float32)), INVALID, RANGE),
    ("coordinate above 1", ["GumbelSoftmax"],
     _log_prob_at(np.array([1.5, -.2, -.3], np.float32)), INVALID, RANGE),
    ("coordinates not summing to 1", ["GumbelSoftmax"],
     _log_prob_at(np.array([.2, .3, .4], np.float32)), INVALID, SUM),
    ("positive log-coordinate", ["ExpRelaxedGumbelSoftmax"],
     _log_prob_at(np.array([.5, .6, 1.], np.float32)), INVALID, RANGE),
    ("log-coordinates not summing to 0", ["ExpRelaxedGumbelSoftmax"],
     _log_prob_at(np.array([.2, .3, .4], np.float32), on_log_scale=True),
     INVALID, SUM),
    ("negative sample", ["GumbelSigmoid"],
     lambda cls: cls(.5, probs=[.2, .6], validate_args=True).log_cdf(
         [.3, -.2]), INVALID, "Sample must be non-negative."),
    ("sample above 1", ["GumbelSigmoid"],
     lambda cls: cls(.5, probs=[.2, .6], validate_args=True).prob([.3, 1.2]),
     INVALID, "Sample must be less than or equal to `1`."),
]

PARAMS = [pytest.param(family, action, error, text,
                       id=f"{family}-{name}")
          for name, families, action, error, text in CASES
          for family in families]


@pytest.mark.parametrize("family,action,error,text", PARAMS)
def test_our_error_contains_tfps_text(family, action, error, text):
  ours, theirs = PAIRS[family]
  with pytest.raises(error, match=re.escape(text)):
    action(theirs)  # the text is TFP's
  with pytest.raises(error, match=re.escape(text)):
    action(ours)


def test_integer_logits_follow_tfp():
  # TFP converts Python ints to float32 and rejects integer Tensors.
  for ours, theirs in (PAIRS["GumbelSoftmax"],):
    assert ours(1., logits=[1, 2]).dtype == theirs(1., logits=[1, 2]).dtype
  assert tfg.GumbelSigmoid(1., logits=[1, 2]).dtype == tf.float32
  with pytest.raises(TypeError):
    tfd.RelaxedBernoulli(1., logits=tf.constant([1, 2]))
  with pytest.raises(TypeError, match="Argument `logits` must having floating"):
    tfg.GumbelSigmoid(1., logits=tf.constant([1, 2]))


@pytest.mark.parametrize("cls", [tfg.ExpRelaxedGumbelSoftmax, tfg.GumbelSoftmax,
                                 tfg.RelaxedTopK])
@pytest.mark.parametrize("value,text", [
    (19.84, "Argument `logits` must have rank at least 1."),
    ([[], []], "Argument `logits` must have final dimension >= 1."),
])
def test_shape_errors_at_unknown_rank_carry_tfps_text(cls, value, text):
  # As TFP's testUnknownAndInvalidShape (graph mode, rank unknown): the shape
  # is checked at run time before any check that reduces over the classes.
  @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
  def sample(logits):
    args = (0.75, 1) if cls is tfg.RelaxedTopK else (0.75,)
    return cls(*args, logits=logits, validate_args=True).sample(seed=(1, 2))

  with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(text)):
    sample(tf.constant(value, tf.float32))
