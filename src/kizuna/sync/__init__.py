"""Federation: pulling from and pushing to peer nodes over TAXII 2.1, by rounds."""

__all__: list[str] = []
