"""Space domain: catalogs, conjunction screening, collision probability, CDMs.

- :mod:`kizuna.space.formats`: TLE, OMM and CDM text in and out (pure).
- :mod:`kizuna.space.catalog`: element sets as the arrays SGP4 and worker processes take.
- :mod:`kizuna.space.screening`: all-vs-all screening (the only part that imports numba).
- :mod:`kizuna.space.probability`: collision probability (2D and Monte Carlo).
- :mod:`kizuna.space.stix`: space objects and conjunctions as STIX objects.
- :mod:`kizuna.space.plot`: conjunction plots.
- :mod:`kizuna.space.cli`: the ``kizuna space`` commands, and what joins the rest to a node
  (reading space objects through the gate, storing conjunctions).
"""

__all__: list[str] = []
