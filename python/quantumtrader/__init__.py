"""QuantumTrader: an ML trading system for B3 futures (WDO, WIN).

The C core (``quantumtrader.qtcore``) keeps the rings, the order book and
the features; this package orchestrates data import, replay, models, agents,
risk and orders around it."""

__version__ = "0.1.0"
