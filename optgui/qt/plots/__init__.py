"""The analysis views: one module per plot, each a thin pyqtgraph widget over optgui.core.analysis._plot_data."""
