"""Running a study from the window: the run controller (the engine child process relayed by a QThread), the run
panel and the run log."""
