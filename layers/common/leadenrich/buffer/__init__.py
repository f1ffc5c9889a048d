"""The lead buffer (issue 15, part 1; docs/buffer.md): leads pushed per namespace (a campaign), served one at
a time to callers that each get a different lead, enriched first when they hold no active address, and a
served-leads registry so no namespace gets the same lead twice.

`models` holds the lead record later parts build on (the enrichment record of seed 002 included), `ports`
the store port every adapter implements (DynamoDB, SQLite, Supabase), `rows` what the adapters encode the
same way, `requests` and `views` the API's shapes, `service` the rules, `enrichment` how a lead is enriched
on the request path, and `person` the single-person look-up by email behind `POST /enrich`. Nothing here
imports AWS, HTTP or SQL.
"""
