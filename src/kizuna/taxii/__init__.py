"""The TAXII 2.1 API over HTTP (Starlette): thin handlers over kizuna.node."""

__all__: list[str] = []
