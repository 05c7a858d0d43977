"""optgui: a native desktop application for Optuna studies."""

__version__ = "0.1.0"

# The one application id: settings, .desktop file, icons, MIME package, macOS bundle id.
APP_ID = "io.github.optgui.optgui"
APP_NAME = "optgui"
ORGANIZATION = "optgui"
