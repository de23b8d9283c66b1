"""Signal: the ensemble's probabilities (and the agents' consensus) at each
decision point -> entry, exit and size, every decision recorded with its inputs."""

from quantumtrader.signal.decision import Consensus, ConsensusError, DecisionPoint
from quantumtrader.signal.engine import Signal, SignalAction, SignalConfig, SignalConfigError, SignalEngine

__all__ = ["Consensus", "ConsensusError", "DecisionPoint", "Signal", "SignalAction", "SignalConfig",
           "SignalConfigError", "SignalEngine"]
