"""Pages of a PDF whose page tree is broken, found by scanning its objects.

When the catalogue's ``/Pages`` is missing or not a dictionary, neither PDFium nor pypdf lists
any page, yet the page dictionaries are usually all there (pdfminer reads such files). Every
object in the cross-reference table (rebuilt by pypdf from the file's bytes when it is damaged
too) is looked at once; the dictionaries of ``/Type /Page`` become pages, in object-number order,
which is the order writers create them in.
"""
from __future__ import annotations

from typing import Any

MAX_OBJECTS = 2_000_000


def _object_ids(reader: Any) -> list[tuple[int, int]]:
    ids = {(num, gen) for gen, table in reader.xref.items() for num in table}
    ids |= {(num, 0) for num in reader.xref_objStm}
    return sorted(ids)[:MAX_OBJECTS]


def recover_pages(reader: Any, limit: int) -> list[Any]:
    """pypdf ``PageObject``s for the page dictionaries found among ``reader``'s objects (at most ``limit``)."""
    from pypdf import PageObject
    from pypdf.generic import DictionaryObject, IndirectObject

    pages: list[Any] = []
    for num, gen in _object_ids(reader):
        ref = IndirectObject(num, gen, reader)
        try:
            obj = ref.get_object()
        except Exception:  # one unreadable object does not hide the others
            continue
        if not isinstance(obj, DictionaryObject) or obj.get("/Type") != "/Page":
            continue
        page = PageObject(reader, ref)
        page.update(obj)
        pages.append(page)
        if len(pages) > limit:
            break
    return pages
