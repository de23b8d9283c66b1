"""Compiled core of QuantumTrader (sources in ``src/qtcore``): ring buffers,
order book, event log and feature engine, with thin Cython wrappers."""
