"""Messages: rendering templates (rendering), SMS text and segments (sms_text), the
discreet-wording check (discreet)."""
