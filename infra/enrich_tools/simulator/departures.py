"""`POST /_sim/departures`: people leave their companies, so addresses that verified valid now bounce.

Data decays: a re-verification test needs an address that was deliverable when a job found it and is not
any more. A departure changes the world the way a real one does: the person is marked `left_company` (the
generator's own notion of a former employee), so the Email Verifier answers `invalid` for their address
(on a domain that is not accept-all), Domain Search and the Email Finder stop returning it, and
`/_sim/truth` no longer lists it as a mailbox. Everything else of the world stays.

Body: `{"emails": ["jane.doe@example.com", ...]}` (a person's own address each; a role address has no
person to leave: 400). Answers the addresses departed. A departure lasts until a knob that regenerates the
world is changed (`PATCH /_sim/config` with seed, companies, fixed_date...); `POST /_sim/reset` keeps it,
as it keeps the world.
"""

from __future__ import annotations

import dataclasses
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enrich_tools.simulator.entities import Company
from enrich_tools.simulator.wire import json_response, sim
from enrich_tools.simulator.world import World

MAX_EMAILS = 1000


def depart(world: World, emails: set[str]) -> World:
    """The world with the people owning `emails` gone from their companies."""
    companies: list[Company] = []
    for company in world.companies:
        people = tuple(
            dataclasses.replace(p, left_company=True) if p.email and p.email.lower() in emails else p
            for p in company.people
        )
        companies.append(company if people == company.people else dataclasses.replace(company, people=people))
    return World(world.seed, world.as_of, tuple(companies))


async def departures(request: Request) -> Response:
    state = sim(request)
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    emails = body.get("emails") if isinstance(body, dict) else None
    if not isinstance(emails, list) or not emails or len(emails) > MAX_EMAILS:
        message = f"send {{'emails': [...]}}: 1 to {MAX_EMAILS} addresses"
        return json_response({"error": {"message": message, "param": "emails"}}, 400)
    wanted: set[str] = set()
    for email in emails:
        owner = state.world.mailbox_owner(email) if isinstance(email, str) else None
        if owner is None or owner[1] is None:
            message = f"{email!r} is no person's address in this world"
            return json_response({"error": {"message": message, "param": "emails"}}, 400)
        wanted.add(email.strip().lower())
    state.world = depart(state.world, wanted)
    return json_response({"departed": sorted(wanted)})


routes = [Route("/_sim/departures", departures, methods=["POST"])]

__all__ = ["depart", "routes"]
