"""The workbench beside the plots: the trials table (model, view, filters), trial details, the best trial,
exports and study management menus."""
