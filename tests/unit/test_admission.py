"""Live streams are admitted up to a global, a per-student and a per-anonymous-address cap."""

from reglab.live import StreamSlots


def test_streams_past_the_global_or_the_per_address_cap_are_refused_with_a_reason() -> None:
    gate = StreamSlots(total=3, per_user=5, per_address=2)
    a, b, c = (StreamSlots.key(None, address) for address in "abc")
    assert gate.enter(a) is None and gate.enter(a) is None
    refused = gate.enter(a)
    assert refused is not None and "from your address" in refused
    assert gate.enter(b) is None
    full = gate.enter(c)
    assert full is not None and "3 live streams open" in full
    gate.leave(a)
    assert gate.enter(c) is None
    for key in (a, b, c):
        gate.leave(key)
    assert gate.count == 0 and gate.enter(a) is None


def test_named_students_behind_one_address_each_have_their_own_cap() -> None:
    gate = StreamSlots(total=100, per_user=2, per_address=2)
    # Forty students behind one NAT: the address cap does not apply to named streams.
    students = [StreamSlots.key(f"student{i}", "10.0.0.1") for i in range(40)]
    assert all(gate.enter(key) is None for key in students)
    assert gate.enter(students[0]) is None
    refused = gate.enter(students[0])
    assert refused is not None and "under your name" in refused
    # An anonymous stream from that address is still held to the address cap.
    anonymous = StreamSlots.key(None, "10.0.0.1")
    assert gate.enter(anonymous) is None and gate.enter(anonymous) is None
    assert gate.enter(anonymous) is not None
    assert gate.count == 43
