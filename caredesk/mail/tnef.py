"""Outlook's winmail.dat (application/ms-tnef): the files and the body inside it.

tnefparse does the decoding. Its loops trust the counts written in the file (a property
count of four billion over a few bytes would keep a worker busy for hours), so `_plausible`
first walks the same structure and refuses any count that the remaining bytes cannot hold.
Anything that goes wrong leaves the winmail.dat as it came, with the reason: never raises.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from typing import Any

from tnefparse.tnef import TNEF

from caredesk.mail import charsets
from caredesk.mail.files import MailFile, make_file

SIGNATURE = 0x223E9F78
MAX_FILES = 100
MAX_NESTING = 5
# TNEF attributes holding MAPI property lists, and the recipient table (rows of such lists).
MAPI_LISTS = (0x9003, 0x9005)
RECIPIENT_TABLE = 0x9004
# MAPI property types by their fixed size; the variable ones carry counts and lengths.
FIXED_SIZES = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0048: 16}
FIXED_SIZES |= dict.fromkeys((0x0005, 0x0006, 0x0007, 0x0014, 0x0040), 8)
VARIABLE = (0x0000, 0x000D, 0x001E, 0x001F, 0x0102)
EMBEDDED_MESSAGE = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
MAPI_ATTACH_MIME_TAG = 0x370E
MAPI_ATTACH_CONTENT_ID = 0x3712

# tnefparse logs every checksum mismatch and odd property as a warning: ours is the verdict.
logging.getLogger("tnefparse").setLevel(logging.ERROR)


class Corrupt(Exception):
    pass


@dataclass
class Unpacked:
    files: list[MailFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""


def is_tnef(data: bytes) -> bool:
    return len(data) >= 6 and struct.unpack_from("<I", data)[0] == SIGNATURE


def unpack(data: bytes) -> Unpacked:
    """The files and body of a winmail.dat; raises Corrupt (with the reason) when it is not
    one we can read whole."""
    try:
        _plausible(data, depth=0)
        decoded = TNEF(data, do_checksum=False)
    except Corrupt:
        raise
    except Exception as exc:  # truncated or malformed: tnefparse reads past the end
        raise Corrupt(f"unreadable ({type(exc).__name__})") from None
    out = Unpacked()
    for attachment in decoded.attachments:
        if not attachment.data:
            continue
        if len(out.files) >= MAX_FILES:
            out.skipped.append(f"more than {MAX_FILES} files in winmail.dat; kept in it")
            break
        found = make_file(*_describe(attachment))
        if isinstance(found, str):
            out.skipped.append(found)
        else:
            out.files.append(found)
    out.text = _text(decoded.body)
    out.html = _text(decoded.htmlbody)
    if not out.files and not out.text and not out.html:
        raise Corrupt("no files and no text in it")
    return out


def _describe(attachment: Any) -> tuple[str, str, bytes, str]:
    """Name, declared type, bytes and Content-ID of one of tnefparse's TNEFAttachments."""
    name = str(attachment.long_filename() or "")
    declared, content_id = "", ""
    for prop in attachment.mapi_attrs:
        if prop.name == MAPI_ATTACH_MIME_TAG:
            declared = _text(prop.data).strip().lower()
        elif prop.name == MAPI_ATTACH_CONTENT_ID:
            content_id = _text(prop.data)
    # Without the type Outlook recorded, the bytes decide (a guess from the name would
    # depend on the host's mime.types).
    declared = declared or "application/octet-stream"
    return name or "attachment", declared, bytes(attachment.data), content_id


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return charsets.decode_bytes(value.rstrip(b"\x00"), None)
    return str(value or "").rstrip("\x00")


# --- the plausibility walk (the layout tnefparse reads, counts checked against the bytes) --


def _u16(data: bytes, at: int) -> int:
    if at + 2 > len(data):
        raise Corrupt("truncated")
    return int(struct.unpack_from("<H", data, at)[0])


def _u32(data: bytes, at: int) -> int:
    if at + 4 > len(data):
        raise Corrupt("truncated")
    return int(struct.unpack_from("<I", data, at)[0])


def _plausible(data: bytes, *, depth: int) -> None:
    if depth > MAX_NESTING:
        raise Corrupt(f"messages nested more than {MAX_NESTING} deep")
    if not is_tnef(data):
        raise Corrupt("no TNEF signature")
    at = 6
    while at + 12 < len(data):
        name = _u16(data, at + 1)
        length = _u32(data, at + 5)
        body = data[at + 9 : at + 9 + length]
        if len(body) < length:
            raise Corrupt("truncated")
        if name in MAPI_LISTS:
            _properties(body, 0, depth=depth)
        elif name == RECIPIENT_TABLE:
            rows, offset = _u32(body, 0), 4
            if rows * 8 > len(body):
                raise Corrupt("impossible recipient count")
            for _ in range(rows):
                offset = _properties(body, offset, depth=depth)
        at += 9 + length + 2


def _properties(data: bytes, at: int, *, depth: int) -> int:
    count = _u32(data, at)
    at += 4
    if count * 8 > len(data) - at:
        raise Corrupt("impossible property count")
    for _ in range(count):
        kind, name = _u16(data, at), _u16(data, at + 2)
        at += 4
        if name >= 0x8000:  # a named property: a GUID, then a number or a name
            at += 16
            named = _u32(data, at)
            at += 4
            at += 4 if named == 0 else 4 + _padded(_u32(data, at))
        multi = bool(kind & 0x1000)
        kind &= ~0x1000
        values = 1
        # A multi-valued property counts its values; so does a single variable-length one.
        if multi or kind in VARIABLE:
            values = _u32(data, at)
            at += 4
        if values * 2 > len(data) - at:
            raise Corrupt("impossible value count")
        if kind in FIXED_SIZES:
            at += values * FIXED_SIZES[kind]
            if kind in (0x0002, 0x000B) and values % 2:
                at += 2
        elif kind in VARIABLE:
            for _ in range(values):
                size = _padded(_u32(data, at))
                value = data[at + 4 : at + 4 + size]
                if value.startswith(EMBEDDED_MESSAGE):
                    _plausible(value[len(EMBEDDED_MESSAGE) :], depth=depth + 1)
                at += 4 + size
        else:
            return at  # tnefparse stops reading the list at an unknown type too
        if at > len(data):
            raise Corrupt("truncated")
    return at


def _padded(size: int) -> int:
    return size + (-size % 4)
