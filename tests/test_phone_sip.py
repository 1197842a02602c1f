"""Real SIP on loopback: SIPp calls a Kamailio that posts the calls' CTI events to a live
caredesk (tests/sip/), as a PBX bridge would. Needs Debian's kamailio,
kamailio-utils-modules and sip-tester; skipped with the reason when they are absent."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from caredesk.people import services as people
from caredesk.people.coverage import covering_team
from caredesk.people.models import User
from caredesk.phone.models import Call

SIP = Path(__file__).resolve().parent / "sip"
HTTP_CLIENT = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules/http_client.so")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which("kamailio") and shutil.which("sipp") and HTTP_CLIENT.exists()),
        reason="Kamailio with http_client and SIPp are not installed "
        "(apt-get install kamailio kamailio-utils-modules sip-tester)",
    ),
]


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@pytest.fixture
def pbx(live_server: object, manager: User, rep: User, tmp_path: Path) -> Iterator[int]:
    """Kamailio on a free UDP port, posting to this test's live server; its SIP port."""
    rep.extension = "201"
    rep.save(update_fields=["extension"])
    _, token = people.create_token(manager, scope="intake")
    port = _free_udp_port()
    config = (SIP / "kamailio.cfg").read_text()
    config = config.replace("#!SIPPORT!#", str(port))
    config = config.replace("#!CTIURL!#", f"{live_server}/api/v1/cti/{token}")
    (tmp_path / "kamailio.cfg").write_text(config)
    log = (tmp_path / "kamailio.log").open("w")
    proxy = subprocess.Popen(
        ["kamailio", "-f", str(tmp_path / "kamailio.cfg"), "-DD", "-E", "-w", str(tmp_path)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while not _bound(port):
            assert proxy.poll() is None, (tmp_path / "kamailio.log").read_text()
            assert time.monotonic() < deadline, "Kamailio did not bind its port"
            time.sleep(0.1)
        yield port
    finally:
        proxy.terminate()
        try:
            proxy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proxy.kill()
            proxy.wait()
        log.close()


def _call(port: int, dialled: str, tmp_path: Path) -> None:
    done = subprocess.run(
        ["sipp", "-sf", str(SIP / "caller.xml"), "-s", dialled, f"127.0.0.1:{port}",
         "-i", "127.0.0.1", "-p", str(_free_udp_port()), "-m", "1", "-timeout", "20s",
         "-timeout_error", "-nostdin", "-trace_err", "-error_file", str(tmp_path / "sipp.err")],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_sip_call_answered_and_hung_up_is_recorded_on_a_case(
    pbx: int, rep: User, tmp_path: Path
) -> None:
    _call(pbx, "18884773448", tmp_path)
    call = Call.objects.get()
    # The PBX rings in real time: on-site in staffed hours, Emergency Care outside them.
    assert call.started_at is not None
    expected = covering_team("customer-care", at=call.started_at)
    assert (call.caller, call.routed_to, call.outcome) == ("+12125550142", expected, "answered")
    assert call.answered_by == rep and call.ticket is not None
    assert call.duration_seconds is not None and call.duration_seconds >= 1.0  # the pause
    assert call.ticket.channel == "phone"


def test_a_busy_sip_call_is_recorded_as_busy(pbx: int, tmp_path: Path) -> None:
    _call(pbx, "18885550486", tmp_path)
    call = Call.objects.get()
    assert (call.outcome, call.cause, call.ticket) == ("busy", "busy", None)
