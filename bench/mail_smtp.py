"""Messages per second through the SMTP listener, end to end: from the client's connection
to the 250 that `caredesk smtpd` answers only once the message and its case are committed.

    .venv/bin/python bench/mail_smtp.py [--messages 2000] [--clients 4] [--smoke] [--strict]

A real `caredesk smtpd` of a fresh SQLite instance; several smtplib clients in processes
of their own, each on one kept connection, send a mix of the test corpus (every client's
mail, legacy charsets, attachments, auto-replies, bounces, replies) and plain new inquiries,
each with a Message-ID of its own. Afterwards every message is checked to be stored once.

Target on a 2-core machine: at least 300 messages/s on SQLite.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import smtplib
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, Instance, free_port, machine, percentile, sqlite_instance

TARGET = 300.0
CORPUS = ROOT / "tests" / "mail_corpus"
_MESSAGE_ID = re.compile(rb"^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE)


def _inquiry(i: int) -> bytes:
    return (
        f"From: Customer {i % 200} <customer{i % 200}@meridian-credit.example>\r\n"
        "To: customercare@livevox.com\r\n"
        f"Subject: Dialer stopped placing calls on NA4 ({i})\r\n"
        "Date: Thu, 26 Nov 2026 09:00:00 -0500\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Since 09:40 ET the Early Stage campaign shows agents ready but no calls.\r\n"
    ).encode()


def mix(count: int) -> list[bytes]:
    """`count` messages: the corpus in turn with new inquiries between, each with its own
    Message-ID so none is a duplicate of another."""
    corpus = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    messages = []
    for i in range(count):
        raw = corpus[(i // 2) % len(corpus)] if corpus and i % 2 else _inquiry(i)
        head, sep, body = (
            raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
        )
        head = _MESSAGE_ID.sub(b"", head + b"\n").rstrip(b"\n")
        newline = b"\r\n" if sep == b"\r\n\r\n" else b"\n"
        messages.append(
            f"Message-ID: <bench-{i}@bench.example>".encode() + newline + head + sep + body
        )
    return messages


def client_run(port: int, messages: list[bytes], start_at: float) -> tuple[list[float], list[str]]:
    """One sending server: a kept connection, messages back to back."""
    client = smtplib.SMTP("127.0.0.1", port, timeout=60)
    client.ehlo("bench.example")
    latencies, errors = [], []
    time.sleep(max(0.0, start_at - time.time()))
    for raw in messages:
        began = time.perf_counter()
        try:
            client.sendmail("sender@bench.example", ["customercare@livevox.com"], raw)
        except smtplib.SMTPException as exc:
            errors.append(str(exc)[:200])
        latencies.append(time.perf_counter() - began)
    client.quit()
    return latencies, errors


def measure(
    instance: Instance, *, count: int, clients: int, processes: int
) -> dict[str, float | int | str]:
    instance.prepare()
    instance.caredesk("user", "add", "customer0@meridian-credit.example", "--role", "customer",
                      "--org", "Meridian Credit")  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "caredesk",
            "smtpd",
            "--port",
            str(port),
            "--processes",
            str(processes),
        ],
        env=instance.env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "caredesk smtpd: SMTP on …": listening
        startup_cpu = _cpu_seconds(server.pid)
        messages = mix(count)
        shares = [messages[k::clients] for k in range(clients)]
        start_at = time.time() + 1.0
        clients_before = _children_cpu()
        with multiprocessing.get_context("fork").Pool(clients) as pool:
            began = time.time()
            results = pool.starmap(client_run, [(port, s, start_at) for s in shares])
            elapsed = time.time() - max(began, start_at)
        clients_cpu = _children_cpu() - clients_before
    finally:
        server.terminate()
        # wait4: the listener's CPU time, its forked processes' included.
        _, _, usage = os.wait4(server.pid, 0)
        server.returncode = 0
    listener_cpu = usage.ru_utime + usage.ru_stime - startup_cpu
    latencies = [x for lat, _ in results for x in lat]
    errors = [e for _, errs in results for e in errs]
    stored = int(
        instance.caredesk(
            "shell", "-c",
            "from caredesk.mail.models import InboundEmail as I;"
            " print(I.objects.filter(message_id__startswith='bench-').count())",
        ).split()[-1]
    )  # fmt: skip
    return {
        "messages": count,
        "stored": stored,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "rate": (count - len(errors)) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "listener_cpu_ms": listener_cpu / count * 1000,
        "client_cpu_ms": clients_cpu / count * 1000,
    }


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2, help="caredesk smtpd --processes")
    parser.add_argument("--smoke", action="store_true", help="200 messages, for bench/run.py")
    parser.add_argument("--strict", action="store_true", help="exit 1 below the target")
    args = parser.parse_args()
    count = 200 if args.smoke else args.messages
    print(
        f"SMTP intake end to end, SQLite, {args.processes} listener processes,"
        f" {args.clients} clients, {count} messages; {machine()}"
    )
    with sqlite_instance() as instance:
        result = measure(instance, count=count, clients=args.clients, processes=args.processes)
    print(
        f"  {result['rate']:.0f} messages/s (target {TARGET:.0f}); per message p50"
        f" {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms;"
        f" {result['stored']} of {count} stored, {result['errors']} refused"
    )
    listener, client = float(result["listener_cpu_ms"]), float(result["client_cpu_ms"])
    print(
        f"  CPU per message: listener {listener:.1f} ms, clients {client:.1f} ms; on"
        f" {os.cpu_count()} idle cores that allows about"
        f" {(os.cpu_count() or 1) * 1000 / (listener + client):.0f} messages/s"
    )
    if result["errors"]:
        print(f"  first refusal: {result['first_error']}")
    if result["stored"] != count - int(result["errors"]):
        print("  FAILED: a message answered 250 is not stored, or stored twice")
        return 1
    if float(result["rate"]) < TARGET:
        print(f"  below the target of {TARGET:.0f} messages/s")
        return 1 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
