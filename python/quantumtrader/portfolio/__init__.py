"""Portfolio: positions, P&L in points and BRL, and the B3 fee table."""
