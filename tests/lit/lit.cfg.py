"""lit configuration for spikec's IR tests (tests/lit/**/*.ir).

`spikec-opt` and `filecheck` are substituted by commands run with the Python that runs lit, so the
tests work without either being on PATH and always test this checkout (PYTHONPATH is its root).
"""

import os
import sys

import lit.formats

config.name = "spikec"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".ir"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["lit.cfg.py"]

repository = os.path.dirname(os.path.dirname(config.test_source_root))
config.environment["PYTHONPATH"] = repository + os.pathsep + os.environ.get("PYTHONPATH", "")
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"

python = f'"{sys.executable}"'
config.substitutions.append(("%python", python))
config.substitutions.append(("spikec-opt", f"{python} -m spikec.tools.opt"))
config.substitutions.append(("filecheck", f"{python} -m filecheck"))
