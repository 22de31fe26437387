"""The one set of argument checks (`tfp_gumbel._checks`): rules and texts."""

import numpy as np
import pytest

from tfp_gumbel import _checks


@pytest.mark.parametrize("value", [0., -1, float("inf"), float("nan"), True,
                                   "1", None, [1.]])
def test_positive_rejects_with_tfps_text_and_the_name(value):
  with pytest.raises(ValueError) as info:
    _checks.positive(value, "rate")
  assert "Argument `rate` must be positive." in str(info.value)
  assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [1, 0.5, np.float32(2.), np.int64(3)])
def test_positive_returns_a_float(value):
  assert _checks.positive(value, "t") == float(value)
  assert isinstance(_checks.positive(value, "t"), float)


def test_positive_values_checks_every_entry_and_passes_unknown():
  _checks.positive_values(None, "temperature")
  _checks.positive_values(np.array([0.1, 2.]), "temperature")
  _checks.positive_values(np.array([True]), "temperature")  # not numeric
  for bad in ([0.1, 0.], [np.inf], [[np.nan]]):
    with pytest.raises(ValueError,
                       match=r"Argument `temperature` must be positive\."):
      _checks.positive_values(np.array(bad), "temperature")


@pytest.mark.parametrize("minimum, kind", [(1, "a positive integer"),
                                           (0, "a non-negative integer"),
                                           (2, "an integer >= 2")])
def test_integer_texts(minimum, kind):
  assert _checks.integer(minimum, "n", minimum) == minimum
  for bad in (minimum - 1, 2.5, True, "3"):
    with pytest.raises(ValueError, match=f"`n` must be {kind}, got"):
      _checks.integer(bad, "n", minimum)
  with pytest.raises(ValueError, match=r"`n` must be an integer >= 2 for b"):
    _checks.integer(1, "n", 2, " for b")
