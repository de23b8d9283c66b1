"""Models: training sets, labels, purged walk-forward validation, sweeps, reports and the promotion gate."""
