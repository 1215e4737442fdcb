#!/usr/bin/env python3
"""Re-embeds docs/examples/*.cpp into the pages that name them (between the markers
checked by docs/check_embedded.cmake)."""
import pathlib
import re

docs = pathlib.Path(__file__).resolve().parent
pattern = re.compile(r"(<!-- example: (\S+) -->\n)```cpp\n.*?```\n(<!-- end example -->)", re.S)
for page in sorted(docs.glob("*.md")):
    text = page.read_text()
    new = pattern.sub(lambda m: m.group(1) + "```cpp\n" + (docs / m.group(2)).read_text() +
                      "```\n" + m.group(3), text)
    if new != text:
        page.write_text(new)
        print("updated", page.name)
