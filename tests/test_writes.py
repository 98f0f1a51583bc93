"""Every write of the API has its place when a branch is run by an edge (sync/writes.py)."""

import ast
import importlib
import pathlib

import protocol
from protocol import commands
from sync import writes

HANDLERS = pathlib.Path(protocol.__file__).parent / "handlers"


def _written_once():
    """(file, module.function) of every ``write_once(module.function, ...)`` in the handlers."""
    for path in sorted(HANDLERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "write_once"):
                target = node.args[0]
                assert isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name), \
                    "%s: write_once takes module.function" % path.name
                yield path.name, "%s.%s" % (target.value.id, target.attr)


def test_every_write_once_is_placed():
    seen = list(_written_once())
    assert len(seen) > 30
    for filename, name in seen:
        module, _, function = name.partition(".")
        fn = getattr(importlib.import_module("protocol." + module), function)
        assert fn in writes.WRITES, "%s: %s is not in sync/writes.py" % (filename, name)


def test_an_edge_runs_every_command_by_its_name_and_nothing_else():
    for fn, where in writes.WRITES.items():
        assert (writes.COMMANDS.get(commands.kind_of(fn)) is fn) == (where == writes.COMMAND)
    assert "protocol.customers.save" not in writes.COMMANDS


def test_the_rider_apps_writes_are_placed_and_made_as_the_rider():
    written = {name for filename, name in _written_once() if filename == "partner.py"}
    assert {"partner.%s" % fn.__name__ for fn in writes.BY_RIDER} == written
    assert writes.BY_RIDER <= set(writes.WRITES)
