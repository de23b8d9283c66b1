"""Models: training sets, labels, purged walk-forward validation, metrics and the promotion gate."""
