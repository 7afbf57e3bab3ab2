"""What the pdf processor reads with pypdf rather than PDFium: the Info dictionary with parsed
dates, XMP, form fields with their values, the encryption dictionary, and embedded files.

PDFium reads these only as raw strings (dates as ``D:2022...``), not at all (XMP, field values),
or only by loading every attachment's bytes into memory; pypdf reads them from the objects
directly. Metadata is decoration: a damaged entry is left out, never a failed job.
"""
from __future__ import annotations

import datetime
from typing import Any


def safe(fn: Any, default: Any = None) -> Any:
    """``fn()``, or ``default`` when a damaged entry makes it raise."""
    try:
        return fn()
    except Exception:
        return default


def as_text(value: Any) -> Any:
    """A JSON-able, bounded rendering of a PDF value."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [as_text(v) for v in value][:20]
    if isinstance(value, dict):
        return {str(k): as_text(v) for k, v in list(value.items())[:20]}
    return str(value)[:1000]


def info(reader: Any) -> dict:
    """``{"info": {...}, "xmp": {...} | None}`` from the Info dictionary and the XMP stream."""
    out: dict[str, Any] = {}
    meta = safe(lambda: reader.metadata)
    if meta:
        for key in ("title", "author", "subject", "creator", "producer", "creation_date", "modification_date"):
            value = safe(lambda k=key: getattr(meta, k))
            if value:
                out[key] = as_text(value)
        keywords = safe(lambda: meta.get("/Keywords"))
        if keywords:
            out["keywords"] = as_text(keywords)
    xmp: dict[str, Any] = {}
    x = safe(lambda: reader.xmp_metadata)
    if x is not None:
        for key in ("dc_title", "dc_creator", "dc_description", "dc_subject", "dc_date", "pdf_producer",
                    "pdf_keywords", "xmp_create_date", "xmp_modify_date", "xmp_creator_tool"):
            value = safe(lambda k=key: getattr(x, k))
            if value:
                xmp[key] = as_text(value)
    return {"info": out, "xmp": xmp or None}


def fields(reader: Any, limit: int = 500) -> list[dict]:
    """Form fields: name, kind and value (PDFium's form API fills forms for rendering, it does not list them)."""
    found = safe(lambda: reader.get_fields(), {}) or {}
    kinds = {"/Tx": "text", "/Btn": "button", "/Ch": "choice", "/Sig": "signature"}
    out = []
    for name, field in list(found.items())[:limit]:
        value = field.get("/V") if hasattr(field, "get") else None
        out.append({"name": as_text(name), "type": kinds.get(str(field.get("/FT")), as_text(field.get("/FT"))),
                    "value": as_text(value.get_object() if hasattr(value, "get_object") else value)})
    return out


def outline(reader: Any, limit: int = 500) -> list[dict]:
    """The outline by pypdf, for files PDFium cannot open (their outline is read by PDFium otherwise)."""
    out: list[dict] = []

    def walk(items: Any, level: int) -> None:
        for item in items:
            if len(out) >= limit or level > 20:
                return
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            page = safe(lambda i=item: reader.get_destination_page_number(i))
            out.append({"title": as_text(safe(lambda i=item: i.title)) or "", "level": level,
                        "page": page + 1 if isinstance(page, int) and page >= 0 else None})

    walk(safe(lambda: reader.outline, []) or [], 1)
    return out


def encryption(reader: Any) -> dict:
    """The encryption dictionary in words: handler, algorithm (RC4 / AES-128 / AES-256) and revision."""
    enc = safe(lambda: reader.trailer["/Encrypt"].get_object(), {}) or {}
    version = safe(lambda: int(enc.get("/V", 0)), 0)
    method = safe(lambda: str(enc["/CF"]["/StdCF"]["/CFM"]), "")
    if version >= 5 or method == "/AESV3":
        algorithm = "AES-256"
    elif method == "/AESV2":
        algorithm = "AES-128"
    elif version in (1, 2, 4):
        algorithm = f"RC4-{safe(lambda: int(enc.get('/Length', 40)), 40)}"
    else:
        algorithm = None
    return {"handler": as_text(enc.get("/Filter")), "algorithm": algorithm,
            "revision": safe(lambda: int(enc.get("/R")))}


def attachments(reader: Any, limit: int = 200) -> list[dict]:
    """Embedded files (the document's EmbeddedFiles name tree): name and size in bytes.

    The size is the one the file declares (``/Params /Size``); only when it declares none is the
    stream decoded to measure it (under pypdf's decompression limits)."""
    out: list[dict] = []
    for item in safe(lambda: list(reader.attachment_list)[:limit], []) or []:
        size = safe(lambda i=item: int(i.size) if i.size is not None else None)
        if size is None:
            size = safe(lambda i=item: len(i.content))
        out.append({"name": as_text(safe(lambda i=item: i.name)) or "", "size": size})
    return out
