"""The README's Python example prints what the README says it prints."""

import re
import subprocess
import sys

from conftest import ROOT


def test_the_readme_example_prints_its_output():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    expected = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr
    assert p.stdout == expected
