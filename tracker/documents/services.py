"""Safe uploads: type by content, archive and XML checks, content-addressed storage, text.

Reusable by every area that takes files (the pleadings library included):

- ``store_file(file_storage) -> StoredFile`` checks an uploaded file (type by magic bytes,
  never by name; zip-bomb, path and XML-entity checks for DOCX/ODT before any parser sees
  them), extracts its text and stores it content-addressed under UPLOAD_DIR
  (``ab/cd/<sha256>``, written atomically, mode 0600, deduplicated by checksum). Raises
  ``UploadRejected`` with a user-facing message; nothing is stored when it does.
- ``create_document(case=..., pleading=..., file=..., kind=..., language=..., title=...,
  confidentiality=..., user=...)`` stores the file and adds an audited Document row (flushes,
  never commits). ``file`` is a werkzeug FileStorage or an already ``StoredFile``.
- ``delete_document(document=..., user=...)`` removes the row (audited); after the commit,
  call ``discard_file_if_unused(sha256)`` so the file goes only when no other document uses it.
- ``file_path(sha256)`` is where a stored file lives (for downloads).
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import logging
import os
import re
import tempfile
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import filetype
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from tracker.audit.services import record_audit, snapshot
from tracker.documents.models import Document, DocumentKind
from tracker.extensions import db
from tracker.types import Confidentiality

log = logging.getLogger(__name__)

# type -> (content type, extension, label for messages)
ALLOWED_TYPES: dict[str, tuple[str, str, Any]] = {
    "pdf": ("application/pdf", "pdf", _l("PDF")),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        _l("Word document (DOCX)"),
    ),
    "odt": ("application/vnd.oasis.opendocument.text", "odt", _l("OpenDocument text (ODT)")),
    "txt": ("text/plain; charset=utf-8", "txt", _l("plain text (TXT)")),
}
ALLOWED_EXTENSIONS = frozenset(ext for _, ext, _ in ALLOWED_TYPES.values())

# Archive limits (PITFALLS.md): checked on the central directory before anything is unpacked;
# zipfile never yields more than an entry's declared size, so these hold while reading too.
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_TOTAL_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 100
RATIO_MIN_BYTES = 64 * 1024  # tiny parts may compress very well without being a bomb
MAX_TEXT_CHARS = 1_000_000  # extracted text kept per document
MAX_PDF_PAGES = 3000

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
_CHUNK = 1024 * 1024


class UploadRejected(ValueError):
    """The file is not acceptable; ``message`` says why, for the person who uploaded it."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str
    filename: str  # cleaned, with the extension of the detected type
    text: str | None  # extracted text (None when none could be extracted)
    note: str | None = None  # why there is no text, or that it was truncated
    file_type: str = ""  # pdf, docx, odt or txt


# --- Storage -------------------------------------------------------------------------------


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def file_path(sha256: str) -> Path:
    """Where the file with this checksum lives: UPLOAD_DIR/ab/cd/<sha256>."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise ValueError("not a sha256 checksum")
    return upload_root() / sha256[:2] / sha256[2:4] / sha256


def _spool(stream: IO[bytes], directory: Path) -> tuple[Path, str, int]:
    """Copy the upload to a private temporary file while hashing it."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=".upload-", dir=directory)  # mode 0600
    digest = hashlib.sha256()
    size = 0
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if limit and size > limit:
                    raise UploadRejected(_too_large_message())
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name), digest.hexdigest(), size


def _too_large_message() -> str:
    mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return str(_l("The file is too large: the limit is %(mb)s MB.", mb=mb))


def _place(tmp: Path, sha256: str) -> None:
    """Move the checked file into place atomically; an identical file already there wins."""
    target = file_path(sha256)
    if target.exists():
        tmp.unlink()
        return
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(tmp, 0o600)  # never executable
    os.replace(tmp, target)


def discard_file_if_unused(sha256: str) -> bool:
    """Delete the stored file when no document refers to it any more (call after commit)."""
    used = db.session.scalar(select(func.count()).where(Document.sha256 == sha256))
    if used:
        return False
    with contextlib.suppress(FileNotFoundError):
        file_path(sha256).unlink()
        return True
    return False


# --- Type detection ------------------------------------------------------------------------


