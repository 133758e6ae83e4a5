"""``python _tune_worker.py tune ...``: the serbench CLI with the test-only ``slow_svm``.

A worker process of the multi-worker tests: the installed plugins plus
:mod:`_tune_slow_model`, registered through the same hook a third party uses.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _tune_slow_model import SLOW_SVM  # noqa: E402

from serbench import hookimpl, plugins  # noqa: E402
from serbench.cli import main  # noqa: E402


@hookimpl
def register_models(register):
    register(SLOW_SVM)


if __name__ == "__main__":
    extra = types.SimpleNamespace(register_models=register_models)
    plugins._cached = plugins.Registry(plugins.make_plugin_manager(
        extra_plugins=[("slow_svm", extra)]))
    main(sys.argv[1:])
