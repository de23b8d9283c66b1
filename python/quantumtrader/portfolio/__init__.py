"""Portfolio: positions, P&L in points and BRL, the B3 fee table and the
day-trade tax estimate."""

from quantumtrader.portfolio.fees import FeeTable, FeeTableError, default_fee_table
from quantumtrader.portfolio.portfolio import Portfolio, PortfolioError
from quantumtrader.portfolio.position import Position, RoundTrip
from quantumtrader.portfolio.tax import TaxEstimate, TaxTable, TaxTableError, default_tax_table

__all__ = ["FeeTable", "FeeTableError", "Portfolio", "PortfolioError", "Position", "RoundTrip", "TaxEstimate",
           "TaxTable", "TaxTableError", "default_fee_table", "default_tax_table"]
