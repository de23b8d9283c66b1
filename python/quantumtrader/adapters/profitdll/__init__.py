"""The ProfitDLL adapter: library lookup, NResult exceptions, credentials,
the connection manager, order updates, the recorder, and the bundled
simulator library (this adapter's venue for tests and paper trading)."""
