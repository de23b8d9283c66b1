"""Runners: what drives the core live.  :class:`LivePipeline` runs the C loop
from the market ring to the decision on its own thread, hands decisions to one
Python decision thread and control events (connection state, feed gaps,
ticker phases) to the orchestrator."""

from quantumtrader.runners.live_pipeline import (
    ControlEvent,
    ControlKind,
    LivePipeline,
    PipelineInstrument,
)

__all__ = ["ControlEvent", "ControlKind", "LivePipeline", "PipelineInstrument"]
