"""mackerel-agent's command lines, parsed by argparse: Go's `flag` package spellings.

mackerel-agent's commands take Go flags: one or two dashes alike (`-conf=FILE`, `-conf FILE`,
`--conf FILE`), booleans as `-force` or `-force=false` (any `strconv.ParseBool` spelling),
and parsing stops at `--` or at the first argument that is not a flag. Its README, deb unit
(`retire -force --root $ROOT`) and rpm init script (`configtest -conf=...`) use them.
`go_style_argv` rewrites such an argv into argparse's `--name[=value]` form.
"""

from __future__ import annotations

from collections.abc import Collection

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


class GoFlagError(ValueError):
    """A boolean flag with a value `strconv.ParseBool` refuses, e.g. `-force=yes`."""


def go_style_argv(argv: list[str], names: Collection[str], bools: Collection[str]) -> list[str]:
    """`argv` with every known flag (`names`, without dashes) spelt `--name[=value]`.

    A boolean flag (`bools`) given `=false` is dropped (every boolean here defaults to false);
    `=true` keeps the bare flag. Unknown flags are left for argparse to refuse.
    """
    out: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            return out + argv[index:]
        name, eq, value = arg.lstrip("-").partition("=")
        index += 1
        if arg.startswith("---") or name not in names:
            out.append(arg)
        elif name in bools and eq:
            if value not in _TRUE | _FALSE:
                raise GoFlagError(f"invalid boolean value {value!r} for -{name}")
            if value in _TRUE:
                out.append(f"--{name}")
        elif name in bools or eq:
            out.append(f"--{name}{eq}{value}")
        elif index < len(argv):  # `-conf FILE`: the next argument is the value, whatever it is
            out.append(f"--{name}={argv[index]}")
            index += 1
        else:
            out.append(f"--{name}")  # argparse says the value is missing
    return out
