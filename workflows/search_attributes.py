"""The case search attributes, under the name workflows/case.py imports them by.

Defined once in standards.visibility, because the service reads and queries the same keys
and may not import workflows/. This module goes when workflows/case.py imports
standards.visibility itself (it is passed through the sandbox either way).
"""

from standards.visibility import ALL, case_values

__all__ = ["ALL", "case_values"]
