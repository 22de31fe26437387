"""Benchmarks of tfp_gumbel against TFP and raw TensorFlow ops (run by hand)."""
