"""Stand-ins for the outside world, for the tests, the demo and the benches: never product code.

``slack`` is a loopback Slack (Web API, response_urls, Socket Mode, signed requests a person's
clicks would send); ``emulators`` are the three providers' APIs written from their docs;
``world`` wires both to a running bridge; ``demo`` is ``python -m bot demo``. Kept out of the
product's wheel so what ships to production is only the bridge.
"""
