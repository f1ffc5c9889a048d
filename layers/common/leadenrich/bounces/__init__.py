"""Bounce and complaint feedback from the sending tools a workspace uses (docs/bounces.md): what a bounce is
(`models`), what it changes in a stored result (`rules`), the ports of the stores it changes (`ports`), the
workspace's verification material (`sources`) and the effects in order (`service`). Free of HTTP, AWS and
SQL: the providers' webhooks are read in `leadenrich.webhooks.bounces`, the stores in the adapters."""
