#!/usr/bin/env python3
"""Validate JSON documents against one of schemas/*.schema.json (draft 2020-12), with python3-jsonschema.

usage: schema_check.py SCHEMA FILE...   exit 0 when every FILE validates, 1 otherwise (each error named
with its place in the document), 77 when the jsonschema module is missing.
"""
import json
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    print("SKIP: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(77)


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    bad = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:10]:
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            print(f"{path}: {where}: {e.message[:300]}", file=sys.stderr)
        if errors:
            bad += 1
    print(f"{sys.argv[1]}: {len(sys.argv) - 2 - bad} of {len(sys.argv) - 2} documents valid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
