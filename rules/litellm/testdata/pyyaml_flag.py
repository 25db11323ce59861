"""The oracle of the PyYAML differential test (pyyaml_diff_test.go).

Reads base64 inputs, one per line, on stdin and prints, one per line, what LiteLLM
makes of each: "error" when yaml.safe_load raises or the proxy cannot start with it
(empty document, top level or a settings section not a mapping), else the value
PrismaDBExceptionHandler.should_allow_request_on_db_unavailable reads from
general_settings.allow_requests_on_db_unavailable: "true", "false", or "env" when it
is an os.environ/ reference (the Go side knows no environment in this test).
"""
import base64
import sys

import yaml


def str_to_bool(v):
    s = v.strip().lower()
    return True if s == "true" else False if s == "false" else None


def outcome(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "error"
    try:
        cfg = yaml.safe_load(text)
    except Exception:  # noqa: BLE001 - any raise (RecursionError too) is "does not load"
        return "error"
    if not isinstance(cfg, dict):
        return "error"
    for sec in ("general_settings", "litellm_settings", "environment_variables"):
        v = cfg.get(sec)
        if v is not None and not isinstance(v, dict) and bool(v):
            return "error"
    gs = cfg.get("general_settings")
    if not isinstance(gs, dict):
        return "false"
    v = gs.get("allow_requests_on_db_unavailable", False)
    if isinstance(v, str) and v.startswith("os.environ/"):
        # get_secret: an oidc/ reference is a token, never "true".
        return "false" if v.replace("os.environ/", "").startswith("oidc/") else "env"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and str_to_bool(v) is True:
        return "true"
    return "false"


def main():
    out = []
    for line in sys.stdin:
        out.append(outcome(base64.b64decode(line.strip())))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
