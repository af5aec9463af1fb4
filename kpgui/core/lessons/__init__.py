"""Lessons that follow the primer: the Qt-free parts (the numbers learners see, lesson files).

`files` reads and validates lesson files (the built-in tour in `builtin/` uses the same format);
`checks` recognises when a step's "try this" task is done, from the app state's events.
`one_weight` is the primer's first loop (one input, one weight, one goal); `code` writes a run's
settings as a plain Keras script in the primer's four steps.
"""
