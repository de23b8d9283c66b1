"""Venues: the ProfitDLL binding (real DLL or the bundled simulator), the
connection manager and the recorder."""
