"""The demo study: how it is defined, shared by `optgui run --demo` and the app's "Open demo" (which must agree,
so a demo made by one resumes in the other). It lives at `optgui.core.paths.demo_study_path()`."""

from __future__ import annotations

DEMO_STUDY = "demo"
DEMO_OBJECTIVE = "builtin:quadratic"
DEMO_SAMPLER = "TPESampler(seed=42)"
DEMO_TRIALS = 200
