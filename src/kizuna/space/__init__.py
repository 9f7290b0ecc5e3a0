"""Space domain: catalogs (TLE, OMM), conjunction screening, collision probability, CDMs."""
