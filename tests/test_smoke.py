def test_open_and_escalate(api, rep, engineer, alice):
    r = api(rep)
    resp = r.post("/api/v1/tickets", {"subject": "Dialer is broken", "requester": "alice@acme.test"})
    assert resp.status_code == 201, resp.content
    assert resp.json()["number"] == "CASE-100"
    resp = r.post("/api/v1/tickets/CASE-100/escalate", {"to": "technical-support", "reason": "outage"})
    assert resp.status_code == 201, resp.content
    assert resp.json()["number"] == "TSUP-100"
    assert resp.json()["origin"] == "CASE-100"
    print(r.get("/api/v1/tickets").json())
