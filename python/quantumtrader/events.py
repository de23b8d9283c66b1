"""Old name of :mod:`quantumtrader.data.events`, kept only while the compiled
modules (src/qtcore/*.pyx, moved in another branch) import
``quantumtrader.events``; remove it when they import
``quantumtrader.data.events``."""

from quantumtrader.data.events import EVENT_DTYPE, EventType, empty_events

__all__ = ["EVENT_DTYPE", "EventType", "empty_events"]
