"""A Kizuna node: its directory, settings, database, principals and the policy snapshot.

``Node`` is the service layer every adapter uses (the TAXII API, the CLI, sync, the UI):
operators' actions and authentication, in parts along their seams: its life cycle
(``_node``), organizations, users, principals and authentication (``_accounts``),
collections and grants (``_collections``), REL TO markings (``_markings``) and peers
(``_peers``). :meth:`Node.principal_for` is the one way to a principal. Data enters and
leaves through the functions exported here, and only through them:

- :func:`ingest` validates and stores objects as a principal (returns :class:`ObjectResult`);
  it is :func:`check_batch` (every pass but the store's, giving a :class:`Batch`) then
  :func:`store_batch` in a store transaction, which a caller may hold itself to commit more
  with the objects (a TAXII status);
- :func:`read_page` reads a page through the access gate (returns a :class:`Page` of
  :class:`Released` versions);
- :meth:`Node.snapshot` takes the policy :class:`Snapshot` both of them are given;
- :func:`read_bundle` reads the objects of a bundle file, as :func:`ingest` takes them;
  :class:`BundleFile` reads them incrementally (a large file, or a gzip bomb);
  :func:`split_objects` finds the objects of a large envelope a mebibyte at a time;
- :func:`unseen_definitions` says which marking-definitions a principal may not learn the
  meaning of (a statement's text), so that no page shows it;
- :func:`search_text`, :func:`object_text`, :func:`terms` and :func:`matches` say what an
  object is found by (the store's search index; ``kizuna.search`` searches through the gate);
- :func:`name_problem` and :func:`check_name` hold the one rule for the names of
  organizations and users, which every path that creates one applies.
"""

from kizuna.node._accounts import hash_token, new_token
from kizuna.node._batch import ObjectResult
from kizuna.node._collections import HOME_MAX_TLP
from kizuna.node._definitions import marking_ids_in, referenced_definitions
from kizuna.node._files import BundleFile, read_bundle
from kizuna.node._ingest import Batch, check_batch, ingest, store_batch
from kizuna.node._marking_rules import unseen_definitions
from kizuna.node._names import check_name, name_problem
from kizuna.node._node import DEFINITIONS_ALIAS, Node
from kizuna.node._read import Page, Released, read_page
from kizuna.node._snapshot import Snapshot
from kizuna.node._split import split_objects
from kizuna.node._text import matches, object_text, search_text, terms

__all__ = [
    "DEFINITIONS_ALIAS",
    "HOME_MAX_TLP",
    "Batch",
    "BundleFile",
    "Node",
    "ObjectResult",
    "Page",
    "Released",
    "Snapshot",
    "check_batch",
    "check_name",
    "hash_token",
    "ingest",
    "marking_ids_in",
    "matches",
    "name_problem",
    "new_token",
    "object_text",
    "read_bundle",
    "read_page",
    "referenced_definitions",
    "search_text",
    "split_objects",
    "store_batch",
    "terms",
    "unseen_definitions",
]
