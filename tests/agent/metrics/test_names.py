from sabamon.agent.metrics.names import sanitize_name


def test_spec_example_one_underscore_per_character() -> None:
    assert sanitize_name("abc*defあ.ggg") == "abc_def__ggg"


def test_safe_characters_are_kept() -> None:
    assert sanitize_name("sda1_x-Y") == "sda1_x-Y"
    assert sanitize_name("mapper/vg0-home") == "mapper_vg0-home"
    assert sanitize_name("/") == "_"
