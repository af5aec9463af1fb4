"""The tests. Imported before any conftest, so what is set here holds before NumPy loads."""

import os

# One BLAS thread per test process: the suite runs serially, and OpenBLAS's own worker threads
# spin while they wait; with another process on a 2-core machine that made NumPy-heavy tests up
# to 6x slower (e.g. 7.7 s instead of 1.35 s). Set it yourself to override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
