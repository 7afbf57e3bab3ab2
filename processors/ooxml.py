"""Opening Office Open XML containers (docx, xlsx) safely: the type confirmed by content, the zip's
declared sizes checked before any member is read, encrypted documents recognised."""
from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

from pyramid_jobs import ProcessingError

from .safety import OLE_MAGIC, ZIP_MAGIC, check_zip


def is_encrypted_ooxml(path: str | Path) -> bool:
    """Encrypted Office documents are OLE files holding an ``EncryptionInfo`` stream, not zips."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            return ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage")
    except Exception:
        return False


def open_ooxml(path: str | Path, limits: Mapping[str, int], *, required: str, kind: str) -> zipfile.ZipFile:
    """Check ``path`` is a sane zip holding ``required`` (``word/document.xml``...) and open it."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise ProcessingError("empty_file", "The file is empty.")
    if head.startswith(OLE_MAGIC):
        if is_encrypted_ooxml(path):
            raise ProcessingError("encrypted", f"The {kind} document is encrypted with a password; save it without "
                                               "one and upload it again.")
        raise ProcessingError("unsupported_content", f"The file is an old binary Office file, not a {kind} document.")
    if not head.startswith(ZIP_MAGIC):
        raise ProcessingError("corrupt_file", f"The file is not a {kind} document (it is not a zip container).")
    zf = check_zip(path, limits)
    if required not in zf.namelist():
        zf.close()
        raise ProcessingError("unsupported_content", f"The zip holds no {required}: it is not a {kind} document.")
    return zf
