"""The marking-definitions an operator makes: REL TO markings, checked and stored."""

from __future__ import annotations

from typing import Any

import msgspec

from kizuna.errors import BadRequest
from kizuna.node._base import NodeBase
from kizuna.node._marking_rules import check_marking_definition
from kizuna.stix.markings import releasability_marking


class Markings(NodeBase):
    """The marking-definitions of a node that its operators make."""

    def releasability_marking(self, codes: list[str]) -> dict[str, Any]:
        """Store (if new) and return the ``REL TO`` marking-definition for *codes*.

        Checked as any incoming marking-definition is: known codes, immutable once stored.
        """
        try:
            obj = releasability_marking(codes)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        problem = check_marking_definition(self.store, self.snapshot(), obj)
        if problem:
            raise BadRequest(problem)
        self.store.put_marking_definitions([(obj["id"], msgspec.json.encode(obj))])
        return obj
