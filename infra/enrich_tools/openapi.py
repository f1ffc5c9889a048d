"""Write the API's OpenAPI document, generated from the handler's routes and models.

    python -m enrich_tools.openapi            # rewrites docs/openapi.json
A test fails when the committed document and the code disagree (`make openapi` mends it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def render() -> str:
    import handle_api

    schema = json.loads(handle_api.app.get_openapi_json_schema())
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    sys.path.insert(0, str(DOCUMENT.parents[1] / "functions" / "api"))
    DOCUMENT.write_text(render(), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
