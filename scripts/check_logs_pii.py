"""No personal data in logs: searches log files for the values of tests/pii.txt.

Usage: check_logs_pii.py [--list tests/pii.txt] PATH...

Each PATH is a log file or a directory whose *.log files (recursively) are read. Every value
is looked for as written, with its digits split by `-` or spaces (010-1234-5678), JSON-escaped
(\\ud64d...) and percent-encoded (%ED%99%8D...), case-insensitively. Prints `file:line: keys: line`
for each line with a hit and exits 1 if there is any; exits 2 if there was no log line to check at all,
so that a capture that silently stopped cannot pass.
"""

import argparse
import json
import pathlib
import re
import sys
import urllib.parse


def read_list(path):
    """The (key, value) pairs of a `key value` list; `#` starts a comment line."""
    pairs = []
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if not value.strip():
            sys.exit(f"{path}: `{key}` has no value")
        pairs.append((key, value.strip()))
    return pairs


def pattern(value):
    """One regex for every form of `value` a log could hold."""
    if value.isdigit():
        # Not part of a longer number (an id, a timestamp); separators between any two digits.
        forms = [r"(?<!\d)" + r"[- ]?".join(value) + r"(?!\d)"]
    else:
        forms = [re.escape(value)]
    escaped = json.dumps(value)[1:-1]
    if escaped != value:
        forms.append(re.escape(escaped))
    quoted = urllib.parse.quote(value, safe="")
    if quoted != value:
        forms.append(re.escape(quoted))
    return re.compile("|".join(forms), re.IGNORECASE)


def log_files(paths):
    for path in map(pathlib.Path, paths):
        if path.is_dir():
            yield from sorted(path.rglob("*.log"))
        elif path.exists():
            yield path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", default=str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "pii.txt"))
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    patterns = [(key, pattern(value)) for key, value in read_list(args.list)]
    files = lines = hits = 0
    for path in log_files(args.paths):
        files += 1
        with open(path, encoding="utf-8", errors="replace") as log:
            for number, line in enumerate(log, 1):
                lines += 1
                found = [key for key, regex in patterns if regex.search(line)]
                if found:
                    hits += 1
                    print(f"{path}:{number}: {', '.join(found)}: {line.rstrip()[:300]}")
    print(f"{files} log files, {lines} lines, {len(patterns)} values: {hits} hits", file=sys.stderr)
    if hits:
        return 1
    if lines == 0:
        print("nothing to check: no log lines under " + ", ".join(args.paths), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
