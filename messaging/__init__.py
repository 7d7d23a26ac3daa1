"""Rendering: message templates, SMS segment counting, the discreet-wording check."""
