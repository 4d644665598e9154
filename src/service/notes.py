"""C2SP signed notes with Ed25519 keys, and C2SP tlog-checkpoint bodies.

A note is text (lines ending in a newline), a blank line, then signature
lines `— <key name> <base64(key id || signature)>`. The key id is the first
four bytes of SHA-256(<key name> || 0x0A || 0x01 || <32-byte public key>).
Keys are written as Go's `golang.org/x/mod/sumdb/note` writes them:
`PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || 32-byte seed)>` and the
verifier key `<name>+<key id hex>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014"  # the em dash every signature line starts with


class NoteError(ValueError):
    """A key, a note or a checkpoint that is malformed or does not verify."""


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
        raise NoteError(f"a key name is non-empty, printable, without spaces or '+': {name!r}")
    return name


@dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public)

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(ED25519 + self.public).decode()}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        name, hex_id, key = _three(vkey.strip(), "verifier key")
        raw = _b64(key)
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key (0x01 and 32 bytes)")
        verifier = cls(check_name(name), raw[1:])
        if verifier.id.hex() != hex_id.lower():
            raise NoteError("the verifier key's id does not match its name and key")
        return verifier

    def open(self, note: str) -> str:
        """The note's text, if one of its signatures is by this key; else NoteError."""
        text, signatures = split_note(note)
        public = Ed25519PublicKey.from_public_bytes(self.public)
        for name, blob in signatures:
            if name == self.name and blob[:4] == self.id:
                try:
                    public.verify(blob[4:], text.encode())
                except InvalidSignature:
                    raise NoteError(f"the signature by {name} does not verify") from None
                return text
        raise NoteError(f"the note carries no signature by {self.name}")


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> Signer:
        key = Ed25519PrivateKey.generate()
        return cls(check_name(name), key.private_bytes_raw())

    @classmethod
    def parse(cls, text: str) -> Signer:
        head, _, rest = text.strip().partition("PRIVATE+KEY+")
        if head or not rest:
            raise NoteError("a signing key starts with PRIVATE+KEY+")
        name, hex_id, key = _three(rest, "signing key")
        raw = _b64(key)
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("the signing key is not an Ed25519 key (0x01 and a 32-byte seed)")
        signer = cls(check_name(name), raw[1:])
        if signer.verifier.id.hex() != hex_id.lower():
            raise NoteError("the signing key's id does not match its name and key")
        return signer

    @property
    def text(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{base64.b64encode(ED25519 + self.seed).decode()}"

    @property
    def verifier(self) -> Verifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return Verifier(self.name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, text: str) -> str:
        """The signed note: `text`, a blank line, one signature line."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("a note's text is lines ending in a newline, none of them empty")
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text.encode())
        blob = base64.b64encode(self.verifier.id + signature).decode()
        return f"{text}\n{DASH} {self.name} {blob}\n"


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    text, sep, block = note.partition("\n\n")
    if not sep or not block.endswith("\n"):
        raise NoteError("a signed note is text, a blank line, then signature lines")
    signatures = []
    for line in block[:-1].split("\n"):
        dash, _, rest = line.partition(" ")
        name, _, blob = rest.partition(" ")
        if dash != DASH or not name or not blob:
            raise NoteError(f"not a signature line: {line!r}")
        signatures.append((name, _b64(blob)))
    return text + "\n", signatures


def checkpoint_text(origin: str, tree_size: int, root_hash: bytes) -> str:
    """The C2SP tlog-checkpoint body: origin, tree size, base64 root hash."""
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    tree_size: int
    root_hash: bytes


def parse_checkpoint(text: str) -> CheckpointBody:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint is an origin line, a tree size line and a root hash line")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError(f"the tree size {size!r} is not a decimal number")
    raw = _b64(root)
    if len(raw) != 32:
        raise NoteError("the root hash is not 32 bytes")
    return CheckpointBody(origin, int(size), raw)


def _three(text: str, what: str) -> tuple[str, str, str]:
    parts = text.split("+", 2)
    if len(parts) != 3 or len(parts[1]) != 8:
        raise NoteError(f"a {what} is <name>+<8 hex digits>+<base64 key>")
    return parts[0], parts[1], parts[2]


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"not base64: {text[:20]!r}") from None
