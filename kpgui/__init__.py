"""kpgui: draw a digit, watch a dense network read it live, train that network on MNIST.

Importing the package is cheap on purpose: no TensorFlow, no Keras, no Qt. The heavy
libraries are imported inside the functions that need them.
"""

__version__ = "0.2.0"
