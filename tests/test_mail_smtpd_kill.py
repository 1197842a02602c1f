"""Killing `caredesk smtpd` (SIGKILL) in the middle of intake loses no message and stores
none twice: every message a client saw 250 for is stored once, and the messages it sent
again after a dropped connection or a refusal are stored once too. Runs a real instance
(its own data dir; on PostgreSQL its own database) and real smtplib clients."""

from __future__ import annotations

import contextlib
import json
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from instances import caredesk, scratch_postgres
from instances import instance_env as _env
from mail_helpers import eml
from mail_servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
MESSAGES, CLIENTS, KILLS = 150, 4, 4


class Smtpd:
    """`caredesk smtpd` as a child process that the test kills and starts again."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.port = env, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "caredesk", "smtpd", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=60)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def _deliver(port: int, raw: bytes, tries: list[int]) -> None:
    """Send until the listener answers 250, as a mail server does with its queue."""
    while True:
        tries.append(1)
        try:
            client = smtplib.SMTP("127.0.0.1", port, timeout=30)
            client.sendmail("alice@acme.test", ["customercare@livevox.com"], raw)
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)  # refused, cut off, or 451: the message stays with the sender
            continue
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.quit()
        return


def _kill_during_intake(env: dict[str, str]) -> None:
    caredesk(env, "setup", "--no-demo")
    caredesk(env, "user", "add", "alice@acme.test", "--role", "customer", "--org", "Acme")
    server = Smtpd(env)
    server.start()
    messages = [
        # A sender of its own each: intake holds back a single sender's flood of new cases.
        eml(
            sender=f"c{i}@acme.test",
            subject=f"Dialer question {i}",
            message_id=f"<kill-{i}@acme.test>",
        )
        for i in range(MESSAGES)
    ]
    accepted: list[int] = []
    tries: list[int] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for i in range(k, MESSAGES, CLIENTS):
            _deliver(server.port, messages[i], tries)
            with lock:
                accepted.append(i)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    kills = 0
    try:
        # Kill the listener whenever another fifth of the messages has been accepted, so
        # every kill lands while clients are in the middle of sending and committing.
        while kills < KILLS and any(t.is_alive() for t in threads):
            if len(accepted) >= (kills + 1) * MESSAGES // (KILLS + 1):
                server.kill()
                kills += 1
                server.start()
            time.sleep(0.01)
        for thread in threads:
            thread.join(timeout=300)
    finally:
        server.stop()
    assert kills == KILLS
    assert sorted(accepted) == list(range(MESSAGES))
    assert len(tries) > MESSAGES, "some deliveries were cut off and sent again"

    stored = json.loads(  # the last line: the shell prints a banner first
        caredesk(
            env,
            "shell",
            "-c",
            "import json; from caredesk.mail.models import InboundEmail as I;"
            " from caredesk.tickets.models import Ticket as T;"
            " print(json.dumps({'ids': list(I.objects.values_list('message_id', flat=True)),"
            " 'subjects': list(T.objects.values_list('subject', flat=True))}))",
        ).splitlines()[-1]
    )
    assert sorted(stored["ids"]) == sorted(f"kill-{i}@acme.test" for i in range(MESSAGES))
    assert sorted(stored["subjects"]) == sorted(f"Dialer question {i}" for i in range(MESSAGES))


def test_killing_the_listener_loses_nothing_on_sqlite(tmp_path: Path) -> None:
    _kill_during_intake(_env(tmp_path))


@pytest.mark.postgres
def test_killing_the_listener_loses_nothing_on_postgres(tmp_path: Path) -> None:
    with scratch_postgres("smtpd_kill") as url:
        _kill_during_intake(_env(tmp_path, url))


def _two_listeners(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    """`caredesk smtpd` forking two listener processes on `port`; its first line says so."""
    return subprocess.Popen(
        [sys.executable, "-m", "caredesk", "smtpd", "--port", str(port), "--processes", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_forked_listener_processes_share_the_port_and_die_with_their_parent(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path)
    caredesk(env, "setup", "--no-demo")
    port = free_port()
    parent = _two_listeners(env, port)
    try:
        assert parent.stdout is not None
        assert "(2 processes)" in parent.stdout.readline()
        tries: list[int] = []
        for i in range(20):
            _deliver(port, eml(subject=f"Fork {i}", message_id=f"<fork-{i}@acme.test>"), tries)
        assert len(tries) == 20, "every message was taken at the first attempt"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    # The children notice within a second that their parent is gone and close the port.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a listener process outlived its parent")
    count = caredesk(
        env,
        "shell",
        "-c",
        "from caredesk.mail.models import InboundEmail as I; print(I.objects.count())",
    ).split()[-1]
    assert count == "20"


def _connections(pid: int, port: int) -> int:
    """Established TCP connections to `port` that process `pid` holds (Linux /proc)."""
    inodes = {
        link.name[len("socket:[") : -1]
        for link in (fd.readlink() for fd in Path(f"/proc/{pid}/fd").iterdir())
        if link.name.startswith("socket:[")
    }
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        held += local_port == port and state == "01" and inode in inodes
    return held


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux /proc")
def test_kept_connections_are_shared_out_between_the_listener_processes(tmp_path: Path) -> None:
    # Sending servers keep their connections: each process must get its share, or one
    # process works for all of them while the other's core idles.
    env = _env(tmp_path)
    caredesk(env, "setup", "--no-demo")
    port = free_port()
    parent = _two_listeners(env, port)
    clients: list[smtplib.SMTP] = []
    try:
        assert parent.stdout is not None
        parent.stdout.readline()  # listening
        (child,) = map(
            int, Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split()
        )
        for _ in range(4):
            clients.append(smtplib.SMTP("127.0.0.1", port, timeout=30))  # waits for the 220
        assert [_connections(pid, port) for pid in (parent.pid, child)] == [2, 2]
        for i, client in enumerate(clients):
            client.sendmail(
                "alice@acme.test", ["customercare@livevox.com"], eml(subject=f"Kept {i}")
            )
    finally:
        for client in clients:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()
        parent.terminate()
        parent.wait(timeout=30)
