import re
import threading

from sabamon.agent.metrics import CollectorOptions, linux_generators

FAMILIES = ["loadavg", "cpu", "memory", "disk", "interface", "filesystem"]


def test_one_full_collection_on_this_machine() -> None:
    options = CollectorOptions(interfaces_ignore=re.compile("^ifb"))
    generators = linux_generators(options)
    assert [generator.name for generator in generators] == FAMILIES
    assert all(generator.custom_identifier is None for generator in generators)
    names = {v.name for g in generators for v in g.generate(0.05, threading.Event())}
    assert {"loadavg1", "loadavg5", "loadavg15", "memory.total", "memory.used"} <= names
    assert "cpu.idle.percentage" in names or not any(n.startswith("cpu.") for n in names)
    assert not any(name.startswith("interface.ifb") for name in names)
    assert any(re.fullmatch(r"filesystem\..+\.size", name) for name in names)
