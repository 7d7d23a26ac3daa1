"""The service's infrastructure: the Temporal connection and servers, payload encryption and
the codec server, metrics and logs. The use cases in service/ run on these; none of
these knows a use case."""
