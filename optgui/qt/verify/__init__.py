"""Verification in the window: the verifier child process behind the determinism badge, the badge and its
verdict dialog."""
