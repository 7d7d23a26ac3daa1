"""The case book driven in process: many cases on one discrete-event clock.

The same rules as the Temporal workflow (every decision is the case book's), the same
message renderer and the same simulated delivery; no server, no database.
"""
