"""Studies side by side: reading 2–8 studies named by REFs from any storages, the definition diff, the results
and the spread of final bests over seed replicates (`optgui compare`, the Compare window). Read-only.

Above the storage, the analysis data and the verifier (it shows a verdict only when one is cached).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optgui.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from optgui.core.compare._comparison import (
        COMPARE_SCHEMA,
        Comparison,
        DefinitionRow,
        SeedGroup,
        compare_studies,
        definition_rows,
        seed_groups,
        seedless_spec,
    )
    from optgui.core.compare._studies import MAX_STUDIES, MIN_STUDIES, ComparedStudy, load_studies

__all__ = [
    "COMPARE_SCHEMA",
    "ComparedStudy",
    "Comparison",
    "DefinitionRow",
    "MAX_STUDIES",
    "MIN_STUDIES",
    "SeedGroup",
    "compare_studies",
    "definition_rows",
    "load_studies",
    "seed_groups",
    "seedless_spec",
]

_EXPORTS = {
    "COMPARE_SCHEMA": "optgui.core.compare._comparison",
    "Comparison": "optgui.core.compare._comparison",
    "DefinitionRow": "optgui.core.compare._comparison",
    "SeedGroup": "optgui.core.compare._comparison",
    "compare_studies": "optgui.core.compare._comparison",
    "definition_rows": "optgui.core.compare._comparison",
    "seed_groups": "optgui.core.compare._comparison",
    "seedless_spec": "optgui.core.compare._comparison",
    "MAX_STUDIES": "optgui.core.compare._studies",
    "MIN_STUDIES": "optgui.core.compare._studies",
    "ComparedStudy": "optgui.core.compare._studies",
    "load_studies": "optgui.core.compare._studies",
}


# Lazy: `import optgui.core.compare` loads nothing until a name is used, so the CLI starts fast.
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, __all__)
