"""What a server's start costs: once the sentence encoder is compiled (by the training),
serving the assistant loads neither transformers nor scikit-learn nor scipy.stats, which
took most of a start (docs/nlu.md, "Pretrained language models, offline")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

STARTS = """
import sys
from pathlib import Path
from parlez.server.run import ServeOptions, build_state
build_state(
    ServeOptions(project=Path(sys.argv[1]), model=Path(sys.argv[2]), train_if_missing=False),
    say=lambda *_: None,
)
print("loaded:", [m for m in ("transformers", "sklearn", "scipy.stats") if m in sys.modules])
"""


def test_serving_the_trained_assistant_imports_no_training_library(
    assistant_models: Path,
) -> None:
    started = subprocess.run(
        [sys.executable, "-c", STARTS, str(REPO), str(assistant_models)],
        cwd=REPO,
        env=os.environ.copy(),  # the suite's cache folder, which the training filled
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert started.returncode == 0, started.stderr[-3000:]
    assert "loaded: []" in started.stdout.splitlines(), started.stdout
