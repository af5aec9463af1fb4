"""The network itself: its options and spec, the one builder, the .keras file read safely,
the NumPy Predictor, its card, its measurement and per-layer statistics. Never imports training."""
