"""Models: training sets from the engine's own feature vectors, purged
walk-forward validation, the RF + XGBoost ensemble, its compilation to native
code (treelite + tl2cgen) and the model bundle on disk.

Class convention everywhere (``classes``): index 0 sell (label -1), 1 hold
(label 0), 2 buy (label +1); probabilities are float64 arrays (n, 3) in that
order."""
