"""A Twilio-compatible carrier simulator: REST API, TwiML execution and virtual phones.

It lets the whole callback flow run, be tested and be demoed with no Twilio
account and no network, driven by the official `twilio` library over real
HTTP. Start it with `callback simulator`; see README for the endpoints.
"""
