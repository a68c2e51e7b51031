"""Live streams are admitted up to a global and a per-client cap, and counted back out."""

from reglab.live import Admission


def test_streams_past_the_global_or_the_per_client_cap_are_refused_with_a_reason() -> None:
    gate = Admission(total=3, per_client=2)
    assert gate.enter("a") is None and gate.enter("a") is None
    refused = gate.enter("a")
    assert refused is not None and "from your address" in refused
    assert gate.enter("b") is None
    full = gate.enter("c")
    assert full is not None and "3 live streams open" in full
    gate.leave("a")
    assert gate.enter("c") is None
    for client in ("a", "b", "c"):
        gate.leave(client)
    assert gate.count == 0 and gate.enter("a") is None
