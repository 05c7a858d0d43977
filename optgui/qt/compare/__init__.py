"""Comparing studies in the window: pick 2–8 studies of any open files, see the definition diff and overlays."""
