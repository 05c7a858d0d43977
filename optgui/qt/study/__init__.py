"""One study in the window: the study view, its session (everything shown about a study), reading it through
the core reader, the trial data behind the convergence plot, and the selection shared by the views."""
