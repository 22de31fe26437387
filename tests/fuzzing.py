"""The two tests every property fuzz defines: a fast default run and the
2,000-case sweep under `-m slow`, with the same deterministic settings."""

import hypothesis
import pytest

_SETTINGS = dict(derandomize=True, deadline=None, print_blob=True,
                 suppress_health_check=list(hypothesis.HealthCheck))


def fuzz_tests(check, cases, default_examples):
  """(test_fuzz, test_fuzz_2000): `check(case)` over `default_examples` and
  over 2,000 draws of the strategy `cases()`, reproducible (derandomized)."""

  @hypothesis.settings(max_examples=default_examples, **_SETTINGS)
  @hypothesis.given(case=cases())
  def test_fuzz(case):
    check(case)

  @pytest.mark.slow
  @hypothesis.settings(max_examples=2000, **_SETTINGS)
  @hypothesis.given(case=cases())
  def test_fuzz_2000(case):
    check(case)

  return test_fuzz, test_fuzz_2000
