"""Helpers shared by the tests and the benchmarks, imported by absolute name (`from tests.support.fleet import ...`)."""
