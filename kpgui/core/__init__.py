"""Qt-free core: data, preprocessing, model specs, training and inference.

Nothing under this package imports Qt, so all of it runs (and is tested) without a window.
"""
