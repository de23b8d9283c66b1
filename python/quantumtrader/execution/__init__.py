"""Execution: orders and their state machine over ProfitDLL statuses, brackets
(stop loss / take profit emulated as OCO), the SQLite journal, and
reconciliation with the venue after a restart."""
