"""Lessons that follow the primer: the Qt-free parts (the numbers learners see, lesson files).

`one_weight` is the primer's first loop (one input, one weight, one goal); `code` writes a run's
settings as a plain Keras script in the primer's four steps.
"""
