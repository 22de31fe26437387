"""Checks of arguments whose value is known when a call is made: one rule and
one text per mistake, naming the argument, for every family, estimator,
layer and callback, on every backend (numpy only).

Where TFP makes the same check its text is inside ours ("Argument
`temperature` must be positive."); values known only when a graph runs are
checked by the distributions' `validate_args` assertions instead.
"""

import math

import numpy as np

__all__ = ["integer", "positive", "positive_values"]


def positive(value, name):
  """`value` as a Python float; a ValueError naming `name` unless it is a
  number, positive and finite."""
  if (isinstance(value, (bool, np.bool_))
      or not isinstance(value, (int, float, np.floating, np.integer))
      or not math.isfinite(value) or not value > 0):
    raise ValueError(f"Argument `{name}` must be positive. Got {value!r} "
                     f"(it must be a positive finite number).")
  return float(value)


def positive_values(value, name):
  """A ValueError naming `name` unless every entry of the numeric array
  `value` (None: not known yet) is positive and finite."""
  if value is None:
    return
  value = np.asarray(value)
  if value.dtype.kind not in "fiu":
    return
  if not np.all(np.isfinite(value)) or not np.all(value > 0):
    raise ValueError(f"Argument `{name}` must be positive. Got "
                     f"{value.tolist()!r} (it must be positive and finite).")


def integer(value, name, minimum=1, why=""):
  """`value` as a Python int; a ValueError naming `name` unless it is an
  integer (not a bool) of at least `minimum` (`why`: the reason for a
  minimum other than 1 or 0, appended to the text)."""
  if (isinstance(value, (bool, np.bool_))
      or not isinstance(value, (int, np.integer)) or value < minimum):
    kind = {1: "a positive integer", 0: "a non-negative integer"}.get(
        minimum, f"an integer >= {minimum}")
    raise ValueError(f"`{name}` must be {kind}{why}, got {value!r}.")
  return int(value)
