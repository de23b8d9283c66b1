"""Models: training sets from the feature engine, decision points, labels,
purged walk-forward validation, the Random Forest + XGBoost ensemble compiled
with treelite/tl2cgen, and model bundles (see :mod:`quantumtrader.models.bundle`)."""
