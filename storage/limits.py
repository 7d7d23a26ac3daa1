"""Column widths shared by several tables, so a denormalised copy always fits.

Plain numbers, apart from the models, so the service's input checks can read them
without loading SQLAlchemy.
"""

REFERENCE_LENGTH = 32
CODE_LENGTH = 64
OBLIGATION_KEY_LENGTH = 128
VOCABULARY_LENGTH = 32
EMAIL_LENGTH = 320
E164_LENGTH = 16
EVENT_ID_LENGTH = 64
ACTOR_LENGTH = 200
DISPLAY_NAME_LENGTH = 100
# A BCP 47 language tag as kept (en, cy; room for a region such as pt-BR).
LANGUAGE_LENGTH = 16
