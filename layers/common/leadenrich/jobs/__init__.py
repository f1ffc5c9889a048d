"""Jobs, items, the ports the runtime stores them through, and the services that drive them."""
