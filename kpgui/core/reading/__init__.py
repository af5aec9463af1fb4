"""From a drawing or picture to a verdict: MNIST-style preprocessing and its steps, numbers split
into digits, calibrated confidence and "not sure", saliency,
Inside and Fool it. No training, no TensorFlow."""
