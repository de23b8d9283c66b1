"""Tests-only reference implementation of ``qt-features/1`` and tools to check an engine against it."""