def clean_filename(name: str | None) -> str:
    """A display name safe on every OS: no path, no control or reserved characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = re.sub(r'[\x00-\x1f\x7f<>:"|?*]', "_", name).strip(" .")
    return name[:200] or "document"


def _split_ext(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, ext.lower()


def _describe_other(kind) -> str:
    return str(
        _l(
            "This file is a %(type)s (%(mime)s), not a PDF, Word (DOCX), OpenDocument (ODT) or "
            "plain text file.",
            type=kind.extension.upper(),
            mime=kind.mime,
        )
    )


def _check_name(given: str, file_type: str) -> None:
    """A name's extension, when it has one, must say what the content is."""
    ext = ALLOWED_TYPES[file_type][1]
    if given and given != ext:
        raise UploadRejected(
            _l(
                "The file name ends in .%(given)s but the file is a %(actual)s. "
                "Only the real type is accepted: rename it to .%(ext)s if that is right.",
                given=given,
                actual=ALLOWED_TYPES[file_type][2],
                ext=ext,
            )
        )


def detect_type(path: Path) -> str:
    """pdf, docx, odt or txt from the file's content; raises UploadRejected otherwise."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head:
        raise UploadRejected(_l("The file is empty."))
    kind = filetype.guess(head)
    if head.startswith(b"%PDF-") or (kind and kind.mime == "application/pdf"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") or (kind and kind.extension == "zip"):
        return _check_archive(path)
    if kind is not None:
        raise UploadRejected(_describe_other(kind))
    _check_text(path)
    return "txt"


def _check_text(path: Path) -> None:
    with open(path, "rb") as fh:
        data = fh.read()
    if b"\x00" in data:
        raise UploadRejected(
            _l("This file is not a PDF, DOCX, ODT or plain text file (it contains binary data).")
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UploadRejected(
            _l("Text files must be encoded as UTF-8. Save the file as UTF-8 and upload it again.")
        ) from exc


def _unsafe_member(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part == ".." for part in re.split(r"[\\/]", name))


def _check_archive(path: Path) -> str:
    """Zip-bomb, path and XML checks, then DOCX or ODT by contents. Nothing is parsed before."""
    damaged = _l("The document is damaged or is not a Word (DOCX) or OpenDocument (ODT) file.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UploadRejected(damaged) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise UploadRejected(
                _l("The document has too many parts (%(n)s) to be safe.", n=len(infos))
            )
        total = 0
        for info in infos:
            if _unsafe_member(info.filename):
                raise UploadRejected(_l("The document contains an unsafe file path."))
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_MIN_BYTES and ratio > MAX_ZIP_RATIO:
                raise UploadRejected(
                    _l("The document is compressed suspiciously well (a possible zip bomb).")
                )
            total += info.file_size
            if total > MAX_ZIP_TOTAL_BYTES:
                raise UploadRejected(
                    _l("The document unpacks to more than %(mb)s MB.", mb=MAX_ZIP_TOTAL_BYTES >> 20)
                )
        names = {info.filename for info in infos}
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            file_type = "docx"
        elif "mimetype" in names and "content.xml" in names:
            if archive.read("mimetype").strip() != ODT_MIMETYPE:
                raise UploadRejected(damaged)
            file_type = "odt"
        else:
            raise UploadRejected(damaged)
        for info in infos:
            # Every entry, whatever its name: a part is found through the package's
            # relationships, so word/main.dat can be the main document (and be parsed).
            _scan_entry(archive, info)
            if info.filename.lower().endswith((".xml", ".rels")):
                _check_xml(archive, info)
    return file_type


# DTDs and entity declarations in each encoding an XML parser detects without being told
# (XML 1.0 appendix F); an entry that declares another encoding is decoded and scanned too.
_MARKERS = ("<!DOCTYPE", "<!ENTITY")
_RAW_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_RAW_MARKERS = tuple({m.encode(enc) for m in _MARKERS for enc in _RAW_ENCODINGS})
_RAW_OVERLAP = max(len(m) for m in _RAW_MARKERS) - 1
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_XML_STARTS = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # "<?xm" in EBCDIC
    (b"<?xm", "utf-8"),
)
_DECLARED = re.compile(r"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")


def _forbidden_declarations() -> UploadRejected:
    return UploadRejected(
        _l("The document contains XML declarations that are not allowed (DOCTYPE/ENTITY).")
    )


def _declared_encoding(head: bytes) -> str | None:
    """The encoding of an entry that starts like an XML document, else None."""
    bom, family = next(((b, enc) for b, enc in _BOMS if head.startswith(b)), (b"", None))
    if family is None:
        family = next((enc for prefix, enc in _XML_STARTS if head.startswith(prefix)), None)
        if family is None:
            return None
    start = len(bom)
    match = _DECLARED.match(head[start : start + 1024].decode(family, errors="replace"))
    if match is None:
        return family
    try:
        name = codecs.lookup(match.group(1)).name
    except LookupError:
        raise UploadRejected(
            _l(
                "The document has a part in an unknown text encoding (%(encoding)s).",
                encoding=match.group(1),
            )
        ) from None
    # "UTF-16" without a byte order mark: the family found from the first bytes says which.
    return family if name in ("utf-16", "utf-32") else name


def _scan_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a DOCTYPE or ENTITY declaration anywhere in an entry (streamed; the archive's
    size limits bound the reading)."""
    try:
        with archive.open(info) as entry:
            head = entry.read(4096)
            encoding = _declared_encoding(head)
            decoder = None
            if encoding is not None and encoding not in _RAW_ENCODINGS:
                decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
            tail, text_tail = b"", ""
            chunk = head
            while chunk:
                window = tail + chunk.upper()
                if any(marker in window for marker in _RAW_MARKERS):
                    raise _forbidden_declarations()
                tail = window[-_RAW_OVERLAP:]
                if decoder is not None:
                    text = text_tail + decoder.decode(chunk).upper()
                    if any(marker in text for marker in _MARKERS):
                        raise _forbidden_declarations()
                    text_tail = text[-16:]
                chunk = entry.read(_CHUNK)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
        raise UploadRejected(_l("The document is damaged.")) from exc


