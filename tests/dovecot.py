"""A private Dovecot IMAP server for the poller's tests: its own configuration, passwd-file
user and maildir in a temporary directory, on a free loopback port."""

from __future__ import annotations

import getpass
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from mail_servers import free_port, wait_for_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def missing() -> str | None:
    """Why the IMAP tests cannot run here, or None."""
    if not os.path.exists(DOVECOT):
        return "Dovecot is not installed (apt-get install dovecot-imapd) at /usr/sbin/dovecot"
    return None


@dataclass(frozen=True)
class Imap:
    port: int
    user: str
    password: str
    root: Path

    def url(self, query: str = "") -> str:
        secret = quote(self.password, safe="")
        return f"imap://{self.user}:{secret}@127.0.0.1:{self.port}/INBOX{query}"

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(self.user, self.password)
        return client

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        for raw in messages:
            client.append(folder, None, None, raw)
        client.logout()

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        """Each message's FLAGS response in the folder, in order."""
        client = self.client()
        _, count = client.select(folder, readonly=True)
        if count[0] == b"0":
            client.logout()
            return []
        _, data = client.fetch("1:*", "(FLAGS)")
        client.logout()
        return [item for item in data if isinstance(item, bytes)]


def _first_user(*names: str) -> str:
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise LookupError(f"none of the users {names} exists")


@contextmanager
def dovecot() -> Iterator[Imap]:
    # Its own directory, readable by Dovecot's unprivileged auth process (pytest's tmp_path
    # sits under a directory only its owner may enter).
    root = Path(tempfile.mkdtemp(prefix="caredesk-dovecot-"))
    root.chmod(0o755)
    port, user, password = free_port(), "care", "imap secret"
    me = getpass.getuser()
    # As root, Dovecot runs its login and internal processes as unprivileged users.
    login_user = _first_user("dovenull", "nobody") if os.getuid() == 0 else me
    internal_user = _first_user("dovecot", "nobody") if os.getuid() == 0 else me
    # Dovecot refuses uid 0 for mail: as root the maildir belongs to the internal user.
    owner = pwd.getpwnam(internal_user)
    uid, gid = owner.pw_uid, owner.pw_gid
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("mail", "home"):
        os.chown(root / sub, uid, gid)
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}:{uid}:{gid}::{root}/home/{user}\n")
    config = root / "dovecot.conf"
    config.write_text(
        f"""
instance_name = caredesk-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, timeout=20)
        yield Imap(port, user, password, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
