"""The Qt window of kpgui: thin views over the Qt-free core in `kpgui.core`.

Nothing here imports TensorFlow at import time; training imports it in a worker thread.
"""
