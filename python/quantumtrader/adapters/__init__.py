"""Adapters: everything of one venue in one folder (``profitdll``: Nelogica's
ProfitDLL and the bundled simulator that stands in for it)."""
