"""The database: models, migrations, summary upkeep, read rules compiled to SQL."""

# Every table joins the one metadata whichever storage module is imported first (the
# migrations and create_all read it): the report summaries and the victims' sign-in
# tables refer to storage.models' tables, so they are imported after it, here, rather
# than from the bottom of storage.models (which made the three files a cycle).
from storage import models as models
from storage import report_models as report_models
from storage import victim_models as victim_models
