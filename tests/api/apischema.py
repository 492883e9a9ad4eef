"""Check API answers against docs/api/openapi.yaml (the schemas of its components).

Uses openapi-schema-validator when it is installed; without it, conforms()
returns None and the callers say that the schema check did not run.
"""
import os

try:
    import yaml
    from openapi_schema_validator import OAS30Validator
except ImportError:  # pragma: no cover - depends on the host
    OAS30Validator = None

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "api",
                    "openapi.yaml")
_components = None

# What each GET answers with.
GET_SCHEMAS = {
    "/vm": {"$ref": "#/components/schemas/VmInfo"},
    "/machine-config": {"$ref": "#/components/schemas/MachineConfig"},
    "/boot-source": {"$ref": "#/components/schemas/BootSource"},
    "/drives": {"type": "array", "items": {"$ref": "#/components/schemas/DriveInfo"}},
    "/network-interfaces": {"type": "array",
                            "items": {"$ref": "#/components/schemas/NetworkInterfaceInfo"}},
    "/rng": {"$ref": "#/components/schemas/Rng"},
    "/metrics": {"$ref": "#/components/schemas/Metrics"},
}
ERROR = {"$ref": "#/components/schemas/Error"}


def available():
    return OAS30Validator is not None


def conforms(schema, instance):
    """None when the validator is not installed, else a list of problems (empty: fine)."""
    global _components
    if OAS30Validator is None:
        return None
    if _components is None:
        with open(SPEC) as f:
            _components = yaml.safe_load(f)["components"]
    root = dict(schema, components=_components)
    return [e.message for e in OAS30Validator(root).iter_errors(instance)]


def spec_problems():
    """None when the spec validator is not installed, else what is wrong with openapi.yaml."""
    try:
        from openapi_spec_validator import validate
    except ImportError:  # pragma: no cover - depends on the host
        return None
    with open(SPEC) as f:
        spec = yaml.safe_load(f)
    try:
        validate(spec)
    except Exception as e:  # noqa: BLE001 - the validator's own error types vary by version
        return [str(e).splitlines()[0]]
    return []


def check_gets(api):
    """GET every path with a JSON answer; return the problems found (None: not checked)."""
    if not available():
        return None
    problems = []
    for path, schema in GET_SCHEMAS.items():
        st, body, _ = api.get(path)
        if st != 200:
            problems.append(f"GET {path}: {st}")
            continue
        problems += [f"GET {path}: {p}" for p in conforms(schema, body)]
    return problems
