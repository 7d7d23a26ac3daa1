"""Compliance reporting: the report, the breach register, case timelines and demo data."""
