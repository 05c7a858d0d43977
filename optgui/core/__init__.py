"""Qt-free core of optgui: storage access, sampler specs and RNG checkpoints, the run engine, replay.

Nothing below this package may import PySide6 or pyqtgraph (tests/core/test_qt_free.py enforces it), so the
headless commands run on machines without libGL and the library can be driven from a notebook.
"""
