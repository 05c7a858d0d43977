"""The main window and the application around it: start-up, menus, the start page, the study list, New study,
preferences, desktop integration (single instance, files opened from the desktop)."""
