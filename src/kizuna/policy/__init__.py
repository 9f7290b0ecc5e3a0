"""Who may see what: principals, markings combined, and the access gate every read passes."""

__all__: list[str] = []
