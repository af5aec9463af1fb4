"""Training data for reading people's handwriting, not just MNIST's.

- `synthetic_digits(n, seed)`: digits drawn stroke by stroke in the styles people use (STYLES),
  sampled like a mouse, rendered by the canvas' own `strokes_to_mnist`.
- `restroke(images, labels, seed)`: MNIST digits thinned to a skeleton, traced into pen strokes
  (some 1s get a flag or foot, some 7s a crossbar, some 0s a slash) and drawn again with a pen.
- `non_digits(n, seed)`: letters, symbols, overlaid digits, scribbles... things that are not one
  digit, for outlier exposure.

Layout: `pen` (shape primitives and the simulated hand and mouse), `digits` (the styles),
`restroke` (thinning and tracing), `nondigits`. NumPy only: no Qt, no TensorFlow.
"""

from kpgui.core.data.synth.digits import (
    STYLES,
    UNCOMMON_IN_MNIST,
    draw_style,
    glyph,
    style_of,
    synthetic_digits,
)
from kpgui.core.data.synth.nondigits import KINDS as NON_DIGIT_KINDS
from kpgui.core.data.synth.nondigits import draw_non_digit, non_digit_kinds, non_digits
from kpgui.core.data.synth.restroke import restroke, restroke_with_info

__all__ = [
    "NON_DIGIT_KINDS",
    "STYLES",
    "UNCOMMON_IN_MNIST",
    "draw_non_digit",
    "draw_style",
    "glyph",
    "non_digit_kinds",
    "non_digits",
    "restroke",
    "restroke_with_info",
    "style_of",
    "synthetic_digits",
]
