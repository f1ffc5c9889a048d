"""`GET /jobs/{job_id}/items`: a page of a job's items, each with its addresses, less those suppressed since
they were stored (`privacy.withholding`). `items_page` is that read, for every answer that carries a job's
items (this route, the CSV export: `api_routes.uploads`), so none can show what the other withholds."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from api_context import answer, job_service, new_router, run, workspace
from api_responses import API_KEY, KEYED, body, responses
from leadenrich import runtime
from leadenrich.jobs.models import ItemStatus
from leadenrich.jobs.views import ItemsPage, ItemView
from leadenrich.privacy.withholding import withhold_suppressed

router = new_router()


@router.get(
    "/jobs/<job_id>/items",
    operation_id="listItems",
    security=API_KEY,
    tags=["items"],
    responses=responses(
        {200: body(ItemsPage, "A page of the job's items, in item order, each with its addresses")},
        *KEYED,
        404,
    ),
)
def list_items(
    job_id: str,
    status: Annotated[ItemStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    workspace_id = workspace(router.current_event)
    return answer(200, run(items_page(workspace_id, job_id, status=status, limit=limit, cursor=cursor)))


async def items_page(
    workspace_id: str, job_id: str, *, status: ItemStatus | None, limit: int, cursor: str | None
) -> ItemsPage:
    """A page of the workspace's job's items as the API shows them: suppressed addresses withheld, addresses
    pending review held back (`ItemView.from_item`); JobNotFound for another workspace's job."""
    page = await job_service().list_items(workspace_id, job_id, status=status, limit=limit, cursor=cursor)
    items = await withhold_suppressed(runtime.suppressions(), workspace_id, page.items)
    return ItemsPage(items=[ItemView.from_item(i) for i in items], cursor=page.cursor)
