"""Where the pictures come from: MNIST (found, checked, downloaded), augmentation, digits drawn
in people's styles and non-digits, real pen digits, image representations."""
