"""Benchmarks and soaks, run by hand (pytest does not collect them): from the repository root, with optgui installed
(`pip install -e '.[test]'`), as `python -m tests.benchmarks.NAME [options]`; each module's docstring gives its
options."""
