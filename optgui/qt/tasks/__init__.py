"""Background work off the GUI thread: cancellable jobs with progress, and the background reads of a study."""
