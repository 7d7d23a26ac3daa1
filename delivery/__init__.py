"""The send path, written once: a message's channel, its outbox row, the provider, the outcome.

`delivery.send` holds the steps every send takes; `delivery.outbox` the port the rows are
kept behind, with its in-memory implementation (the rehearsal's). The SQL outbox is
`storage.outbox.SqlOutbox`, handed in by the activities and the sign-in code's send.
"""
