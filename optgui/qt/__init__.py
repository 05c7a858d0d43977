"""The desktop application: a thin Qt layer over optgui.core (reader, run engine, verifier).

Subpackages by role: window (start-up, the main window and what hangs off it), study (one study: view, session,
reading), plots (the convergence plot and the analysis views), run (running from the window), verify (the badge),
fleet (the Fleet tab), workbench (trials table, details, exports, study management), tasks (work off the GUI
thread). Modules shared by all of them (dialogs, errors, theme, settings, icons) stay here.
"""
