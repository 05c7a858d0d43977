"""python -m optgui.core.records > docs/storage-format.md: the storage format, generated from the records."""

from __future__ import annotations

import sys

from optgui.core.records._docs import render

if __name__ == "__main__":
    sys.stdout.write(render())
