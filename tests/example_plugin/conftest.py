# Only for serbench's own repository, not part of the example: serbench's test run
# collects these tests only while the example is installed (tests/test_example_plugin.py
# installs it); a real plugin has no such file.
from importlib import metadata

try:
    metadata.distribution("serbench-example-mlp")
    collect_ignore: list[str] = []
except metadata.PackageNotFoundError:
    collect_ignore = ["tests"]
