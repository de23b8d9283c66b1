"""Streaming importers of market-data files into event records.

Each importer reads its input in constant memory and yields chunks of
``EVENT_DTYPE`` records plus an :class:`ImportStats`; writing them into an
event log is the job of ``quantumtrader import`` (:mod:`.job`)."""
