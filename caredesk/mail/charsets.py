"""Turning the bytes of a mail part into text, whatever charset it claims.

Mail labels charsets loosely: gb2312 under half a dozen names, windows-1252 sent as
"iso-8859-1" or even "utf-8", charsets Python does not know. Decoding never fails here:
the declared charset (mapped to the superset real clients mean), then UTF-8, then
windows-1252, and as a last resort UTF-8 with replacement characters.
"""

from __future__ import annotations

import codecs
import email.header
import re

# The superset a label means in practice (as browsers and mail readers treat them).
ALIASES = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "csgb2312": "gb18030",
    "x-gbk": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "chinese": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "ms_kanji": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    "iso-8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
    "ansi_x3.4-1968": "windows-1252",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "unicode-1-1-utf-7": "utf-7",
    "x-user-defined": "windows-1252",
    "utf8": "utf-8",
    "koi8": "koi8-r",
}

# C0 controls but tab and newlines, DEL, and the C1 controls (which in mail are nearly
# always windows-1252 punctuation decoded as Latin-1 somewhere upstream).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def codec_for(label: str | None) -> str | None:
    """A Python codec name for a declared charset, or None when it is unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Text from bytes: never raises; NUL and other C0 controls but tab and newline dropped."""
    tried: list[str] = []
    for name in (codec_for(label), "utf-8", "cp1252"):
        if name is None or name in tried:
            continue
        tried.append(name)
        try:
            text = data.decode(name)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    else:
        text = data.decode("utf-8", errors="replace")
    return CONTROL.sub("", text)


def decode_header_value(value: str) -> str:
    """An RFC 2047 header value as one line of text, each encoded word with our fallbacks."""
    try:
        parts = email.header.decode_header(value)
    except Exception:  # a malformed encoded word leaves the value as written
        parts = [(value, None)]
    text = "".join(
        part if isinstance(part, str) else decode_bytes(part, charset) for part, charset in parts
    )
    # decode_header keeps the whitespace between an encoded word and plain text apart.
    return re.sub(r"\s+", " ", CONTROL.sub("", text)).strip()
