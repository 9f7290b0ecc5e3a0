"""How deep JSON may nest in what a node accepts: one limit for every way in.

Depth counts JSON arrays and objects, the outermost one at depth 1: ``{}`` and ``[]`` have depth
1, ``{"a": [1]}`` depth 2, a scalar depth 0. Real STIX objects nest a dozen levels at most
(an extension holding a list of objects holding lists); a value nested hundreds of levels
deep is an attack on every recursive reader of it (the JSON decoder, validation, redaction),
so it is refused before any of them sees it.

- The HTTP door (TAXII POST bodies) and bundle files refuse a document nested deeper than
  :data:`MAX_JSON_DEPTH`.
- Ingest refuses an object nested deeper than :data:`MAX_OBJECT_DEPTH`: the same limit seen
  from inside an envelope or bundle (``{"objects": [ {...} ]}`` puts each object two levels
  down), so whatever passes the door also passes ingest, and an object that arrives alone (a
  peer's page, a computed product) is held to the same limit.

>>> MAX_OBJECT_DEPTH == MAX_JSON_DEPTH - ENVELOPE_DEPTH
True
"""

from __future__ import annotations

#: The deepest nesting of JSON arrays and objects in a document a node accepts.
MAX_JSON_DEPTH = 100
#: Levels an envelope or bundle puts around each object (``{"objects": [ ... ]}``).
ENVELOPE_DEPTH = 2
#: The deepest nesting of JSON arrays and objects in one STIX object (the object is depth 1).
MAX_OBJECT_DEPTH = MAX_JSON_DEPTH - ENVELOPE_DEPTH
