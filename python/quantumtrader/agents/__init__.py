"""HMARL: specialist agents over ZeroMQ and their coordinator (issue 11).
So far: the wire format (``messages``) and the transport (``transport``)."""
