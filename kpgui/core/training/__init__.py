"""Runs: Keras fit + callbacks on the chosen backend, the training process and its messages,
whole jobs (train, measure, save, record), fine-tuning, sweeps, experiments and Optuna searches."""
