"""Risk: the limits every order passes (cancels excepted), the REDUCING /
HALTED states, and the kill switch."""

from quantumtrader.risk.config import RiskConfig, RiskConfigError
from quantumtrader.risk.engine import DenialReason, RiskContext, RiskEngine, RiskState, RiskVerdict
from quantumtrader.risk.kill_switch import KillSwitch, KillSwitchError

__all__ = ["DenialReason", "KillSwitch", "KillSwitchError", "RiskConfig", "RiskConfigError", "RiskContext",
           "RiskEngine", "RiskState", "RiskVerdict"]
