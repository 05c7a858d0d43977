"""Plot data for the analysis views, computed from the reader's columns with numpy only; each function equals
one of Optuna's plot-data helpers or importance evaluators. Depends on the storage layer's tables only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optgui.core.analysis._compare_data import (
        FRACTIONS,
        BestByTime,
        ResultSummary,
        SpreadOfBests,
        best_by_time,
        result_summary,
        spread_of_bests,
    )
    from optgui.core.analysis._plot_data import (
        ContourGrid,
        Dimension,
        EdfData,
        History,
        LearningCurves,
        ParallelCoordinates,
        ParetoData,
        RankData,
        SliceData,
        Timeline,
        complete_rows,
        complete_values,
        contour_grid,
        default_reference_point,
        edf,
        fanova_importances,
        history,
        hypervolume_history,
        learning_curves,
        numbers_in_ranges,
        parallel_coordinates,
        param_names_in,
        pareto_front,
        ped_anova_importances,
        rank_data,
        slice_data,
        timeline,
        trial_rows_csv,
        write_csv,
    )
    from optgui.core.analysis._stopping import StoppingEvidence, stopping_evidence

__all__ = [
    "BestByTime",
    "FRACTIONS",
    "ResultSummary",
    "SpreadOfBests",
    "best_by_time",
    "result_summary",
    "spread_of_bests",
    "ContourGrid",
    "Dimension",
    "EdfData",
    "History",
    "LearningCurves",
    "ParallelCoordinates",
    "ParetoData",
    "RankData",
    "SliceData",
    "Timeline",
    "complete_rows",
    "complete_values",
    "contour_grid",
    "default_reference_point",
    "edf",
    "fanova_importances",
    "history",
    "hypervolume_history",
    "learning_curves",
    "numbers_in_ranges",
    "parallel_coordinates",
    "param_names_in",
    "pareto_front",
    "ped_anova_importances",
    "rank_data",
    "slice_data",
    "timeline",
    "trial_rows_csv",
    "write_csv",
    "StoppingEvidence",
    "stopping_evidence",
]

_EXPORTS = {
    "BestByTime": "optgui.core.analysis._compare_data",
    "FRACTIONS": "optgui.core.analysis._compare_data",
    "ResultSummary": "optgui.core.analysis._compare_data",
    "SpreadOfBests": "optgui.core.analysis._compare_data",
    "best_by_time": "optgui.core.analysis._compare_data",
    "result_summary": "optgui.core.analysis._compare_data",
    "spread_of_bests": "optgui.core.analysis._compare_data",
    "ContourGrid": "optgui.core.analysis._plot_data",
    "Dimension": "optgui.core.analysis._plot_data",
    "EdfData": "optgui.core.analysis._plot_data",
    "History": "optgui.core.analysis._plot_data",
    "LearningCurves": "optgui.core.analysis._plot_data",
    "ParallelCoordinates": "optgui.core.analysis._plot_data",
    "ParetoData": "optgui.core.analysis._plot_data",
    "RankData": "optgui.core.analysis._plot_data",
    "SliceData": "optgui.core.analysis._plot_data",
    "Timeline": "optgui.core.analysis._plot_data",
    "complete_rows": "optgui.core.analysis._plot_data",
    "complete_values": "optgui.core.analysis._plot_data",
    "contour_grid": "optgui.core.analysis._plot_data",
    "default_reference_point": "optgui.core.analysis._plot_data",
    "edf": "optgui.core.analysis._plot_data",
    "fanova_importances": "optgui.core.analysis._plot_data",
    "history": "optgui.core.analysis._plot_data",
    "hypervolume_history": "optgui.core.analysis._plot_data",
    "learning_curves": "optgui.core.analysis._plot_data",
    "numbers_in_ranges": "optgui.core.analysis._plot_data",
    "parallel_coordinates": "optgui.core.analysis._plot_data",
    "param_names_in": "optgui.core.analysis._plot_data",
    "pareto_front": "optgui.core.analysis._plot_data",
    "ped_anova_importances": "optgui.core.analysis._plot_data",
    "rank_data": "optgui.core.analysis._plot_data",
    "slice_data": "optgui.core.analysis._plot_data",
    "timeline": "optgui.core.analysis._plot_data",
    "trial_rows_csv": "optgui.core.analysis._plot_data",
    "write_csv": "optgui.core.analysis._plot_data",
    "StoppingEvidence": "optgui.core.analysis._stopping",
    "stopping_evidence": "optgui.core.analysis._stopping",
}


def __getattr__(name: str) -> object:
    # Lazy: `import optgui.core.analysis` loads nothing until a name is used, so the CLI and the GUI start fast.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
