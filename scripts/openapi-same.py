#!/usr/bin/env python3
"""Whether two forms of the OpenAPI document say the same to clients: both are fully
dereferenced and compared, so moving something into a component (or back) is no change.

    scripts/openapi-same.py OLD NEW
    scripts/openapi-same.py <(git show main:Sources/GateAPI/Resources/openapi.json) \\
        Sources/GateAPI/Resources/openapi.json

Each argument is a JSON file, or Swift source holding the document as its raw string
literal (`static let json = #\"\"\"` … `\"\"\"#`, the form before the document was a file).
A `$ref` takes the keys beside it as overrides (OpenAPI 3.1 `description`/`summary`);
an `allOf` of object schemas is merged, `unevaluatedProperties: false` read as
`additionalProperties: false`. Prints the differences by JSON pointer; exits 0 when
there are none, 1 otherwise. Standard library only.
"""
import json
import sys


def load(path):
    text = open(path, encoding="utf-8").read()
    if not text.lstrip().startswith("{"):
        lines = text.split("\n")
        start = next(i for i, line in enumerate(lines) if line.rstrip().endswith('json = #"""'))
        end = lines.index('"""#', start)
        text = "\n".join(lines[start + 1:end])
    return json.loads(text)


def resolve(document, reference):
    value = document
    for key in reference[2:].split("/"):
        value = value[key.replace("~1", "/").replace("~0", "~")]
    return value


def dereference(document, value, depth=0):
    if depth > 64:
        raise RuntimeError("references nest too deep (a cycle?)")
    if isinstance(value, list):
        return [dereference(document, item, depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    if isinstance(value.get("$ref"), str):
        target = dereference(document, resolve(document, value["$ref"]), depth + 1)
        beside = {k: dereference(document, v, depth + 1) for k, v in value.items() if k != "$ref"}
        return merged({**target, **beside}) if isinstance(target, dict) else target
    # A discriminator's mapping holds references as text; they are compared as text.
    return merged({k: v if k == "discriminator" else dereference(document, v, depth + 1) for k, v in value.items()})


def merged(schema):
    parts = schema.get("allOf")
    if isinstance(parts, list) and all(isinstance(p, dict) and p.get("type", "object") == "object" for p in parts):
        result = {k: v for k, v in schema.items() if k != "allOf"}
        properties, required = {}, []
        for part in map(merged, parts):
            for key, value in part.items():
                if key == "properties":
                    properties.update(value)
                elif key == "required":
                    required += [name for name in value if name not in required]
                elif key not in result:
                    result[key] = value
        if properties:
            result["properties"] = properties
        if required:
            result["required"] = required
        schema = result
    if schema.get("unevaluatedProperties") is False:
        schema = {k: v for k, v in schema.items() if k != "unevaluatedProperties"}
        schema["additionalProperties"] = False
    return schema


def differences(old, new, pointer, found):
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            here = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
            if key not in new:
                found.append(f"{here}: only in the old document")
            elif key not in old:
                found.append(f"{here}: only in the new document")
            else:
                differences(old[key], new[key], here, found)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new)):
            differences(a, b, f"{pointer}/{index}", found)
    elif old != new:
        found.append(f"{pointer}: {json.dumps(old)[:160]} became {json.dumps(new)[:160]}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old, new = load(sys.argv[1]), load(sys.argv[2])
    found = []
    # What clients read: everything but the components, which only serve the rest...
    for key in sorted((set(old) | set(new)) - {"components"}):
        differences(dereference(old, old.get(key)), dereference(new, new.get(key)), f"#/{key}", found)
    # ...but for the security schemes, and the schemas a client may name.
    for kind in ("securitySchemes", "schemas"):
        entries = old.get("components", {}).get(kind, {})
        for name, value in entries.items():
            other = new.get("components", {}).get(kind, {}).get(name)
            if other is None:
                found.append(f"#/components/{kind}/{name}: only in the old document")
            else:
                differences(dereference(old, value), dereference(new, other), f"#/components/{kind}/{name}", found)
    print("\n".join(found) if found else "the same once dereferenced")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
