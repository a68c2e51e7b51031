"""Benchmarks that print reglab's speed as ratios against bare PyTorch (`python -m bench`)."""