def _check_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse any DTD or entity declaration (XXE, billion laughs); the part must parse."""
    try:
        data = archive.read(info)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise UploadRejected(_l("The document is damaged.")) from exc
    upper = data[:65536].upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise UploadRejected(
            _l("The document contains XML declarations that are not allowed (DOCTYPE/ENTITY).")
        )
    try:
        SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UploadRejected(
            _l("The document contains XML declarations that are not allowed (DOCTYPE/ENTITY).")
        ) from exc
    except SafeET.ParseError as exc:
        raise UploadRejected(_l("The document is damaged (invalid XML).")) from exc


# --- Text extraction -----------------------------------------------------------------------

_SENTINELS = re.compile("[\x00\ue000\ue001]")  # NUL (PostgreSQL) and our highlight marks


def _clean_text(text: str) -> tuple[str | None, str | None]:
    text = _SENTINELS.sub("", text).strip()
    if not text:
        return None, None
    if len(text) > MAX_TEXT_CHARS:
        return text[:MAX_TEXT_CHARS], str(
            _l("Only the first %(n)s characters of the text are searchable.", n=MAX_TEXT_CHARS)
        )
    return text, None


def _pdf_text(path: Path) -> tuple[str | None, str | None]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                return None, str(_l("The PDF is encrypted: its text could not be extracted."))
        parts = []
        size = 0
        for number, pdf_page in enumerate(reader.pages):
            if number >= MAX_PDF_PAGES or size > MAX_TEXT_CHARS:
                break
            chunk = pdf_page.extract_text() or ""
            size += len(chunk)
            parts.append(chunk)
    except Exception:
        log.info("could not extract text from %s", path.name, exc_info=True)
        return None, str(_l("The PDF could not be read: no text was extracted."))
    text, note = _clean_text("\n".join(parts))
    if text is None:
        return None, str(_l("No text found in the PDF (it may be a scan)."))
    return text, note


def _docx_text(path: Path) -> tuple[str | None, str | None]:
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return _clean_text("\n".join(parts))


def _odt_text(path: Path) -> tuple[str | None, str | None]:
    from odf import teletype
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    document = load(str(path))
    parts: list[str] = []

    def walk(node) -> None:
        for child in node.childNodes:
            if getattr(child, "qname", None) in ((TEXTNS, "p"), (TEXTNS, "h")):
                parts.append(teletype.extractText(child))
            elif child.nodeType == child.ELEMENT_NODE:
                walk(child)

    walk(document.text)
    return _clean_text("\n".join(parts))


def extract_text(path: Path, file_type: str) -> tuple[str | None, str | None]:
    """(text, note) for a checked file. Failures give no text and a note, never an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libraries warn about odd but harmless files
        if file_type == "pdf":
            return _pdf_text(path)
        if file_type == "txt":
            return _clean_text(path.read_text(encoding="utf-8-sig"))
        try:
            return _docx_text(path) if file_type == "docx" else _odt_text(path)
        except Exception:
            log.info("could not extract text from %s", path.name, exc_info=True)
            return None, str(_l("The text of the document could not be extracted."))


