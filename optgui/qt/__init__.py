"""The desktop application: a thin Qt layer over optgui.core (reader, run engine, verifier)."""
