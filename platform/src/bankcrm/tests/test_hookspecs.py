import inspect
from pathlib import Path

from bankcrm import hookdoc

DOCS = Path(__file__).resolve().parents[4] / "docs" / "hooks.md"


def test_every_hook_has_a_contract() -> None:
    hooks = hookdoc.hook_functions()
    assert len(hooks) >= 15
    undocumented = [name for name, fn in hooks if len(inspect.getdoc(fn) or "") < 40]
    assert not undocumented, f"hooks without a documented contract: {undocumented}"


def test_every_hook_is_typed() -> None:
    for name, function in hookdoc.hook_functions():
        signature = inspect.signature(function)  # type: ignore[arg-type]
        assert signature.return_annotation is not inspect.Signature.empty, name
        for parameter in signature.parameters.values():
            assert parameter.annotation is not inspect.Parameter.empty, (name, parameter.name)


def test_generated_reference_is_current() -> None:
    assert DOCS.read_text() == hookdoc.render(), (
        "docs/hooks.md is stale: run `uv run python -m bankcrm.hookdoc > docs/hooks.md`"
    )
