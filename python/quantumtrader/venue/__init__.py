"""Old name of :mod:`quantumtrader.adapters.profitdll`, kept only while the
compiled module ``quantumtrader.qtcore.profitdll`` (src/qtcore/profitdll.pyx,
moved in another branch) imports ``quantumtrader.venue.errors``; remove this
folder when it imports ``quantumtrader.adapters.profitdll.errors``."""
