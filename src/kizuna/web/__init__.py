"""The analyst's workspace: a server-rendered web UI over the node's public surface.

``mount(app, node)`` adds it to the TAXII application of ``kizuna serve`` under ``/ui/``;
``create_ui(node)`` is the UI application on its own (tests, embedding).
"""

from kizuna.web.app import PREFIX, create_ui, mount

__all__ = ["PREFIX", "create_ui", "mount"]
