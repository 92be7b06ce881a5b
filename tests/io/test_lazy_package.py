"""A package registered by `lazy_package` imports a name its `__init__` takes from a submodule
with that submodule alone, and runs the whole `__init__` for any other name, so the package
still works in full."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from parlez.io.lazy_package import lazy_package
from tests.conftest import write

NAME = "parlez_test_lazy_pkg"


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    """A package whose `__init__` imports a light server and a heavy client, as
    python-socketio's does; each submodule notes in `loaded` that it ran."""
    folder = tmp_path / NAME
    write(folder / "loaded.py", "names = []\n")
    write(
        folder / "__init__.py",
        """
        from .server import Server
        from .client import Client as HeavyClient
        from . import loaded
        loaded.names.append("__init__")
        VERSION = "1.0"
        try:
            from .optional import Missing
        except ImportError:
            Missing = None
        """,
    )
    write(
        folder / "server.py",
        """
        from . import loaded
        from . import helpers
        loaded.names.append("server")
        class Server:
            helper = helpers.HELP
        """,
    )
    write(folder / "helpers.py", "HELP = 'help'\n")
    write(
        folder / "client.py",
        "from . import loaded\nloaded.names.append('client')\nclass Client: ...\n",
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield folder
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == NAME or m.startswith(f"{NAME}.")]:
            del sys.modules[name]


def _loaded() -> list[str]:
    return list(sys.modules[f"{NAME}.loaded"].names)


def test_a_name_from_a_submodule_imports_that_submodule_alone(package: Path) -> None:
    lazy = lazy_package(NAME)
    import parlez_test_lazy_pkg

    assert parlez_test_lazy_pkg is lazy
    assert lazy.Server.helper == "help"  # its own `from . import helpers` works too
    assert _loaded() == ["server"]
    assert f"{NAME}.client" not in sys.modules


def test_any_other_name_runs_the_whole_init(package: Path) -> None:
    lazy = lazy_package(NAME)
    assert lazy.VERSION == "1.0"
    assert _loaded() == ["server", "client", "__init__"]
    assert lazy.HeavyClient.__name__ == "Client" and lazy.Missing is None
    with pytest.raises(AttributeError):
        _ = lazy.Nothing


def test_an_aliased_name_is_its_submodules_object(package: Path) -> None:
    lazy = lazy_package(NAME)
    assert lazy.HeavyClient is sys.modules[f"{NAME}.client"].Client
    assert "__init__" not in _loaded()


def test_a_package_imported_already_is_given_back(package: Path) -> None:
    import parlez_test_lazy_pkg

    assert lazy_package(NAME) is parlez_test_lazy_pkg
    assert "__init__" in _loaded()


def test_the_socketio_server_loads_without_the_clients_libraries() -> None:
    # run in a new interpreter: this one may have imported them for other tests
    import subprocess

    code = (
        "import sys, parlez.channels.socketio as c; c.socketio.AsyncServer(async_mode='sanic');"
        "print(sorted({'aiohttp', 'requests', 'redis'} & set(sys.modules)))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_a_package_installed_without_its_source_is_imported_whole(package: Path) -> None:
    import py_compile

    init = package / "__init__.py"
    py_compile.compile(str(init), cfile=str(package / "__init__.pyc"), doraise=True)
    init.unlink()  # only the compiled file: nothing to read the names from
    lazy = lazy_package(NAME)
    assert lazy.VERSION == "1.0" and "__init__" in _loaded()