# --- The service ---------------------------------------------------------------------------


def store_file(file_storage: Any, *, filename: str | None = None) -> StoredFile:
    """Check, extract and store an uploaded file (FileStorage, or any binary stream).

    Raises UploadRejected with a message for the user; nothing is stored in that case.
    """
    stream = getattr(file_storage, "stream", file_storage)
    name = clean_filename(filename or getattr(file_storage, "filename", None))
    if isinstance(stream, bytes | bytearray):
        stream = io.BytesIO(stream)
    tmp, sha256, size = _spool(stream, upload_root() / "tmp")
    try:
        file_type = detect_type(tmp)
        content_type, ext, _label = ALLOWED_TYPES[file_type]
        stem, given = _split_ext(name)
        _check_name(given, file_type)
        text, note = extract_text(tmp, file_type)
        _place(tmp, sha256)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return StoredFile(
        sha256=sha256,
        size=size,
        content_type=content_type,
        filename=f"{stem}.{ext}",
        text=text,
        note=note,
        file_type=file_type,
    )


def check_file(file_storage: Any) -> None:
    """Run the type and safety checks only (nothing stored); raises UploadRejected.

    Lets a form report a bad file together with its other field errors.
    """
    stream = getattr(file_storage, "stream", file_storage)
    tmp, _sha256, _size = _spool(stream, upload_root() / "tmp")
    try:
        file_type = detect_type(tmp)
        _stem, given = _split_ext(clean_filename(getattr(file_storage, "filename", None)))
        _check_name(given, file_type)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        with contextlib.suppress(AttributeError, OSError):
            stream.seek(0)


def create_document(
    *,
    case: Any | None = None,
    pleading: Any | None = None,
    file: Any,
    kind: DocumentKind | str,
    language: str | None,
    title: str,
    confidentiality: Confidentiality | str,
    user: Any | None,
    version: int = 1,
) -> Document:
    """Store ``file`` (FileStorage or StoredFile) and add a Document to a case or a pleading.

    The document may be more restricted than its case, never less (DocumentTooOpen).
    Flushes and writes the audit entry; the caller commits.
    """
    if case is None and pleading is None:
        raise ValueError("a document belongs to a case or to a pleading")
    level = Confidentiality(confidentiality)
    if case is not None and LEVEL_RANK[level] < LEVEL_RANK[case.confidentiality]:
        raise DocumentTooOpen(case.confidentiality)
    stored = file if isinstance(file, StoredFile) else store_file(file)
    document = Document(
        case_id=case.id if case is not None else None,
        pleading_id=pleading.id if pleading is not None else None,
        version=version,
        title=title.strip() or stored.filename,
        kind=DocumentKind(kind),
        language=language or None,
        filename=stored.filename,
        content_type=stored.content_type,
        size_bytes=stored.size,
        sha256=stored.sha256,
        extracted_text=stored.text,
        confidentiality=level,
        uploaded_by_id=getattr(user, "id", None),
        note=stored.note,
    )
    db.session.add(document)
    db.session.flush()
    record_audit(action="document.create", entity=document, after=_audit_view(document))
    return document


def delete_document(*, document: Document, user: Any | None = None) -> str:
    """Delete the document row (audited). Returns its checksum for discard_file_if_unused()."""
    before = _audit_view(document)
    sha256 = document.sha256
    record_audit(
        action="document.delete",
        entity=document,
        before=before,
        user_id=getattr(user, "id", None),
    )
    db.session.delete(document)
    db.session.flush()
    return sha256


def visible_case_documents(user: Any, case: Any) -> list[Document]:
    """The case's documents this user may see, newest first."""
    from tracker.access import document_filter

    return list(
        db.session.scalars(
            select(Document)
            .where(Document.case_id == case.id, document_filter(user))
            .order_by(Document.uploaded_at.desc(), Document.id.desc())
        )
    )


def _audit_view(document: Document) -> dict[str, Any]:
    # The extracted text can be large and is derived from the file: the checksum identifies it.
    values = snapshot(document)
    values.pop("extracted_text", None)
    return values


LEVEL_RANK = {
    Confidentiality.PUBLIC: 0,
    Confidentiality.NETWORK: 1,
    Confidentiality.ORGANISATION: 2,
    Confidentiality.RESTRICTED: 3,
}


class DocumentTooOpen(ValueError):
    """A document cannot be less restricted than its case."""

    def __init__(self, case_level: Confidentiality):
        super().__init__(str(case_level))
        self.case_level = case_level
